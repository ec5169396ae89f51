"""Standalone reproducers: the failing example of a row replayed once under a trace, written as a
script that needs only torch and numpy (``standalone`` holds its helpers).

The trace sees the check from outside the target: every torch operation of the check's own code
(a ``TorchFunctionMode``; paused while the target runs), every call into the target through
``Context``, and every comparison the tolerance model makes.  Each becomes a line of the script;
the values the check drew become data beside them (inline when small, an ``.npz`` otherwise), and
the oracle's values and per-element tolerances are stored, never recomputed.  Lines nothing needs
are left out.  A comparison whose value the trace cannot express (computed outside torch) is named
in a comment and not checked; the caller runs the script to see whether it still fails.
"""
import ast
import functools
import inspect
import math
import os
import re
import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence
from torch.overrides import TorchFunctionMode

from . import models, standalone

#: Above this many elements of data in all, the data goes to an ``.npz`` beside the script.
INLINE_ELEMENTS = 4000
#: Modules a reproducer must not import: running it with these blocked shows it is standalone.
SUITE_MODULES = ("conformance", "reference", "hypothesis", "pytest")

#: Helpers of ``standalone`` the suite itself calls through ``functools.partial``: a script names them.
STANDALONE_FUNCTIONS = (standalone.functional,)

#: The trace in force (one per process: a row's replay runs in one thread).
_active = []


class Unexpressible(Exception):
    """A value the script cannot write down (made outside torch, or by code the trace cannot name)."""


