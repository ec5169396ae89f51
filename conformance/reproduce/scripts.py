"""Writing a standalone reproducer from a ``trace.Trace``: the helpers of ``standalone`` it
uses, its data (inline when small, an ``.npz`` beside it otherwise), its statements; and running
it with this suite, Hypothesis and pytest impossible to import, to see that it stands alone and
fails as the row did.
"""
import ast
import contextlib
import functools
import inspect
import json
import math
import os
import re
import select
import signal
import subprocess
import sys

import numpy as np

from .. import errors, models
from . import claims, standalone

#: Above this many elements of data in all, the data goes to an ``.npz`` beside the script.
INLINE_ELEMENTS = 4000
#: Modules a reproducer must not import: running it with these blocked shows it is standalone.
SUITE_MODULES = standalone.SUITE_PACKAGES + ("hypothesis", "pytest")


def file_stem(result):
    """A file name for a row: check, target, place and dtype, safe on every file system."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", f"{result.check}-{result.target}-{result.place}-{result.dtype}")


def missing(trace):
    """Why ``trace`` makes no script that can be trusted (None when it does): a call into the
    target it could not write down, or no expectation at all."""
    if trace.incomplete:
        return f"a call into the target could not be written down ({trace.incomplete})"
    if not any("expect" in code or "call(" in code for code, _, root in trace.statements if root):
        return "the failure was found by code outside torch that the script cannot repeat"
    return None


def written(trace, result, directory, versions):
    """(path of the script, None) once written and seen to fail as the row did (exit 1, and
    restating the row's failing comparison when it failed on one), or (None, why not): the
    trace left something out, or the script it made passes or fails on something else."""
    why = missing(trace)
    if why is not None:
        return None, why
    path = write(trace, result, directory, versions)
    status, lines = runner().run(path, None, VERIFY_TIMEOUT)
    last = lines[-1] if lines else ""
    quantity = failing_quantity(result.message)
    if status == 1 and (quantity is None or any(line.startswith(f"FAIL: {quantity}") for line in lines)):
        return path, None
    for stale in (path, path[:-3] + ".npz"):
        if os.path.exists(stale):
            os.remove(stale)
    if status == 1:
        return None, (f"the script made from it exits 1 ({last}) but does not restate the failing comparison of "
                      f"{quantity}; the replay command reproduces it")
    return None, (f"the script made from it exits {status} ({last}): the failure rests on what the script "
                  f"cannot repeat; the replay command reproduces it")


def failing_quantity(message):
    """The quantity a failure message's worst element names (``grad weight_ih_l0``), or None
    when the row did not fail on a comparison."""
    line = next((line.strip() for line in (message or "").splitlines()
                 if line.strip().startswith("worst element: ")), None)
    if line is None:
        return None
    where = line.removeprefix("worst element: ").split(": ", 1)[0]
    return where.split("[", 1)[0].split(" (", 1)[0]


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
        handle.write(f"\nsys.excepthook = uncaught\nTARGET = {result.target!r}\nRUN_FROM = {os.getcwd()!r}\n"
                     f"SEARCH_PATH = {search_path()!r}\n{data}\n\n")
        handle.write("\n".join(body) + "\nfinish()\n")
    return path


def search_path():
    """The folders of the PYTHONPATH the suite runs with: a script looks for its target there
    too, as the suite did (a source checkout, a monorepo, a stub on PYTHONPATH)."""
    return [folder for folder in os.environ.get("PYTHONPATH", "").split(os.pathsep) if folder]


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
    lines = [f"{result.check} on {result.target}, {result.place} {result.dtype}",
             "", f"Configuration: {result.counterexample}"]
    if result.reason:
        lines.append(f"The suite found: {result.reason}")
    if worst:
        lines.append(f"  {worst}")
    where = "" if result.target.startswith("torch.") else (
        "  It imports the target from the directory it runs in, else from the one the suite ran in (RUN_FROM)"
        + (f", else from the PYTHONPATH the suite ran with ({os.pathsep.join(search_path())}; SEARCH_PATH)"
           if search_path() else "") + ":")
    lines += ["", f"Needs only torch and numpy.{where}", "",
              f"    python {stem}.py [IMPL]", "",
              "Exit status 1 while the failure is there, 0 once it is fixed, 2 when it cannot run (its",
              "target does not import, a file beside it is missing).  IMPL (package.module:Attr)",
              "replaces the target, e.g. torch's own class, to run the same data through it."]
    if not_checked:
        lines += ["", "Not checked here (made outside torch): " + "; ".join(sorted(set(not_checked)))]
    lines += ["", f"Written by rnn-conformance reproduce ({versions})."]
    return '#!/usr/bin/env python3\n"""Standalone reproducer: ' + "\n".join(lines) + '\n"""\n'


def _prelude(body):
    """The helpers of HELPER_MODULES that ``body`` (the script's own code) uses, and those they
    use, after their imports."""
    imports, helpers = _helpers()
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


@functools.lru_cache(maxsize=None)
def _helpers():
    """(the imports of HELPER_MODULES, name -> (source, the names it reads) of each helper)."""
    imports, helpers = [], {}
    for module in HELPER_MODULES:
        source = _source_of(module)
        for node in ast.parse(source).body:
            text = ast.get_source_segment(source, node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports += [text] if text not in imports and not text.startswith("from .") else []
            else:
                name = getattr(node, "name", None) or node.targets[0].id
                helpers.setdefault(name, (_leading_comments(source, node) + text, _names_in(node)))
    return imports, helpers


def _names_in(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


#: Where a script's helpers come from: the standalone helpers, the claims the checks make
#: (``claims``), and the suite's own wording of an exception (``errors.one_line``), which need
#: only torch, numpy and the standard library.
HELPER_MODULES = (standalone, claims, errors)
#: Helpers every script has: the target, calls into it, the verdict.
ALWAYS_HELPERS = ("target", "call", "finish", "_fail", "uncaught")


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


#: Seconds a script may run while it is verified.
VERIFY_TIMEOUT = 300


def verify(path, impl=None, timeout=VERIFY_TIMEOUT):
    """(exit status, last line of output) of the script (on ``impl`` when given) run with this
    suite, Hypothesis and pytest impossible to import: proof that it stands alone.  It runs in a
    child forked from a ``Runner`` that imported torch and numpy once (a fresh interpreter per
    script cost two seconds of imports each); a child that did not finish within ``timeout``
    is killed."""
    status, lines = runner().run(path, impl, timeout)
    return status, lines[-1] if lines else ""


#: What a script's process has before its first line: these modules blocked, torch and numpy imported.
_RUNNER_SOURCE = """
import json, os, sys
for name in {blocked!r}:
    sys.modules[name] = None
import numpy, torch, torch.nn.utils.rnn
for name in ("torch.func", "torch._meta_registrations", "torch.fx.experimental.symbolic_shapes"):
    try:  # what a gradient script loads on first use: once here, not in every child
        __import__(name)
    except ImportError:
        pass
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
for line in sys.stdin:
    path, argv, output = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.stdin.close()
        sys.argv = argv
        code = 0
        try:
            exec(compile(open(path).read(), path, "exec"), {{"__name__": "__main__", "__file__": path}})
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    replies.write(json.dumps(pid) + "\\n")
    replies.flush()
    replies.write(json.dumps(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])) + "\\n")
    replies.flush()
