"""The helpers of a standalone reproducer, copied verbatim into every script ``reproducers``
writes: they need only torch, numpy and the standard library, never this suite.

A script sets TARGET (the import path of the class under test), runs the recorded calls through
``call``, states what torch semantics require of the results with the ``expect_*`` helpers, and
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

from .errors import one_line  # a script holds its source (``scripts.HELPER_MODULES``), not this import

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
    ``package.module:Attr`` or a dotted path, imported from the working directory (or the one
    the suite ran in, RUN_FROM).  One that does not import ends the script with CANNOT_RUN."""
    impl = sys.argv[1] if len(sys.argv) > 1 else TARGET  # noqa: F821 (set by the script)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if globals().get("RUN_FROM") and RUN_FROM not in sys.path:  # noqa: F821 (set by the script)
        sys.path.append(RUN_FROM)  # noqa: F821
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
    """The target's packing utility ``name`` (TARGET is then a module or a class)."""
    return getattr(target(), name)


def functional(module, parameters, *args, **kwargs):
    """``module(*args, **kwargs)`` holding ``parameters`` (its own names -> tensors) in place of its own."""
    return torch.func.functional_call(module, parameters, args, kwargs)


def grad_of(tensor):
    """A leaf's gradient; zeros where no gradient reached it (.grad is None)."""
    return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad


def transformed(name, fn):
    """``fn`` as the suite's transform ``name`` calls it: compiled whole by torch.compile (the
    aot_eager or inductor backend), exported with torch.export and decomposed, or scripted."""
    if name in ("compile", "compile-inductor"):
        torch._dynamo.config.allow_rnn = True
        for limit in ("recompile_limit", "accumulated_recompile_limit", "cache_size_limit"):
            if hasattr(torch._dynamo.config, limit):
                setattr(torch._dynamo.config, limit, 64)
        return torch.compile(fn, backend="aot_eager" if name == "compile" else "inductor", fullgraph=True)
    if name == "export":
        return lambda *args: torch.export.export(fn, args).run_decompositions().module()(*args)
    return torch.jit.script(fn)


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


def expect_structure(result, shapes, dtype, device, states):
    """A layer's forward returns (output, h_n) or, for an LSTM, (output, (h_n, c_n)) (a variant
    of more states: all of them in the tuple, in ``shapes``' order): tensors of ``dtype`` on
    ``device`` with torch's ``shapes`` (name -> shape; output's packed data for packed input);
    ``states``: how many."""
    CHECKED[0] += 1
    if not (isinstance(result, tuple) and len(result) == 2):
        return _fail(f"forward returned a {type(result).__name__}; torch returns a tuple of 2")
    output, state = result
    names = [name for name in shapes if name != "output"]
    if states > 1 and not (isinstance(state, tuple) and len(state) == states):
        return _fail(f"the state is a {type(state).__name__}; expected the tuple ({', '.join(names)})")
    values = {"output": output.data if isinstance(output, PackedSequence) else output}
    values.update(zip(names, state if states > 1 else (state,)))
    for name, shape in shapes.items():
        value = values[name]
        if not torch.is_tensor(value):
            return _fail(f"{name} is a {type(value).__name__}; torch returns a tensor")
        if value.dtype != dtype or value.device.type != torch.device(device).type:
            return _fail(f"{name} is {value.dtype} on {value.device}; torch returns {dtype} on {device}")
        if tuple(value.shape) != tuple(shape):
            return _fail(f"{name} has shape {tuple(value.shape)}; torch returns {tuple(shape)}")


def expect_cell_structure(result, shape, dtype, device, lstm):
    """A cell returns h' (an LSTM cell the pair (h', c')): tensors of ``dtype`` on ``device``
    with ``shape``."""
    CHECKED[0] += 1
    parts = result if lstm and isinstance(result, tuple) and len(result) == 2 else (result,)
    if lstm and len(parts) != 2:
        return _fail(f"an LSTM cell returns the pair (h', c'); got a {type(result).__name__}")
    for name, part in zip(("h'", "c'"), parts):
        if not torch.is_tensor(part):
            return _fail(f"{name} is a {type(part).__name__}; torch returns a tensor")
        if tuple(part.shape) != tuple(shape):
            return _fail(f"{name} has shape {tuple(part.shape)}; torch returns {tuple(shape)}")
        if part.dtype != dtype or part.device.type != torch.device(device).type:
            return _fail(f"{name} is {part.dtype} on {part.device}; torch returns {dtype} on {device}")