class Trace:
    """What a script needs: its statements in order, each with the statements it reads; the
    expression of every value it names; its data."""

    def __init__(self):
        self.statements = []  # (code, reads: set of statement indexes, root: bool)
        self.names = {}  # id(value) -> (value, expression, index of the statement that made it)
        self.data = {}
        self.fingerprints = {}
        self.paused = 0
        self.not_checked = []
        #: what the replayed example raised (a failure of the target, or the suite's own error)
        self.raised = None
        #: why a call into the target could not be written down (the script would skip it)
        self.incomplete = None
        #: whether the script builds a seed model (then it holds their source)
        self.models = False

    # -- values --------------------------------------------------------------------------------
    def name(self, value, expression, index):
        self.names[id(value)] = (value, expression, index)

    def fresh(self, prefix):
        self.counter = getattr(self, "counter", 0) + 1
        return f"{prefix}{self.counter}"

    def constant(self, array):
        """The data entry holding ``array`` (one entry for equal arrays)."""
        array = np.asarray(array)
        fingerprint = (array.dtype.str, array.shape, array.tobytes())
        key = self.fingerprints.get(fingerprint)
        if key is None:
            key = self.fingerprints[fingerprint] = f"c{len(self.data) + 1}"
            self.data[key] = array
        return f"DATA[{key!r}]"

    def express(self, value, reads):
        """Python source for ``value`` as the script has it; adds the statements it reads."""
        known = self.names.get(id(value))
        if known is not None and known[0] is value:
            if known[1] is None:
                raise Unexpressible("a value made by code the trace cannot name")
            reads.add(known[2])
            return known[1]
        if isinstance(value, PackedSequence):
            return f"PackedSequence({', '.join(self.express(v, reads) for v in value)})"
        if torch.is_tensor(value):  # made where nothing was traced: its value may be the target's
            raise Unexpressible("a tensor made where the trace does not see")
        if isinstance(value, functools.partial) and value.func in STANDALONE_FUNCTIONS:
            parts = [value.func.__name__] + [self.express(v, reads) for v in value.args]
            return f"partial({', '.join(parts)})"
        if isinstance(value, np.ndarray):
            return self.constant(value)
        if isinstance(value, np.generic):
            return self.express(value.item(), reads)
        if isinstance(value, torch.Size):
            return f"torch.Size({list(value)!r})"
        if isinstance(value, (tuple, list)):
            items = [self.express(v, reads) for v in value]
            if isinstance(value, list):
                return f"[{', '.join(items)}]"
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.express(v, reads)}" for k, v in value.items()) + "}"
        if isinstance(value, slice):
            return f"slice({', '.join(self.express(v, reads) for v in (value.start, value.stop, value.step))})"
        if isinstance(value, float) and not math.isfinite(value):
            return f"float({str(value)!r})"
        if value is Ellipsis:
            return "..."
        if value is None or isinstance(value, (bool, int, float, str)):
            return repr(value)
        if isinstance(value, (torch.dtype, torch.memory_format, torch.layout)):
            return str(value)
        if isinstance(value, torch.device):
            return f"torch.device({str(value)!r})"
        raise Unexpressible(f"a {type(value).__name__}")

    def subscript(self, key, reads):
        """``key`` as written between brackets: slices as ``a:b``, a tuple without parentheses."""
        if isinstance(key, tuple):
            return ", ".join(self.subscript(part, reads) for part in key) + ("," if len(key) == 1 else "")
        if isinstance(key, slice):
            text = ":".join("" if v is None else self.express(v, reads) for v in (key.start, key.stop))
            return text + ("" if key.step is None else f":{self.express(key.step, reads)}")
        return self.express(key, reads)

    # -- statements ----------------------------------------------------------------------------
    def statement(self, code, reads, root=False):
        self.statements.append((code, set(reads), root))
        return len(self.statements) - 1

    def assign(self, result, expression, reads, prefix="t", root=False):
        """``name = expression`` and every tensor in ``result`` named by its place in it."""
        variable = self.fresh(prefix)
        index = self.statement(f"{variable} = {expression}", reads, root)
        self._name_parts(result, variable, index)
        return variable

    def _name_parts(self, value, expression, index):
        if torch.is_tensor(value) or isinstance(value, torch.nn.Module):
            self.name(value, expression, index)
        elif isinstance(value, PackedSequence):
            self.name(value, expression, index)
            for field in value._fields:
                self._name_parts(getattr(value, field), f"{expression}.{field}", index)
        elif isinstance(value, (tuple, list)):
            self.name(value, expression, index)
            for i, part in enumerate(value):
                self._name_parts(part, f"{expression}[{i}]", index)
        elif isinstance(value, dict):
            self.name(value, expression, index)

    def opaque(self, value):
        """Marks the tensors in ``value`` as made by code the script cannot repeat."""
        if torch.is_tensor(value):
            self.name(value, None, None)
        elif isinstance(value, (tuple, list)):
            for part in value:
                self.opaque(part)

    def root(self, code, values, prefix=None, result=None):
        """A statement the script must run (a call into the target, a comparison), reading
        ``values`` (a format of their expressions); with ``prefix``, it assigns ``result``."""
        reads = set()
        code = code.format(*(self.express(v, reads) for v in values))
        if prefix is None:
            return self.statement(code, reads, root=True)
        return self.assign(result, code, reads, prefix, root=True)

    def operation(self, func, args, kwargs, result):
        """One torch operation of the check's code."""
        try:
            reads = set()
            head = _callee(func)
            arguments = [self.express(a, reads) for a in args]
            arguments += [f"{k}={self.express(v, reads)}" for k, v in kwargs.items()]
        except Unexpressible:
            self.opaque(result)
            return
        if head is None:
            self.opaque(result)
            return
        kind, name = head
        if kind == "attribute":
            code = f"{arguments[0]}.{name}"
        elif name in ("__getitem__", "__setitem__"):
            try:
                key = self.subscript(args[1], reads)
            except Unexpressible:
                self.opaque(result)
                return
            if name == "__setitem__":
                self._mutation(args[0], f"{arguments[0]}[{key}] = {arguments[2]}", reads)
                return
            code = f"{arguments[0]}[{key}]"
        elif kind == "method":
            code = f"{arguments[0]}.{name}({', '.join(arguments[1:])})"
        else:
            code = f"{name}({', '.join(arguments)})"
        if kind == "method" and name.endswith("_") and not name.endswith("__") and result is args[0]:
            self._mutation(args[0], code, reads)
        elif torch.is_tensor(result) or (isinstance(result, (tuple, list)) and any(map(torch.is_tensor, result))):
            self.assign(result, code, reads)

    def _mutation(self, value, code, reads):
        """An in-place change of ``value``: later reads of it read this statement too."""
        known = self.names.get(id(value))
        if known is None or known[0] is not value or known[1] is None:
            return
        index = self.statement(code, reads | {known[2]})
        self.names[id(value)] = (value, known[1], index)

    # -- the script ----------------------------------------------------------------------------
    def kept(self):
        """The lines of the script: the statements the roots read, directly or not, in order;
        a value read once is written where it is read; names numbered in order."""
        keep, todo = set(), [i for i, (_, _, root) in enumerate(self.statements) if root]
        while todo:
            index = todo.pop()
            if index in keep or index is None:
                continue
            keep.add(index)
            todo.extend(self.statements[index][1])
        lines = [(self.statements[i][0], self.statements[i][2]) for i in sorted(keep)]
        return _renumbered(_inlined(lines))


