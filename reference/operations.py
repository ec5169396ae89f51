"""Recurrence operations: ``op(q, k, v, <gates...>, scale, initial_state, cu_seqlens) -> (o,
final_state)`` over a matrix state per head, as linear-attention, delta-rule, mLSTM and Mamba
kernels compute them; the ``Operation`` record that describes one, and the step loop that runs
it, forward and backward, values and error bounds.

A record names its inputs in the operation's positional order, each with its shape over named
sizes (``("B", "T", "H", "K")``; ``B`` and ``T`` lead the inputs given per token, parameters
such as Mamba's ``A`` have neither) and its domain; its states (shapes per sequence, without
``B``); its output; its step, written with ``reference``'s primitives and
``reference.matrix``; and its defaults (``scale``, 1/sqrt(K) for most).  Everything else is
the loop's: sequences in a batch, or concatenated along T with ``cu_seqlens`` (B = 1, one
initial and one final state per sequence, none leaking into the next), heads shared by
groups (``repeat_interleave``), the initial state, the chunk charge.

The loop computes in float64 on exactly the inputs given.  With a ``Precision`` every value
carries its error bound; the backward re-runs each step on a tape (the states are kept, the
steps' intermediates are not: memory grows with T times the state, not with T times the
step).
"""
import math
import re
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Callable, Optional

import numpy as np

from .arithmetic import Arithmetic, Precision, error_of, value_of, where
from .layers import quiet
from .matrix import repeat_heads