def expect_trained(module):
    """After backward, every trainable parameter of ``module`` holds a finite gradient that is
    not all zero (every weight of torch's layer gets one on this data)."""
    CHECKED[0] += 1
    for name, parameter in module.named_parameters():
        if not parameter.requires_grad:
            return _fail(f"parameter {name} is frozen (requires_grad=False); torch trains every parameter")
        if parameter.grad is None:
            return _fail(f"parameter {name} received no gradient (.grad is None)")
        if not bool(torch.isfinite(parameter.grad).all()):
            return _fail(f"parameter {name} received a non-finite gradient")
        if not bool(parameter.grad.any()):
            return _fail(f"parameter {name} received a gradient of exactly zero; torch's is not zero here")


def expect_either(quantity, got, outcomes, tolerances):
    """Each element of ``got`` within its tolerance of one of the allowed ``outcomes`` (e.g. a
    unit dropped, or kept and scaled)."""
    CHECKED[0] += 1
    got = _numbers(got)
    ratios = np.stack([np.where(np.isnan(got), np.inf, np.abs(got - np.asarray(e, np.float64)) / t)
                       for e, t in zip(outcomes, tolerances)]).min(axis=0)
    if ratios.size and ratios.max() > 1.0:
        index = np.unravel_index(int(np.argmax(ratios)), ratios.shape)
        allowed = ", ".join(f"{np.asarray(e)[index]:.8g}" for e in outcomes)
        _fail(f"{quantity}[{', '.join(map(str, index))}]: got {got[index]:.8g}, allowed {allowed} "
              f"(nearest error/tolerance {ratios[index]:.3g}); {int((ratios > 1.0).sum())} of {ratios.size} "
              f"elements off")


def expect_tensor(name, value, shape, dtype, device):
    """``value`` is a tensor of ``shape`` and ``dtype`` on ``device``, as torch returns."""
    CHECKED[0] += 1
    if not torch.is_tensor(value):
        return _fail(f"{name} is a {type(value).__name__}; torch returns a tensor")
    if value.dtype != dtype or value.device.type != torch.device(device).type:
        return _fail(f"{name} is {value.dtype} on {value.device}; torch returns {dtype} on {device}")
    if tuple(value.shape) != tuple(shape):
        _fail(f"{name} has shape {tuple(value.shape)}; torch returns {tuple(shape)}")


def expect_packed_order(name, packed, lengths, enforce_sorted):
    """A packed result's indices: None for both with ``enforce_sorted``; otherwise
    sorted_indices sorts ``lengths`` longest first and unsorted_indices inverts it."""
    CHECKED[0] += 1
    indices = (packed.sorted_indices, packed.unsorted_indices)
    if enforce_sorted:
        if any(i is not None for i in indices):
            _fail(f"{name}(enforce_sorted=True) returned indices {indices}; torch returns None for both")
        return
    if any(i is None for i in indices):
        return _fail(f"{name}(enforce_sorted=False) returned an index None; torch returns the permutation")
    order, inverse = (i.cpu().numpy() for i in indices)
    if sorted(order.tolist()) != list(range(len(lengths))) or np.any(np.diff(np.asarray(lengths)[order]) > 0):
        return _fail(f"{name}(...).sorted_indices {order.tolist()} does not sort the lengths {lengths} longest first")
    if not np.array_equal(inverse, np.argsort(order)):
        _fail(f"{name}(...).unsorted_indices {inverse.tolist()} does not invert sorted_indices {order.tolist()}")


def expect_layout(name, value, before):
    """A call left its argument ``value`` with the (shape, strides) it had ``before``."""
    CHECKED[0] += 1
    shape, stride = before
    if tuple(value.shape) != tuple(shape) or value.stride() != tuple(stride):
        _fail(f"{name} changed its argument in place: shape {tuple(shape)} strides {tuple(stride)} became "
              f"{tuple(value.shape)} strides {value.stride()}")


