"""The helpers of a standalone reproducer, copied verbatim into every script ``scripts``
writes: they need only torch, numpy and the standard library, never this suite.

A script sets TARGET (the import path of the class under test), runs the recorded calls through
``call``, states what torch semantics require of the results with ``expect`` and the claims of ``claims``, and
ends with ``finish()``: exit status 1 while any expectation fails, 0 once all hold, 2 when the
script could not run (its target does not import, a file beside it is missing), said in one line.
"""
import importlib
import os
import signal
import sys
from functools import partial  # noqa: F401 (the recorded calls use it)

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence  # noqa: F401 (the recorded calls use them)

from ..errors import one_line  # a script holds the source of these (``scripts.HELPER_MODULES``), not the imports
from .claims import ClaimFailed

#: Seconds one call into the target may take before it counts as hung.
TIMEOUT = 60
#: Each failed expectation, as the line printed for it.
FAILURES = []
#: How many expectations were checked.
CHECKED = [0]
#: The exit status of a script that could not run: not a verdict on the target.
CANNOT_RUN = 2
#: The suite's packages (a target's module may import its oracle for a Variant): a script runs without them.
#: Declared here, where a script holds it literally; the suite reads it from here too.
SUITE_PACKAGES = ("conformance", "reference")


def target():
    """The class (or factory) under test: the first argument, else TARGET, as
    ``package.module:Attr`` or a dotted path, imported from the working directory, else the one
    the suite ran in (RUN_FROM), else the folders of the PYTHONPATH it ran with (SEARCH_PATH).  One that does not import ends the script with CANNOT_RUN."""
    impl = sys.argv[1] if len(sys.argv) > 1 else TARGET  # noqa: F821 (set by the script)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for folder in [globals().get("RUN_FROM")] + list(globals().get("SEARCH_PATH", ())):  # set by the script
        if folder and folder not in sys.path:
            sys.path.append(folder)
    module_name, sep, attr = impl.partition(":")
    if not sep:
        module_name, _, attr = impl.rpartition(".")
    try:
        value = importlib.import_module(module_name)
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").partition(".")[0]
        if missing in SUITE_PACKAGES and not module_name.startswith(missing):
            cannot_run(f"{impl}: its module {module_name!r} imports {missing!r}, which a standalone reproducer runs "
                       f"without (torch and numpy only): keep what it needs of {missing} (a Variant) in a module of "
                       f"its own and name it by string (rnn_conformance_variant = 'package.module:NAME')")
        cannot_run(f"cannot import {module_name!r} for {impl} ({one_line(exc)}): run the script from the directory "
                   f"the suite ran in, or pass the target as its argument (python SCRIPT package.module:Attr)")
    for part in attr.split("."):
        if not hasattr(value, part):
            cannot_run(f"{impl}: module {module_name!r} has no attribute {attr!r}")
        value = getattr(value, part)
    return value


def cannot_run(why):
    """Ends the script with CANNOT_RUN, saying why in one line: it could not run, which says
    nothing about the target."""
    print(f"CANNOT RUN: {why}", flush=True)
    os._exit(CANNOT_RUN)


def uncaught(kind, exc, tb):
    """``sys.excepthook`` of a script: an exception outside the calls into the target (a file
    beside it missing, an API this torch lacks) means the script could not run."""
    cannot_run(one_line(exc))


def build(*args, **kwargs):
    """The target constructed as torch's class would be."""
    return call("the constructor", target(), *args, **kwargs)


def function(name):
    """The target's packing utility ``name`` (TARGET is then a module or a class); for an
    operation target (``name`` 'operation'), the target itself."""
    return target() if name == "operation" else getattr(target(), name)


def functional(module, parameters, *args, **kwargs):
    """``module(*args, **kwargs)`` holding ``parameters`` (its own names -> tensors) in place of its own."""
    return torch.func.functional_call(module, parameters, args, kwargs)


def grad_of(tensor):
    """A leaf's gradient; zeros where no gradient reached it (.grad is None)."""
    return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad


#: Graphs Dynamo may keep per function before it gives up (its default is 8: a row, and a
#: script's data, may hold many configurations, and hitting the limit is an eager fallback).
RECOMPILE_LIMIT = 100_000
#: Dynamo's settings under the compile transforms, for the suite's rows and every script alike.
DYNAMO_SETTINGS = {"allow_rnn": True, "recompile_limit": RECOMPILE_LIMIT,
                   "accumulated_recompile_limit": RECOMPILE_LIMIT}