_ASSIGNMENT = re.compile(r"^([a-z]+\d+) = (.*)$", re.S)


def _inlined(lines):
    """Each variable that is not a root's and is read by exactly one later line replaced by its
    expression there (every expression the trace writes is a call, subscript or attribute:
    it needs no parentheses)."""
    lines = list(lines)
    changed = True
    while changed:
        changed = False
        for i, (code, root) in enumerate(lines):
            match = _ASSIGNMENT.match(code)
            if root or not match:
                continue
            pattern = re.compile(rf"\b{match.group(1)}\b")
            readers = [j for j in range(i + 1, len(lines)) if pattern.search(lines[j][0])]
            between = lines[i + 1:readers[0]] if readers else []
            pure = all(not root and _ASSIGNMENT.match(code) for code, root in between)  # nothing runs between
            if len(readers) == 1 and len(pattern.findall(lines[readers[0]][0])) == 1 and pure:
                j = readers[0]
                lines[j] = (pattern.sub(lambda _: match.group(2), lines[j][0]), lines[j][1])
                del lines[i]
                changed = True
                break
    return [code for code, _ in lines]


def _renumbered(lines):
    """Variables renamed in order of definition: module1, x1, r1, t1, ..."""
    names = {}
    for code in lines:
        match = _ASSIGNMENT.match(code)
        if match:
            prefix = re.match(r"[a-z]+", match.group(1)).group(0)
            count = sum(1 for name in names.values() if re.match(rf"{prefix}\d+$", name)) + 1
            names[match.group(1)] = f"{prefix}{count}"
    if not names:
        return lines
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return [pattern.sub(lambda m: names[m.group(1)], code) for code in lines]


def _callee(func):
    """("method" | "attribute" | "function", how the script names it), or None."""
    name = getattr(func, "__name__", "")
    if name == "__get__" and hasattr(func, "__self__"):
        return "attribute", func.__self__.__name__
    qualname = getattr(func, "__qualname__", "")
    if qualname.startswith(("TensorBase.", "Tensor.")):
        return "method", name
    if qualname.startswith("_VariableFunctionsClass.") and hasattr(torch, name):
        return "function", f"torch.{name}"
    module = getattr(func, "__module__", None) or ""
    if module.split(".")[0] == "torch" and "<" not in qualname:
        owner = sys.modules.get(module)
        value = owner
        for part in qualname.split("."):
            value = getattr(value, part, None)
        if value is func:
            return "function", f"{module}.{qualname}"
    return None


class _Tracing(TorchFunctionMode):
    def __init__(self, trace):
        super().__init__()
        self.trace = trace

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if not self.trace.paused:
            self.trace.operation(func, args, kwargs, result)
        return result


@contextmanager
def tracing():
    """Records the check's torch operations and calls into the target until the block ends."""
    trace = Trace()
    _active.append(trace)
    try:
        with _Tracing(trace):
            yield trace
    finally:
        _active.pop()


def active():
    """The trace in force, or None (the hooks of ``Context`` and the tolerance model ask)."""
    return _active[-1] if _active else None


@contextmanager
def paused():
    """Nothing the target does is traced: its calls are lines of their own."""
    trace = active()
    if trace is None:
        yield
        return
    trace.paused += 1
    try:
        yield
    finally:
        trace.paused -= 1


def _silently(method):
    """A hook of the trace: a value it cannot express makes its result opaque, never an error
    in the check."""
    def hook(*args, **kwargs):
        trace = active()
        if trace is None or trace.paused:
            return None
        try:
            return method(trace, *args, **kwargs)
        except Unexpressible as exc:
            trace.incomplete = trace.incomplete or f"{method.__name__}: {exc}"
            trace.opaque(kwargs.get("result"))
            return None
    return hook


