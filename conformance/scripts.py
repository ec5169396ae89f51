"""Writing a standalone reproducer from a ``trace.Trace``: the helpers of ``standalone`` it
uses, its data (inline when small, an ``.npz`` beside it otherwise), its statements; and running
it with this suite, Hypothesis and pytest impossible to import, to see that it stands alone and
fails as the row did.
"""
import ast
import inspect
import math
import os
import re
import subprocess
import sys

import numpy as np

from . import models, standalone

#: Above this many elements of data in all, the data goes to an ``.npz`` beside the script.
INLINE_ELEMENTS = 4000
#: Modules a reproducer must not import: running it with these blocked shows it is standalone.
SUITE_MODULES = ("conformance", "reference", "hypothesis", "pytest")


def file_stem(result):
    """A file name for a row: check, target, place and dtype, safe on every file system."""
    place = result.device + ("" if result.backend == "default" else f"-{result.backend}") + (
        "" if result.transform == "eager" else f"+{result.transform}")
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", f"{result.check}-{result.target}-{place}-{result.dtype}")


def missing(trace):
    """Why ``trace`` makes no script that can be trusted (None when it does): a call into the
    target it could not write down, or no expectation at all."""
    if trace.incomplete:
        return f"a call into the target could not be written down ({trace.incomplete})"
    if not any("expect_" in code or "call(" in code for code, _, root in trace.statements if root):
        return "the failure was found by code outside torch that the script cannot repeat"
    return None


def written(trace, result, directory, versions):
    """(path of the script, None) once written and seen to fail as the row did, or (None, why
    not): the trace left something out, or the script it made passes."""
    why = missing(trace)
    if why is not None:
        return None, why
    path = write(trace, result, directory, versions)
    status, last = verify(path)
    if status == 1:
        return path, None
    for stale in (path, path[:-3] + ".npz"):
        if os.path.exists(stale):
            os.remove(stale)
    return None, (f"the script made from it exits {status} ({last}): the failure rests on what the script "
                  f"cannot repeat; the replay command reproduces it")


def write(trace, result, directory, versions):
    """Writes ``directory/<row>.py`` (and its ``.npz`` when the data is large); returns the path."""
    os.makedirs(directory, exist_ok=True)
    stem = file_stem(result)
    path = os.path.join(directory, stem + ".py")
    body = trace.kept()
    elements = sum(a.size for a in trace.data.values())
    if elements > INLINE_ELEMENTS:
        np.savez_compressed(os.path.join(directory, stem + ".npz"), **trace.data)
        data = ("DATA = dict(np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "
                f"{stem + '.npz'!r})))")
    else:
        data = "DATA = {\n" + "".join(f"    {k!r}: {_literal(v)},\n" for k, v in trace.data.items()) + "}"
    with open(path, "w") as handle:
        handle.write(_header(result, stem, versions, trace.not_checked))
        handle.write(_prelude("\n".join([data] + body) + "\n" + (_source_of(models) if trace.models else "")))
        if trace.models:
            handle.write("\n\n" + _source_of(models))
        handle.write(f"\nTARGET = {result.target!r}\n{data}\n\n")
        handle.write("\n".join(body) + "\nfinish()\n")
    return path


def _literal(array):
    if array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer):
        values = array.ravel().tolist()
    else:
        values = [v if math.isfinite(v) else str(v) for v in array.astype(np.float64).ravel().tolist()]
    return f"array({str(array.dtype)!r}, {array.shape!r}, {values!r})".replace("'nan'", "np.nan").replace(
        "'inf'", "np.inf").replace("'-inf'", "-np.inf")


def _header(result, stem, versions, not_checked):
    worst = next((line.strip() for line in (result.message or "").splitlines() if "worst element" in line
                  or line.strip().startswith("what:")), "")
    lines = [f"{result.check} on {result.target}, {result.device}"
             + ("" if result.transform == "eager" else f"+{result.transform}") + f" {result.dtype}",
             "", f"Configuration: {result.counterexample}"]
    if result.reason:
        lines.append(f"The suite found: {result.reason}")
    if worst:
        lines.append(f"  {worst}")
    where = "" if result.target.startswith("torch.") else "  Run it from the directory the suite ran in:"
    lines += ["", f"Needs only torch and numpy.{where}", "",
              f"    python {stem}.py [IMPL]", "",
              "Exit status 1 while the failure is there, 0 once it is fixed.  IMPL (package.module:Attr)",
              "replaces the target, e.g. torch's own class, to run the same data through it."]
    if not_checked:
        lines += ["", "Not checked here (made outside torch): " + "; ".join(sorted(set(not_checked)))]
    lines += ["", f"Written by rnn-conformance reproduce ({versions})."]
    return '#!/usr/bin/env python3\n"""Standalone reproducer: ' + "\n".join(lines) + '\n"""\n'


def _prelude(body):
    """The helpers of ``standalone`` that ``body`` (the script's own code) uses, and those they
    use, after its imports."""
    source = _source_of(standalone)
    tree = ast.parse(source)
    imports, helpers = [], {}
    for node in tree.body:
        text = ast.get_source_segment(source, node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        else:
            name = node.name if isinstance(node, ast.FunctionDef) else node.targets[0].id
            helpers[name] = (_leading_comments(source, node) + text, _names_in(node))
    needed, todo = set(), list(_names_in(ast.parse(body))) + list(ALWAYS_HELPERS)
    while todo:
        name = todo.pop()
        if name in helpers and name not in needed:
            needed.add(name)
            todo.extend(helpers[name][1])
    kept = [(name, text) for name, (text, _) in helpers.items() if name in needed]
    constants = [text for name, text in kept if name.isupper()]
    functions = [text for name, text in kept if not name.isupper()]
    return "\n".join(imports) + "\n\n" + "\n".join(constants) + "\n\n\n" + "\n\n\n".join(functions) + "\n"


def _names_in(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


#: Helpers every script has: the target, calls into it, the verdict.
ALWAYS_HELPERS = ("target", "call", "finish", "_fail")


def _leading_comments(source, node):
    """The ``#:`` comment lines just above a top-level statement."""
    lines = source.splitlines()[:node.lineno - 1]
    comments = []
    while lines and lines[-1].startswith("#"):
        comments.insert(0, lines.pop())
    return "".join(line + "\n" for line in comments)


def _source_of(module):
    """A module's source without its docstring."""
    source = inspect.getsource(module)
    return source[source.index('"""', 3) + 3:].lstrip("\n")


def verify(path, impl=None, timeout=300):
    """(exit status, last line of output) of the script (on ``impl`` when given) run with this
    suite, Hypothesis and pytest impossible to import: proof that it stands alone."""
    argv = [path] + ([impl] if impl else [])
    blocker = (f"import sys\nfor name in {SUITE_MODULES!r}:\n    sys.modules[name] = None\n"
               f"sys.argv = {argv!r}\n__file__ = {path!r}\n"
               f"exec(compile(open({path!r}).read(), {path!r}, 'exec'))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=timeout,
                              env=env)
    except subprocess.TimeoutExpired:
        return None, f"did not finish within {timeout} s"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""