def expect_requires_grad(name, outputs):
    """Results computed from inputs that require grad require grad themselves."""
    CHECKED[0] += 1
    if any(not torch.is_tensor(o) or not o.requires_grad for o in outputs):
        _fail(f"{name}'s result does not require grad although its input does")


def expect_sequence_list(name, value, count):
    """``value`` is a list (or tuple) of ``count`` items."""
    CHECKED[0] += 1
    if not isinstance(value, (list, tuple)) or len(value) != count:
        _fail(f"{name} returned a {type(value).__name__}; torch returns a list of {count} tensors")


def expect_same_items(name, items, before):
    """The list a call was given holds the same objects in the same order afterwards."""
    CHECKED[0] += 1
    if len(items) != len(before) or any(a is not b for a, b in zip(items, before)):
        _fail(f"{name} reordered or changed the list of sequences it was given")


def expect_torch_parameters(module, shapes):
    """``module``'s state_dict holds exactly torch's names with torch's ``shapes``, each a
    trainable parameter."""
    CHECKED[0] += 1
    got = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    if got != shapes:
        return _fail(f"state_dict differs from torch's: {sorted(got.items())} instead of {sorted(shapes.items())}")
    parameters = dict(module.named_parameters())
    frozen = sorted(name for name in shapes if name not in parameters or not parameters[name].requires_grad)
    if frozen:
        _fail(f"every state_dict entry must be a trainable parameter; not: {frozen}")


def _numbers(value):
    return value.detach().to("cpu", torch.float64).numpy() if torch.is_tensor(value) else np.asarray(value, np.float64)


def expect_close(quantity, got, expected, tolerance):
    """Every element of ``got`` within ``tolerance`` (per element) of ``expected`` (the exact
    values, float64): the error bound of a correct implementation in this dtype."""
    CHECKED[0] += 1
    got, expected = _numbers(got), np.asarray(expected, np.float64)
    if got.shape != expected.shape:
        return _fail(f"{quantity} has shape {got.shape}; torch semantics give {expected.shape}")
    error = np.abs(got - expected)
    ratio = np.where(np.isnan(got) | ~np.isfinite(expected), np.inf, error / tolerance)
    if ratio.size and ratio.max() > 1.0:
        index = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        _fail(f"{quantity}[{', '.join(map(str, index))}]: got {got[index]:.8g}, expected {expected[index]:.8g}, "
              f"error {error[index]:.3g}, tolerance {tolerance[index]:.3g} (error/tolerance {ratio[index]:.3g}); "
              f"{int((ratio > 1.0).sum())} of {ratio.size} elements off")


def expect_runs(quantity, sides, got, other, tolerance):
    """Two runs of one exact function (named by ``sides``) within ``tolerance`` (per element):
    twice the error bound of each."""
    CHECKED[0] += 1
    got, other = _numbers(got), _numbers(other)
    if got.shape != other.shape:
        return _fail(f"{quantity}: {sides[0]} has shape {got.shape}, {sides[1]} {other.shape}")
    difference = np.abs(got - other)
    ratio = np.where(np.isnan(got) | np.isnan(other), np.inf, difference / tolerance)
    if ratio.size and ratio.max() > 1.0:
        index = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        _fail(f"{quantity}[{', '.join(map(str, index))}]: {sides[0]} {got[index]:.8g}, {sides[1]} {other[index]:.8g}, "
              f"difference {difference[index]:.3g}, tolerance {tolerance[index]:.3g}")


def expect_identical(quantity, sides, got, other):
    """Two runs whose arithmetic is identical agree bit for bit (NaN matching NaN)."""
    CHECKED[0] += 1
    got, other = _numbers(got), _numbers(other)
    if got.shape != other.shape:
        return _fail(f"{quantity}: {sides[0]} has shape {got.shape}, {sides[1]} {other.shape}")
    differs = ~((got == other) | (np.isnan(got) & np.isnan(other)))
    if differs.any():
        index = np.unravel_index(int(np.argmax(differs)), differs.shape)
        _fail(f"{quantity}[{', '.join(map(str, index))}]: {sides[0]} {got[index]:.8g}, {sides[1]} {other[index]:.8g} "
              f"(they must be identical); {int(differs.sum())} of {differs.size} elements differ")


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