@_silently
def constructed(trace, factory_args, factory_kwargs, device, dtype, result=None):
    """The target built (``result``: the module; None when its constructor raised)."""
    keywords = "".join(f", {k}={{}}" for k in factory_kwargs)
    trace.root("build(" + ", ".join("{}" for _ in factory_args) + keywords + ").to(device={}, dtype={})",
               tuple(factory_args) + tuple(factory_kwargs.values()) + (device, dtype), "module", result)


@_silently
def loading(trace, module, tensors, train, loader):
    """Weights about to be loaded into ``module`` by ``loader`` (a loader the script has, of
    ``standalone`` or the target's ``load_weights``), then its mode set."""
    if getattr(standalone, loader.__name__, None) is not loader and loader.__name__ != "load_weights":
        raise Unexpressible(f"weights loaded by {loader.__name__}")
    trace.root(f"call('load_state_dict', {loader.__name__}, {{}}, {{}})", (module, tensors))
    trace.root("call('train', {}.train, {})", (module, bool(train)))


@_silently
def model(trace, module, name, arguments, relu, device, dtype):
    """The suite's seed model ``name`` (its source goes into the script) built on the target."""
    trace.models = True
    recurrent = "partial(target(), nonlinearity='relu')" if relu else "target()"
    trace.root(f"{name}(" + ", ".join("{}" for _ in arguments) + f", {recurrent}).to(device={{}}, dtype={{}})",
               tuple(arguments) + (device, dtype), "model", module)


@_silently
def parameters(trace, module):
    """``module``'s parameters, by name, as the script reaches them after loading."""
    reads = set()
    variable = trace.express(module, reads)
    index = next(iter(reads))
    for name, parameter in module.named_parameters():
        trace.name(parameter, f"{variable}.get_parameter({name!r})", index)
    for name, submodule in module.named_modules():
        if name:
            trace.name(submodule, f"{variable}.get_submodule({name!r})", index)


@_silently
def invoked(trace, fn, args, grad, transform, result=None):
    callee = "{}" if transform.eager else f"transformed({transform.name!r}, {{}})"
    trace.root(f"call('forward', {callee}" + ", {}" * len(args) + ", grad={})", (fn,) + tuple(args) + (grad,), "r",
               result)


@_silently
def mapped(trace, module, tensors, result=None):
    """The target's mapping hook called on leaves under torch's names: its own parameters."""
    trace.root("call('rnn_conformance_from_torch', {}.rnn_conformance_from_torch, {}, grad=True)",
               (module, tensors), "own", result)
    for name, value in result.items():
        trace.name(value, f"{trace.names[id(result)][1]}[{name!r}]", trace.names[id(result)][2])


@_silently
def utility(trace, name, args, kwargs, grad, result=None):
    """A call of the target's packing utility ``name``."""
    keywords = "".join(f", {k}={{}}" for k in kwargs)
    trace.root(f"call({name!r}, function({name!r})" + ", {}" * len(args) + keywords + ", grad={})",
               tuple(args) + tuple(kwargs.values()) + (grad,), "r", result)


@_silently
def gradient(trace, tensor, result=None):
    """``result`` is the gradient of the leaf ``tensor`` (zeros where none reached it)."""
    trace.root("grad_of({})", (tensor,), "g", result)


@_silently
def trained(trace, module):
    """Every trainable parameter of ``module`` must have received a finite gradient, not all zero."""
    trace.root("expect_trained({})", (module,))


@_silently
def tensor_result(trace, name, value, shape, dtype, device):
    """A utility's result ``name`` must be a tensor of ``shape`` and ``dtype`` on ``device``."""
    trace.root("expect_tensor({}, {}, {}, {}, {})", (name, value, tuple(shape), dtype, str(device)))


@_silently
def packed_order(trace, name, result, lengths, enforce_sorted):
    """A utility's packed result must hold indices that sort ``lengths`` and invert."""
    trace.root("expect_packed_order({}, {}, {}, {})", (name, result, list(lengths), enforce_sorted))


@_silently
def sequence_list(trace, name, result, count):
    """A utility's result ``name`` must be a list (or tuple) of ``count`` items."""
    trace.root("expect_sequence_list({}, {}, {})", (name, result, count))