"""


class Runner:
    """A process that runs scripts one at a time, each in a child of its own forked after
    torch and numpy were imported (with SUITE_MODULES blocked), in the directory and
    environment the suite runs in: what the target needs from that environment (a PYTHONPATH,
    a variable of its own) it has when its script is verified, and the script's header says
    where it looks for the target."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", _RUNNER_SOURCE.format(blocked=SUITE_MODULES)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, start_new_session=True)

    def alive(self):
        return self.process.poll() is None

    def run(self, path, impl, timeout):
        """(exit status or None, the lines it printed) of the script at ``path`` (on ``impl``)."""
        output = path + ".out"
        argv = [path] + ([impl] if impl else [])
        try:
            self.process.stdin.write(json.dumps([path, argv, output]) + "\n")
            self.process.stdin.flush()
            child = self._reply(timeout)
            status = self._reply(timeout, child)
        except (OSError, ValueError, TimeoutError) as exc:
            self.close()
            return None, [str(exc) or f"did not finish within {timeout} s"]
        try:
            with open(output) as handle:
                lines = handle.read().strip().splitlines()
            os.remove(output)
        except OSError:
            lines = []
        return status, lines

    def _reply(self, timeout, child=None):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            if child is not None:
                with contextlib.suppress(OSError):
                    os.killpg(child, signal.SIGKILL)
            raise TimeoutError(f"did not finish within {timeout} s" if not ready else "the script runner died")
        return json.loads(line)

    def close(self):
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()


_RUNNERS = []


def runner():
    """This process's script Runner, started on first use (again after one died or was killed);
    a row that may write a script starts it early, so that its imports overlap the row."""
    if not _RUNNERS or not _RUNNERS[0].alive():
        _RUNNERS[:] = [Runner()]
    return _RUNNERS[0]
