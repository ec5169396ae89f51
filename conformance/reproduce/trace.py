"""The trace of a standalone reproducer: what the check does, seen from outside the target.

Every torch operation of the check's own code (a ``TorchFunctionMode``, paused while the
target runs) becomes a statement; the calls into the target and the comparisons are added as
statements the script must run (roots) by ``hooks``.  Each value the script
names has an expression; a value the trace cannot express (made outside torch) is opaque, and a
statement that reads it is never written.  ``Trace.kept`` gives the script's lines: those the
roots read, in order, a value read once written where it is read.
"""
import functools
import math
import re
import sys
from contextlib import contextmanager

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence
from torch.overrides import TorchFunctionMode

from . import standalone


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
        #: id(tensor) -> (tensor, the variable of its layout before a call, its statement)
        self.layouts = {}

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


class paused:
    """Nothing the target does is traced: its calls are lines of their own.  (A class, not a
    generator: it wraps every call into a target.)"""

    __slots__ = ("trace",)

    def __enter__(self):
        self.trace = active()
        if self.trace is not None:
            self.trace.paused += 1

    def __exit__(self, *exc):
        if self.trace is not None:
            self.trace.paused -= 1