@_silently
def utility_refuses(trace, name, args, kwargs):
    """The target's utility ``name`` must raise on these arguments."""
    keywords = "".join(f", {k}={{}}" for k in kwargs)
    trace.root(f"expect_raises({name!r}, function({name!r})" + ", {}" * len(args) + keywords + ")",
               tuple(args) + tuple(kwargs.values()))


@_silently
def packed_input(trace, fields, result=None):
    """A packed input built with the target's PackedSequence class (torch's when it has none)."""
    trace.root("call('PackedSequence', getattr(target(), 'PackedSequence', PackedSequence)" + ", {}" * len(fields)
               + ")", tuple(fields), "p", result)


@_silently
def seeded(trace, seed):
    """torch's generator seeded here (dropout masks drawn after it are the example's)."""
    trace.root("torch.manual_seed({})", (seed,))


@_silently
def same_layout(trace, name, tensor, shape, stride):
    """``tensor`` must still have ``shape`` and ``stride`` (a call must not reshape its argument)."""
    trace.root("expect_layout({}, {}, {}, {})", (name, tensor, tuple(shape), tuple(stride)))


@_silently
def requires_grad(trace, name, outputs):
    """Each of ``outputs`` must require grad: its inputs do."""
    trace.root("expect_requires_grad({}, {})", (name, list(outputs)))


@_silently
def listed(trace, items, result=None):
    """``result`` is a copy of the list ``items`` taken before a call."""
    reads = set()
    listing = trace.assign(items, f"[{', '.join(trace.express(item, reads) for item in items)}]", reads, "items")
    trace.assign(result, f"list({listing})", {trace.names[id(items)][2]}, "before")


@_silently
def same_items(trace, name, items, before):
    """The list ``items`` must hold the same objects in the same order as ``before``."""
    trace.root("expect_same_items({}, {}, {})", (name, items, before))


@_silently
def parameters_like_torch(trace, module, shapes):
    """``module``'s state_dict must be torch's names and ``shapes``, each a trainable parameter."""
    trace.root("expect_torch_parameters({}, {})", (module, dict(shapes)))


@_silently
def cell_structure(trace, result, shape, dtype, device, lstm):
    trace.root("expect_cell_structure({}, {}, {}, {}, {})", (result, shape, dtype, device, lstm))


@_silently
def refused(trace, fn, args):
    trace.root("expect_raises('forward', {}" + ", {}" * len(args) + ")", (fn,) + tuple(args))


@_silently
def backward(trace, results, grads):
    trace.root("call('backward', torch.autograd.backward, {}, {})", (list(results), list(grads)))


@_silently
def packed(trace, x, lengths, batch_first, enforce_sorted, result=None):
    trace.root("pack_padded_sequence({}, {}, batch_first={}, enforce_sorted={})",
               (x, lengths, batch_first, enforce_sorted), "p", result)


@_silently
def structure(trace, result, shapes, dtype, device, lstm):
    trace.root("expect_structure({}, {}, {}, {}, {})", (result, shapes, dtype, device, lstm))


def compared(kind, quantity, got, other, tolerance, sides=None):
    """A comparison of the tolerance model: ``kind`` "close" (other: the exact values),
    "runs" (other: another run), "identical", or "either" (other: the allowed outcomes,
    tolerance: the tolerance of each)."""
    trace = active()
    if trace is None or trace.paused:
        return
    try:
        if kind == "runs" and other is None:
            raise Unexpressible("the other run is not a tensor")
        if kind == "close":
            other = np.asarray(other, np.float64)
        arguments = [quantity] + ([tuple(sides)] if kind in ("runs", "identical") else []) + [got, other]
        if kind == "either":
            arguments.append(tolerance)
        elif tolerance is not None:
            arguments.append(np.broadcast_to(np.asarray(tolerance, np.float64), np.shape(_numbers(got))).copy())
        trace.root(f"expect_{kind}(" + ", ".join("{}" for _ in arguments) + ")", arguments)
    except Unexpressible as exc:
        trace.not_checked.append(f"{quantity} ({exc})")
        trace.statement(f"# not checked here: {quantity} ({exc}, outside what the script can repeat)", (), root=True)


def _numbers(value):
    return value.detach().to("cpu", torch.float64).numpy() if torch.is_tensor(value) else np.asarray(value)


# -- writing -----------------------------------------------------------------------------------------

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