#: How each transform but eager makes its call -> (the torch API, the compile backend): the one
#: definition the suite's rows (``targets.transforms``) and every script call through.
TRANSFORM_CALLS = {"compile": ("compile", "aot_eager"), "compile-inductor": ("compile", "inductor"),
                   "export": ("export", None), "script": ("script", None)}


def transformed(name, fn, backend=None):
    """``fn`` as the transform ``name`` calls it: compiled whole by torch.compile (its backend,
    or ``backend``), exported with torch.export and decomposed, or scripted.  A name
    TRANSFORM_CALLS does not hold raises ValueError (never a silent fallback to another)."""
    if name not in TRANSFORM_CALLS:
        raise ValueError(f"unknown transform {name!r}: expected one of {', '.join(TRANSFORM_CALLS)}")
    how, default_backend = TRANSFORM_CALLS[name]
    if how == "compile":
        dynamo_configured()
        return torch.compile(fn, backend=backend or default_backend, fullgraph=True, dynamic=False)
    if how == "export":
        return lambda *args: torch.export.export(fn, args).run_decompositions().module()(*args)
    return torch.jit.script(fn)


def dynamo_configured():
    """Dynamo set as the suite sets it for a compiled row (DYNAMO_SETTINGS; a setting this torch
    lacks is left out)."""
    for setting, value in DYNAMO_SETTINGS.items():
        if hasattr(torch._dynamo.config, setting):
            setattr(torch._dynamo.config, setting, value)


def load_weights(module, tensors):
    """Loads weights named as torch names them: through the target's copying hook
    (``load_torch_state_dict``) or mapping hook (``rnn_conformance_from_torch``) when it has
    one, else ``load_state_dict``."""
    if callable(getattr(module, "load_torch_state_dict", None)):
        module.load_torch_state_dict(tensors)
    elif callable(getattr(module, "rnn_conformance_from_torch", None)):
        with torch.no_grad():
            module.load_state_dict(module.rnn_conformance_from_torch(tensors), strict=False)
    else:
        module.load_state_dict(tensors, strict=True)


def load_model(model, tensors):
    """A seed model's weights: its recurrent layer's (``rnn.``) as ``load_weights`` loads them,
    the heads' with load_state_dict."""
    load_weights(model.rnn, {k[len("rnn."):]: v for k, v in tensors.items() if k.startswith("rnn.")})
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("rnn.")}, strict=False)


def array(dtype, shape, values):
    return np.array(values, dtype=dtype).reshape(shape)


def _expire(signum, frame):
    raise TimeoutError(f"no result within {TIMEOUT} s")


def call(what, fn, *args, grad=False, **kwargs):
    """fn(*args) with autograd recording only under ``grad``; an exception or a hang ends the
    script with status 1, naming the call."""
    alarm = hasattr(signal, "SIGALRM")
    if alarm:
        signal.signal(signal.SIGALRM, _expire)
        signal.alarm(TIMEOUT)
    try:
        with torch.set_grad_enabled(grad):
            return fn(*args, **kwargs)
    except Exception as exc:
        print(f"FAIL: {what} raised {one_line(exc)}")
        sys.exit(1)
    finally:
        if alarm:
            signal.alarm(0)


def expect_raises(what, fn, *args, **kwargs):
    """fn(*args) must raise: torch refuses this input."""
    CHECKED[0] += 1
    try:
        with torch.no_grad():
            fn(*args, **kwargs)
    except Exception:
        return
    _fail(f"{what} returned a result; torch raises an error for this input")


def expect(claim, *args):
    """One claim of ``claims`` (the suite's own ``assert_*``, copied in) on the script's values:
    a false one is printed and counted."""
    CHECKED[0] += 1
    try:
        claim(*args)
    except ClaimFailed as failure:
        _fail(str(failure))


def _fail(line):
    FAILURES.append(line)
    print(f"FAIL: {line}")


def finish():
    """Exit status 1 while an expectation fails, 0 once every one holds."""
    if FAILURES:
        print(f"{len(FAILURES)} of {CHECKED[0]} expectations fail: the failure is still there")
        sys.exit(1)
    if CHECKED[0]:
        print(f"all {CHECKED[0]} expectations hold: fixed")
    else:  # a script whose failure was a call that raised or hung
        print("every call returned (the failure was a call that raised): fixed")
    sys.exit(0)