#: The domains an input may be declared in, and what the suite draws there: real numbers;
#: log-decays (<= 0, down to -30 per step and exactly 0); numbers in [0, 1] (a delta rule's
#: beta, 0 and 1 included); vectors of unit L2 norm along the last axis (keys); positive
#: numbers (Mamba's dt); negative numbers (Mamba's A).
DOMAINS = ("real", "log_decay", "unit_interval", "unit_norm", "positive", "negative")
#: The sizes of the token axes: batch (1 with cu_seqlens) and time.
TOKEN_AXES = ("B", "T")
_SIZE = re.compile(r"[A-Z][A-Z0-9]*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Input:
    """One input of an operation: its ``name`` (the keyword the operation takes it by, and
    ``x.<name>`` in the step), its ``shape`` over named sizes (``("B", "T", "H", "K")`` for an
    input per token; no B and T for a parameter shared by every token, such as Mamba's ``A``),
    and its ``domain`` (``DOMAINS``).  The step reads a per-token input one token at a time,
    ``(N, ...)`` with N the sequences, and a parameter whole."""

    name: str
    shape: tuple
    domain: str = "real"

    @property
    def per_token(self):
        return tuple(self.shape[:2]) == TOKEN_AXES


@dataclass(frozen=True)
class Operation:
    """One recurrence operation, as the oracle runs it.

    name: how targets and reports name it; inputs: ``Input``s in the operation's positional
    order; states: ``((name, shape), ...)`` of one sequence's state (``(("S", ("H", "K",
    "V")),)``; mLSTM's ``C``, ``n``, ``m``), a state of several a tuple; output: the output's
    shape (``("B", "T", "H", "V")``); step: ``step(x, state, scale)`` -> (new state as a
    tuple, the token's output), ``x`` a namespace of the token's inputs (N, ...) and the
    parameters, ``state`` a tuple of (N, ...) arrays or Nums; scale: the size whose inverse
    square root is the default ``scale`` (``"K"``), or None for an operation that takes no
    scale; groups: ``((few, many), ...)``: inputs over the size ``few`` are repeated to
    ``many`` heads before the step (``repeat_interleave``: head j uses head j // (many/few)),
    grouped value attention; log_decay: ``log_decay(x)`` -> the token's log-decay (<= 0) per
    sequence and head, what a chunked form cumulates (None: no decay); arguments: the keyword
    names the operation takes its options by, where they differ from the defaults
    (``ARGUMENTS``).
    """

    name: str
    inputs: tuple
    states: tuple
    output: tuple
    step: Callable
    scale: Optional[str] = "K"
    groups: tuple = ()
    log_decay: Optional[Callable] = None
    arguments: tuple = ()
    doc: str = field(default="", compare=False)

    def __post_init__(self):
        problem = self._problem()
        if problem:
            raise ValueError(f"Operation {self.name!r}: {problem}")

    def _problem(self):
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            return "name must be an identifier"
        if not self.inputs or not all(isinstance(i, Input) for i in self.inputs):
            return "inputs must be a non-empty tuple of reference.operations.Input"
        names = [i.name for i in self.inputs]
        if len(set(names)) != len(names) or not all(_NAME.fullmatch(n) for n in names):
            return f"inputs {names}: expected distinct identifiers"
        shapes = [("input " + i.name, i.shape) for i in self.inputs] + [("output", self.output)]
        try:
            shapes += [(f"state {name}", tuple(shape)) for name, shape in self.states]
        except (TypeError, ValueError):
            return f"states={self.states!r}: expected ((name, shape), ...)"
        for label, shape in shapes:
            if not isinstance(shape, tuple) or not all(isinstance(s, str) and _SIZE.fullmatch(s) for s in shape):
                return f"{label} has shape {shape!r}: expected a tuple of size names (capitals: 'B', 'T', 'HV')"
        for i in self.inputs:
            if i.domain not in DOMAINS:
                return f"input {i.name} has domain {i.domain!r}: expected one of {', '.join(DOMAINS)}"
            if ("B" in i.shape or "T" in i.shape) and not i.per_token:
                return f"input {i.name} has shape {i.shape}: B and T lead an input given per token, or are absent"
            if i.domain == "unit_norm" and len(i.shape) - 2 * i.per_token < 1:
                return (f"input {i.name} has domain unit_norm but no axis to be a unit vector along (shape "
                        f"{i.shape}): the draws cannot satisfy it")
        if not any(i.per_token for i in self.inputs):
            return "no input is given per token (shape ('B', 'T', ...))"
        if tuple(self.output[:2]) != TOKEN_AXES:
            return f"output has shape {self.output}: expected ('B', 'T', ...)"
        if not self.states or any("B" in shape or "T" in shape for _, shape in self.states):
            return "states must be non-empty, each shaped without B and T (one sequence's)"
        if not callable(self.step):
            return f"step={self.step!r} is not callable"
        letters = {s for _, shape in shapes for s in shape}
        if self.scale is not None and self.scale not in letters:
            return f"scale={self.scale!r}: expected a size of its shapes (1/sqrt of it is the default scale) or None"
        for pair in self.groups:
            if len(pair) != 2 or not all(s in letters for s in pair):
                return f"groups={self.groups!r}: expected ((few, many), ...) of its sizes"
        unknown = [key for key, _ in self.arguments if key not in ARGUMENTS]
        if unknown:
            return f"arguments name {unknown}: expected some of {', '.join(ARGUMENTS)}"
        return None

    @property
    def state_names(self):
        return tuple(name for name, _ in self.states)

    @property
    def single_state(self):
        """Whether its final state is one tensor (else a tuple, in ``states``' order)."""
        return len(self.states) == 1

    def argument(self, key):
        """The keyword its operation takes ``key`` (one of ``ARGUMENTS``) by."""
        return dict(self.arguments).get(key, key)

    def sizes(self, inputs):
        """{size: value} bound by ``inputs`` ({name: array}); ValueError naming the input and
        axis where a size disagrees, an input is missing, or a group does not divide."""
        found, origin = {}, {}
        for spec in self.inputs:
            if spec.name not in inputs:
                raise ValueError(f"operation {self.name}: input {spec.name} is missing")
            shape = np.shape(inputs[spec.name])
            if len(shape) != len(spec.shape):
                raise ValueError(f"operation {self.name}: {spec.name} has shape {shape}; expected "
                                 f"({', '.join(spec.shape)})")
            for axis, (letter, got) in enumerate(zip(spec.shape, shape)):
                if found.setdefault(letter, got) != got:
                    raise ValueError(f"operation {self.name}: {spec.name} has {letter}={got} (axis {axis}), but "
                                     f"{origin[letter]} has {letter}={found[letter]}")
                origin.setdefault(letter, spec.name)
        for few, many in self.groups:
            if few in found and many in found and (found[few] < 1 or found[many] % found[few]):
                raise ValueError(f"operation {self.name}: {many}={found[many]} is not a multiple of "
                                 f"{few}={found[few]} (each of {few} heads serves {many}/{few})")
        return MappingProxyType(found)

    def state_shapes(self, sizes, sequences):
        """The shape of each state for ``sequences`` sequences: (N, ...)."""
        missing = [s for _, shape in self.states for s in shape if s not in sizes]
        if missing:
            raise ValueError(f"operation {self.name}: its states need the sizes {sorted(set(missing))}, which no "
                             f"input's shape binds")
        return tuple((sequences,) + tuple(sizes[s] for s in shape) for _, shape in self.states)

    def default_scale(self, sizes):
        return None if self.scale is None else 1.0 / math.sqrt(sizes[self.scale])


#: The options every operation is called with, by their default keyword names.
ARGUMENTS = ("scale", "initial_state", "output_final_state", "cu_seqlens", "chunk_size")


# --- the public entry points -------------------------------------------------------------------

def operation(record, inputs, scale=None, initial_state=None, cu_seqlens=None):
    """What ``record``'s operation must return, in float64: (o, final_state).

    inputs: {name: array} of every input of the record, in its shapes (B, T, ...).
    scale: the scale the operation is given; None means its default (1/sqrt(K)).
    initial_state: one state per sequence, (N, ...), or a tuple for several states; None: zeros.
    cu_seqlens: (N + 1,) offsets of N sequences concatenated along T (B must be 1), or None
        for B sequences of T tokens each.
    Returns o (record.output's shape) and the final state (N, ...) (a tuple for several).
    """
    run = _Run(record, inputs, scale, initial_state, cu_seqlens, None)
    with np.errstate(over="ignore"):
        return run.result(run.forward())[0]


@quiet
def operation_with_bound(record, inputs, precision, scale=None, initial_state=None, cu_seqlens=None,
                         chunk_size=None):
    """``operation(...)`` and, in the same structure, a per-element bound on the error of an
    implementation computing in ``precision``.  ``chunk_size``: the chunks a chunked form
    cuts each sequence into, for the chunk charge (``Precision.scan``; None: one chunk per
    sequence).  Returns (result, bound)."""
    run = _Run(record, inputs, scale, initial_state, cu_seqlens, _bounded(precision), chunk_size)
    return run.result(run.forward())


def operation_backward(record, inputs, grad_output=None, grad_state=None, scale=None, initial_state=None,
                       cu_seqlens=None):
    """Gradients of ``sum(grad_output * o) + sum(grad_state * final_state)`` for ``operation``
    called with the same arguments; each upstream gradient may be None (zero).  Returns a
    dict: one entry per input, by name, and ``"initial_state"`` (a tuple for several states)."""
    run = _Run(record, inputs, scale, initial_state, cu_seqlens, Arithmetic())
    return run.backward(grad_output, grad_state)[0]


@quiet
def operation_backward_with_bound(record, inputs, precision, grad_output=None, grad_state=None, scale=None,
                                  initial_state=None, cu_seqlens=None, chunk_size=None):
    """``operation_backward(...)`` and, keyed the same way, a per-element bound on the error of
    an implementation computing the gradients in ``precision``.  Returns (gradients, bounds)."""
    run = _Run(record, inputs, scale, initial_state, cu_seqlens, _bounded(precision), chunk_size)
    return run.backward(grad_output, grad_state)


def _bounded(precision):
    if not isinstance(precision, Precision):
        raise TypeError(f"precision={precision!r}: expected a reference.Precision")
    return Arithmetic(precision)


# --- the loop --------------------------------------------------------------------------------

class _Run:
    """One call of an operation: its inputs laid out per sequence (N, T_max, ...), its initial
    state, and the arithmetic it runs in (None: plain float64 values)."""

    def __init__(self, record, inputs, scale, initial_state, cu_seqlens, arith, chunk_size=None):
        if not isinstance(record, Operation):
            raise TypeError(f"record={record!r}: expected a reference.Operation")
        self.record, self.arith = record, arith
        inputs = {name: np.asarray(value, dtype=np.float64) for name, value in inputs.items()}
        self.sizes, self.inputs = record.sizes(inputs), inputs
        batch, steps = self.sizes["B"], self.sizes["T"]
        self.offsets = _offsets(cu_seqlens, batch, steps)
        self.lengths = np.diff(self.offsets) if self.offsets is not None else np.full(batch, steps)
        self.count = len(self.lengths)
        self.longest = int(self.lengths.max(initial=0))
        self.scale = record.default_scale(self.sizes) if scale is None else float(scale)
        # time-major and contiguous: a token's slice (N, ...) is one block of memory (a strided one
        # makes every broadcast product of the step several times slower)
        self.tokens = {i.name: np.ascontiguousarray(np.moveaxis(self._per_sequence(inputs[i.name]), 1, 0))
                       for i in record.inputs if i.per_token}
        self.parameters = {i.name: inputs[i.name] for i in record.inputs if not i.per_token}
        self.repeats = {i.name: self._repeats(i) for i in record.inputs}
        self.state0 = self._initial(initial_state)
        self.chunk = _ChunkCharge(self, chunk_size)

    def _per_sequence(self, values):
        """(B, T, ...) -> (N, T_max, ...): sequence n's tokens first, zeros past its end."""
        if self.offsets is None:
            return values
        laid = np.zeros((self.count, self.longest) + values.shape[2:])
        for n, (start, length) in enumerate(zip(self.offsets[:-1], self.lengths)):
            laid[n, :length] = values[0, start:start + length]
        return laid

    def _repeats(self, spec):
        """(axis, groups) of each grouped size in this input's shape: its heads repeated."""
        found = []
        for few, many in self.record.groups:
            if few in spec.shape and self.sizes[many] != self.sizes[few]:
                axis = spec.shape.index(few) - (1 if spec.per_token else 0)  # the token's axes: (N, ...)
                found.append((axis, self.sizes[many] // self.sizes[few]))
        return found

    def _initial(self, initial_state):
        shapes = self.record.state_shapes(self.sizes, self.count)
        if initial_state is None:
            return tuple(np.zeros(shape) for shape in shapes)
        parts = (initial_state,) if self.record.single_state else tuple(initial_state)
        if len(parts) != len(shapes):
            raise ValueError(f"operation {self.record.name}: initial_state has {len(parts)} parts; expected "
                             f"{len(shapes)} ({', '.join(self.record.state_names)})")
        parts = tuple(np.asarray(p, dtype=np.float64) for p in parts)
        for name, part, shape in zip(self.record.state_names, parts, shapes):
            if part.shape != shape:
                raise ValueError(f"operation {self.record.name}: initial state {name} has shape {part.shape}; "
                                 f"expected {shape} (one per sequence)")
        return parts

    def token(self, t, arith):
        """The namespace the step reads at token t: each input's (N, ...) slice (parameters
        whole), exact numbers of ``arith``, grouped heads repeated; and the leaves a tape
        differentiates (the slices before repeating)."""
        leaves, x = {}, {}
        for name, values in list(self.tokens.items()) + list(self.parameters.items()):
            part = values[t] if name in self.tokens else values
            leaf = part if arith is None else arith.exact(part)
            leaves[name] = leaf
            for axis, groups in self.repeats[name]:
                leaf = repeat_heads(leaf, groups, axis)
            x[name] = leaf
        return SimpleNamespace(**x), leaves

    def live(self, t, like):
        """Which sequences are still running at token t, shaped to broadcast against ``like``
        (N, ...); None when every sequence is."""
        if self.offsets is None:
            return None
        return (t < self.lengths).reshape((self.count,) + (1,) * (np.ndim(value_of(like)) - 1))

    def step(self, t, state, arith):
        """(the state after token t, the token's output, the leaves read) from ``state``; a
        sequence past its end keeps its state."""
        x, leaves = self.token(t, arith)
        new, out = _checked(self.record, self.record.step(x, state, self.scale), len(state))
        live = self.live(t, new[0])
        if live is not None:
            new = tuple(where(self.live(t, n), n, s) for n, s in zip(new, state))
        return new, out, leaves

    def forward(self, keep_states=False):
        """(the outputs per token, (T_max, N, ...) values and errors; the final states).  With
        ``keep_states``, ``self.states`` holds the state before each token (the backward's
        starting points); without, each state is freed once the next is computed (a state of
        K = V = 128 per head is megabytes, and memory never reused is paged in afresh)."""
        arith = self.arith
        state = self.state0 if arith is None else tuple(arith.exact(s) for s in self.state0)
        outs, errors, self.states = [], [], [state]
        for t in range(self.longest):
            state, out, _ = self.step(t, state, arith)
            outs.append(value_of(out))
            errors.append(error_of(out))
            if keep_states:
                self.states.append(state)
        return outs, errors, state

    def result(self, ran):
        """((o, final state), (their bounds)) in the record's shapes."""
        outs, errors, finals = ran
        output = self._tokens_back(outs)
        values = tuple(value_of(s) for s in finals)
        single = (lambda parts: parts[0]) if self.record.single_state else tuple
        if self.arith is None or self.arith.precision is None:
            return (output, single(values)), None
        bound = self.chunk.output(self._tokens_back(errors), output)
        state_bounds = tuple(self.chunk.state(error_of(s), value_of(s)) for s in finals)
        return (output, single(values)), (bound, single(state_bounds))

    def _tokens_back(self, per_token, shape=None):
        """[T_max of (N, ...)] -> the (B, T, ...) of ``shape`` (default the output's; (1, total,
        ...) with cu_seqlens)."""
        shape = tuple(self.sizes[s] for s in (shape or self.record.output))
        if not per_token:
            return np.zeros(shape)
        stacked = np.stack(per_token, axis=1)  # (N, T_max, ...)
        if self.offsets is None:
            return stacked.reshape(shape)
        out = np.zeros(shape)
        for n, (start, length) in enumerate(zip(self.offsets[:-1], self.lengths)):
            out[0, start:start + length] = stacked[n, :length]
        return out

    def backward(self, grad_output, grad_state):
        """(gradients, bounds or None): the forward run, then each token's step re-run on a tape
        from its saved state and walked back, last token first."""
        arith = self.arith
        outs, errors, finals = self.forward(keep_states=True)
        d_out = self._per_sequence(np.zeros(np.shape(self._tokens_back(outs))) if grad_output is None
                                   else np.asarray(grad_output, dtype=np.float64))
        upstream = (grad_state,) if self.record.single_state else tuple(grad_state or (None,) * len(finals))
        d_state = [arith.exact(np.zeros(np.shape(value_of(s))) if g is None else g) for g, s in zip(upstream, finals)]
        per_token = {name: [None] * self.longest for name in self.tokens}
        d_parameters = {name: None for name in self.parameters}
        for t in reversed(range(self.longest)):
            stepping = arith.recording()
            start = [stepping.adopt(s) for s in self.states[t]]
            new, out, leaves = self.step(t, start, stepping)
            grads = [arith.exact(d_out[:, t])] + d_state
            found = stepping.tape.backward(arith, [out, *new], grads, list(leaves.values()) + start)
            for name, d in zip(leaves, found):
                d = arith.zeros(np.shape(value_of(leaves[name]))) if d is None else d
                if name in per_token:
                    per_token[name][t] = d
                else:
                    d_parameters[name] = d if d_parameters[name] is None else d_parameters[name] + d
            d_state = [arith.zeros(np.shape(value_of(s))) if d is None else d
                       for d, s in zip(found[len(leaves):], self.states[t])]
        return self._gradients(per_token, d_parameters, d_state)

    def _gradients(self, per_token, d_parameters, d_state):
        grads, bounds = {}, {}
        for name, ds in per_token.items():
            shape = next(i.shape for i in self.record.inputs if i.name == name)
            grads[name] = self._tokens_back([value_of(d) for d in ds], shape)
            bounds[name] = self._tokens_back([error_of(d) for d in ds], shape)
        for name, d in d_parameters.items():
            shape = np.shape(self.parameters[name])
            grads[name] = np.zeros(shape) if d is None else value_of(d)
            bounds[name] = np.zeros(shape) if d is None else error_of(d)
        single = (lambda parts: parts[0]) if self.record.single_state else tuple
        grads["initial_state"] = single(tuple(value_of(d) for d in d_state))
        bounds["initial_state"] = single(tuple(error_of(d) for d in d_state))
        if self.arith.precision is None:
            return grads, None
        values = {name: np.asarray(self.inputs[name]) for name in grads if name != "initial_state"}
        values["initial_state"] = self.state0 if not self.record.single_state else self.state0[0]
        if not self.record.single_state:
            values["initial_state"] = tuple(self.state0)
        return grads, self.chunk.gradients(bounds, grads, values)



def _offsets(cu_seqlens, batch, steps):
    """cu_seqlens checked: int offsets from 0 to T, non-decreasing, with B = 1; None without."""
    if cu_seqlens is None:
        return None
    offsets = np.asarray(cu_seqlens)
    if offsets.ndim != 1 or offsets.size < 2 or not np.issubdtype(offsets.dtype, np.integer):
        raise ValueError(f"cu_seqlens={cu_seqlens!r}: expected N + 1 integer offsets")
    if batch != 1:
        raise ValueError(f"cu_seqlens with B={batch}: sequences are concatenated along T, B must be 1")
    if offsets[0] != 0 or offsets[-1] != steps or np.any(np.diff(offsets) < 0):
        raise ValueError(f"cu_seqlens={offsets.tolist()}: expected offsets from 0 up to T={steps}, non-decreasing")
    return offsets.astype(np.int64)


def _checked(record, returned, count):
    """The step's (new state, output), checked against the record's states."""
    if not (isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[0], tuple)
            and len(returned[0]) == count):
        raise ValueError(f"operation {record.name}: its step must return (new state as a tuple of {count}: "
                         f"{', '.join(record.state_names)}, the token's output)")
    return returned


class _ChunkCharge:
    """What a chunked form may add to the step loop's error (``Precision.scan``, declared by
    the target, in roundoffs: ``factor``): within a chunk it evaluates every pair of tokens'
    contribution with the factor exp(gc_i - gc_j) of cumulative log-decays, whose rounding is
    relative to their size, and sums up to C of them in one product, so a token's result may be
    off by ``factor`` roundoffs per unit of the chunk's range so far (the tokens since the
    chunk's start plus |gc| there), relative to the terms it sums: the step loop's own bound
    and, since a chunk's products cancel terms the step loop never forms, the quantity's
    largest magnitude (a normwise error, as a matrix product's).  Charged on every output token
    (the largest range yet: an earlier chunk's error reaches it through the state), on the final
    state, and on every gradient (the backward crosses every chunk)."""

    def __init__(self, run, chunk_size):
        precision = None if run.arith is None else run.arith.precision
        self.factor = 0.0 if precision is None or not precision.scan else precision.scan / precision.storage
        self.roundoff = 0.0 if precision is None else precision.storage
        self.reach, self.lengths, self.varlen = None, run.lengths, run.offsets is not None
        # the longest contraction a chunk's products make besides its tokens: the state's widest axis
        self.width = max(run.sizes[s] for s in run.record.states[0][1][-2:])
        if self.factor:
            self.reach = self._reach(run, chunk_size)  # (N, T_max): the largest range up to each token

    @staticmethod
    def _reach(run, chunk_size):
        size = chunk_size or max(run.longest, 1)
        decay = np.zeros((run.count, run.longest))
        if run.record.log_decay is not None:
            for t in range(run.longest):
                g = np.abs(value_of(run.record.log_decay(run.token(t, None)[0])))
                decay[:, t] = g.reshape(run.count, -1).max(axis=1)
        reach = np.zeros_like(decay)
        for start in range(0, run.longest, size):
            chunk = slice(start, start + size)
            reach[:, chunk] = np.arange(1, decay[:, chunk].shape[1] + 1) + np.cumsum(decay[:, chunk], axis=1)
        return np.maximum.accumulate(reach, axis=1) if reach.size else reach

    def _charged(self, bound, value, reach):
        """bound + factor reach (bound + roundoff max|value|)."""
        largest = float(np.max(np.abs(value) + bound, initial=0.0))
        return bound + self.factor * reach * (bound + self.roundoff * largest)

    def output(self, bound, value):
        if not self.factor or not self.reach.size:
            return bound
        reach = self.reach
        if self.varlen:  # (1, total, ...): the sequences' tokens back in order
            reach = np.concatenate([r[:length] for r, length in zip(self.reach, self.lengths)])[None]
        return self._charged(bound, value, reach.reshape(reach.shape + (1,) * (bound.ndim - 2)))

    def state(self, bound, value):
        if not self.factor or not self.reach.size:
            return bound
        last = np.array([r[length - 1] if length else 0.0 for r, length in zip(self.reach, self.lengths)])
        return self._charged(bound, value, last.reshape((-1,) + (1,) * (bound.ndim - 1)))

    def gradients(self, bounds, grads, values):
        """Every gradient's bound charged over the whole range.  A chunk's gradient sums terms
        that cancel where the step loop forms none (a log-decay's gradient is a difference of
        pairwise factors' gradients, each a contraction over the state's widest axis): each
        gradient's magnitude is also taken as at least the largest first-order change any input
        makes to the loss, |grad y * y|, per unit of its own input (at least 1), times that width."""
        if not self.factor or not self.reach.size:
            return bounds
        most = float(self.reach.max())
        parts = lambda x: x if isinstance(x, tuple) else (x,)
        change = max((float(np.max(np.abs(g * v), initial=0.0)) for name in grads
                      for g, v in zip(parts(grads[name]), parts(values[name]))), default=0.0)
        charged = {}
        for name, bound in bounds.items():
            pieces = []
            for b, g, v in zip(parts(bound), parts(grads[name]), parts(values[name])):
                floor = self.width * change / max(float(np.max(np.abs(v), initial=0.0)), 1.0)
                pieces.append(self._charged(b, np.abs(g) + floor, most))
            charged[name] = tuple(pieces) if isinstance(bound, tuple) else pieces[0]
        return charged
