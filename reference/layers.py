"""``reference.rnn``: stacked, bidirectional, packed recurrent layers with torch's shapes and
semantics, forward and backward, values and error bounds, all through one time loop.

``_run_direction`` steps one direction of one layer forward over time, calling the cell of
``reference.cells``; ``_backprop_direction`` walks the same steps back.  The loop runs on
float64 arrays for ``rnn`` and on ``reference.arithmetic.Num``s for the others, whose steps
are recorded on a tape each when gradients are wanted.
"""
import functools

import numpy as np

from . import cells
from .arithmetic import Affine, Arithmetic, GradientSum, Precision, concat, error_of, linear, stack, value_of, where
from .names import suffixes

MODES = tuple(cells.VARIANTS)


def quiet(function):
    """``function`` with numpy's overflow, invalid and divide warnings off, as the oracle's
    bounded entry points run: a bound may grow to inf or NaN, and then says nothing (the
    comparisons read it so); a warning would reach the user as if the target had printed it."""
    @functools.wraps(function)
    def quietly(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return function(*args, **kwargs)
    return quietly


def rnn(x, weights, mode="LSTM", num_layers=1, bidirectional=False, batch_first=False,
        hx=None, lengths=None, proj_size=None, side=None):
    """What ``torch.nn.{RNN,GRU,LSTM}`` must compute, in float64.

    x: (T, B, I), or (B, T, I) with batch_first, or (T, I) unbatched.
    weights: numpy arrays keyed like the torch module's ``state_dict()``; missing
        biases mean ``bias=False``; sizes are read from them.
    hx: h0 of shape (L*D, B, P), or (L*D, P) unbatched (never batch-first); for LSTM
        the pair (h0, c0) with c0 (L*D, B, H).  None means zeros.  P is proj_size or H.
    lengths: per-sequence lengths (B,), packed-sequence semantics: each direction runs
        over each sequence's own steps only, h_n is the state at its end, and output
        past its length is zero.
    side: {name: values} of the variant's side inputs (``reference.Variant.side_inputs``,
        CfC's timespans), each (T, B), (B, T) with batch_first, or (T,) unbatched.
    Returns (output, h_n), or (output, (h_n, c_n)) for LSTM: output (T, B, D*P)
    (batch-first or unbatched like x), h_n (L*D, B, P), c_n (L*D, B, H).  A variant of
    several states returns them all, in its order, as LSTM does (h_n, c_n).
    """
    layout, x, state0, lengths = _arguments(x, weights, mode, num_layers, bidirectional, batch_first, hx,
                                            lengths, proj_size, side)
    with np.errstate(over="ignore"):  # sigmoid's exp(-a) may overflow where sigmoid is 0
        output, finals, _ = _run(layout, x, weights, state0, lengths, arith=None)
    return layout.shaped((output,) + finals)


@quiet
def rnn_with_bound(x, weights, precision, mode="LSTM", num_layers=1, bidirectional=False,
                   batch_first=False, hx=None, lengths=None, proj_size=None, side=None):
    """``rnn(...)`` and, in the same structure, a per-element bound on the error of an
    implementation computing in ``precision`` (a ``reference.Precision``) from exactly
    these inputs and weights.  Returns (result, bound)."""
    arith = _bounded(precision)
    layout, x, state0, lengths = _arguments(x, weights, mode, num_layers, bidirectional, batch_first, hx,
                                            lengths, proj_size, side)
    output, finals, _ = _run(layout, x, weights, state0, lengths, arith)
    parts = (output,) + finals
    return layout.shaped([value_of(p) for p in parts]), layout.shaped([error_of(p) for p in parts])


def rnn_backward(x, weights, mode="LSTM", num_layers=1, bidirectional=False, batch_first=False, hx=None,
                 lengths=None, grad_output=None, grad_h_n=None, grad_c_n=None, side=None, grad_states=()):
    """Gradients of ``sum(grad_output * output) + sum(grad_h_n * h_n) + sum(grad_c_n * c_n)``
    for ``reference.rnn`` called with the same arguments (backpropagation through time).
    Each upstream gradient has the shape of the value it belongs to and may be None (zero).

    A variant of more than two states takes the upstream gradients of its third and later
    final states in ``grad_states`` (in its order).

    Returns a dict: ``"input"`` (shaped like x), ``"h0"`` (like h0, batched or not),
    ``"c0"`` for LSTM (one per state, named ``<state>0``), and one entry per weight, keyed
    like ``weights``.
    """
    grads, _ = _gradients(x, weights, None, mode, num_layers, bidirectional, batch_first, hx, lengths,
                          (grad_output, grad_h_n, grad_c_n, *grad_states), side)
    return grads


def rnn_backward_with_bound(x, weights, precision, mode="LSTM", num_layers=1, bidirectional=False,
                            batch_first=False, hx=None, lengths=None, grad_output=None, grad_h_n=None,
                            grad_c_n=None, side=None, grad_states=()):
    """``rnn_backward(...)`` and, keyed the same way, a per-element bound on the error of an
    implementation computing the gradients in ``precision`` from exactly these inputs,
    weights and upstream gradients.  Returns (gradients, bounds)."""
    _bounded(precision)
    return _gradients(x, weights, precision, mode, num_layers, bidirectional, batch_first, hx, lengths,
                      (grad_output, grad_h_n, grad_c_n, *grad_states), side)


def _bounded(precision):
    if not isinstance(precision, Precision):
        raise TypeError(f"precision={precision!r}: expected a reference.Precision")
    return Arithmetic(precision)


def layer_sizes(weights, mode, num_layers, bidirectional):
    """(input_size, hidden_size, proj_size, bias) read from a state-dict-like mapping."""
    variant = cells.variant(mode)
    if not (isinstance(num_layers, int) and num_layers >= 1):
        raise ValueError(f"num_layers={num_layers!r}: expected an int >= 1")
    _, input_size = np.shape(_weight(weights, "weight_ih_l0"))
    hidden_size = variant.hidden_from(weights)
    if hidden_size < 1:
        raise ValueError(f"the weights give mode {mode} a hidden size of {hidden_size}")
    named = variant.read_sizes(weights)
    proj_size = np.shape(weights["weight_hr_l0"])[0] if "weight_hr_l0" in weights else 0
    if proj_size and not variant.projection:
        projecting = ", ".join(v.name for v in cells.VARIANTS.values() if v.projection)
        raise ValueError(f"weight_hr_l0 present: projections exist only for {projecting}, not {mode}")
    bias = any(kind + "_l0" in weights for kind in variant.bias_kinds)
    out_size = proj_size or hidden_size
    directions = 2 if bidirectional else 1
    for layer in range(num_layers):
        shapes = variant.shapes(input_size if layer == 0 else out_size * directions, hidden_size, proj_size, bias,
                                named)
        for suffix in suffixes(layer, directions):
            for kind, shape in shapes.items():
                _expect_shape(weights, kind + suffix, shape)
    return input_size, hidden_size, proj_size, bias


def _weight(weights, key):
    if key not in weights:
        raise ValueError(f"weights has no {key!r}: keys must follow the torch module's state_dict()")
    return weights[key]


def _expect_shape(weights, key, shape):
    got = np.shape(_weight(weights, key))
    if got != shape:
        raise ValueError(f"{key} has shape {got}, expected {shape}")


# --- arguments ---------------------------------------------------------------------------------

class _Layout:
    """What the arguments say about the layers and about the caller's layout."""

    def __init__(self, mode, num_layers, directions, bias, hidden_size, out_size, batched, batch_first):
        self.mode, self.num_layers, self.directions, self.bias = mode, num_layers, directions, bias
        self.variant = cells.variant(mode)
        self.hidden_size, self.out_size = hidden_size, out_size
        self.batched, self.batch_first = batched, batch_first
        self.side = {}

    def shaped(self, parts):
        """(output, h_n) or (output, (h_n, c_n)) in the caller's layout, from (T, B, .) parts."""
        output, finals = parts[0], tuple(parts[1:])
        if not self.batched:
            output, finals = output[:, 0, :], tuple(f[:, 0, :] for f in finals)
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        return (output, finals) if self.variant.paired else (output, finals[0])

    def gradients(self, grads, d_input, d_state0):
        """``grads`` with "input", "h0" (and "c0") added in the caller's layout."""
        grads["input"] = (d_input.transpose(1, 0, 2) if self.batch_first else d_input) if self.batched \
            else d_input[:, 0]
        for name, value in zip((f"{state}0" for state in self.variant.states), d_state0):
            grads[name] = value if self.batched else value[:, 0]
        return grads

    def upstream(self, grad, shape, state=False):
        """An upstream gradient in the (T, B, .) layout (zeros for None)."""
        if grad is None:
            return np.zeros(shape)
        grad = np.asarray(grad, dtype=np.float64)
        if not self.batched:
            return grad[:, None, :]
        return grad.transpose(1, 0, 2) if self.batch_first and not state else grad


def _arguments(x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths, proj_size, side=None):
    """Checks the arguments; returns the layout (with the side inputs as (T, B, 1) arrays),
    x as (T, B, I), the initial states as (L*D, B, .) arrays and the lengths (None where every
    sequence is full)."""
    input_size, hidden_size, found_proj, bias = layer_sizes(weights, mode, num_layers, bidirectional)
    if proj_size not in (None, found_proj):
        raise ValueError(f"proj_size={proj_size!r} but the weights have proj_size {found_proj}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(f"x has {x.ndim} dimensions: expected (T, B, I), (B, T, I) or (T, I)")
    batched = x.ndim == 3
    if not batched:
        x = x[:, None, :]
    elif batch_first:
        x = x.transpose(1, 0, 2)
    steps, batch, got_input = x.shape
    if got_input != input_size or steps < 1:
        raise ValueError(f"x has shape {x.shape} (T, B, I): expected T >= 1 and I = {input_size}")
    directions = 2 if bidirectional else 1
    layout = _Layout(mode, num_layers, directions, bias, hidden_size, found_proj or hidden_size, batched,
                     batch_first)
    state0 = _initial_state(hx, layout, num_layers * directions, batch)
    layout.side = _side_inputs(side, layout, steps, batch)
    return layout, x, state0, _check_lengths(lengths, batch, steps)


def _side_inputs(side, layout, steps, batch):
    """{name: (T, B, 1) array} of the variant's side inputs, checked against its record."""
    wanted = dict(layout.variant.side_inputs)
    side = dict(side or {})
    if set(side) != set(wanted):
        raise ValueError(f"side={sorted(side)}: variant {layout.mode} takes the side inputs {sorted(wanted) or 'none'}")
    found = {}
    for name, values in side.items():
        values = np.asarray(values, dtype=np.float64)
        expected = (steps, batch) if layout.batched else (steps,)
        got = values.shape if not (layout.batched and layout.batch_first) else values.shape[::-1]
        if got != expected:
            raise ValueError(f"side input {name} has shape {values.shape}: expected "
                             f"{'(B, T)' if layout.batch_first else '(T, B)' if layout.batched else '(T,)'}")
        values = values.T if layout.batched and layout.batch_first else values
        found[name] = values.reshape(steps, batch, 1)
    return found


def _initial_state(hx, layout, count, batch):
    variant = layout.variant
    sizes = tuple(layout.out_size if state == "h" else layout.hidden_size for state in variant.states)
    if hx is None:
        return tuple(np.zeros((count, batch, size)) for size in sizes)
    parts = tuple(hx) if variant.paired else (hx,)
    if len(parts) != len(sizes):
        raise ValueError(f"hx for {layout.mode} must be {variant.initial_state}")
    state = []
    for name, part, size in zip((f"{state}0" for state in variant.states), parts, sizes):
        part = np.asarray(part, dtype=np.float64)
        expected = (count, batch, size) if layout.batched else (count, size)
        if part.shape != expected:
            raise ValueError(f"{name} has shape {part.shape}, expected {expected}")
        variant.check_domain(name[:-1], part)
        state.append(part if layout.batched else part[:, None, :])
    return tuple(state)


def _check_lengths(lengths, batch, steps):
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be {batch} integers, got {lengths!r}")
    if lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(f"lengths must lie in [1, {steps}], got {lengths.tolist()}")
    return None if (lengths == steps).all() else lengths


# --- the layers, forward and backward ----------------------------------------------------------

class _Parameters:
    """One direction of one layer: the input projection, and what its step reads (a
    ``cells.StepWeights``): the hidden projection, the LSTM's output projection and every
    other parameter of the variant, as ``Affine``s (which collect their gradients) or as
    vectors (whose gradients ``GradientSum``s collect)."""

    def __init__(self, variant, weights, suffix, bias):
        kinds = variant.kinds if bias else [kind for kind in variant.kinds if kind not in variant.bias_kinds]
        present = {kind: weights[kind + suffix] for kind in kinds if kind + suffix in weights}
        w_ih, w_hh = present["weight_ih"], present.get("weight_hh")
        matrix_hidden = np.ndim(w_hh) == 2
        terms = np.shape(w_ih)[1] + (np.shape(w_hh)[1] if matrix_hidden else 0) + 2  # the step as one fused dot
        names = lambda kind, bias_kind: (kind + suffix, None if bias_kind is None else bias_kind + suffix)
        self.input = Affine(w_ih, present.get("bias_ih"), terms, names("weight_ih", "bias_ih"))
        self.weights = cells.StepWeights()
        if matrix_hidden:
            self.weights.hidden = Affine(w_hh, present.get("bias_hh"), terms, names("weight_hh", "bias_hh"))
        if "weight_hr" in present:
            self.weights.projection = Affine(present["weight_hr"], names=names("weight_hr", None))
        self.vectors = {}
        for kind, value in present.items():
            if kind in ("weight_ih", "bias_ih", "weight_hr") or (matrix_hidden and kind in ("weight_hh", "bias_hh")):
                continue
            if np.ndim(value) == 2 and kind not in variant.elementwise:
                setattr(self.weights, kind, Affine(value, names=names(kind, None)))
            else:
                self.vectors[kind] = np.asarray(value, dtype=np.float64)
                setattr(self.weights, kind, self.vectors[kind])
        self.suffix, self.sums, self.reads_input = suffix, {}, variant.reads_input

    def affines(self):
        return [self.input] + [a for a in vars(self.weights).values() if isinstance(a, Affine)]

    def step_weights(self, arith=None):
        """(what the step reads, its vectors as leaves of ``arith``'s tape): with ``arith``,
        the vectors are leaves, so that backpropagation gives their gradients."""
        if arith is None or not self.vectors:
            return self.weights, []
        leaves = {kind: arith.adopt(value) for kind, value in self.vectors.items()}
        weights = cells.StepWeights(**{k: v for k, v in vars(self.weights).items() if k in ("hidden", "projection")})
        for kind, value in vars(self.weights).items():
            setattr(weights, kind, leaves.get(kind, value))
        return weights, list(leaves.values())

    def add_vector_gradients(self, arith, grads):
        """Sums one step's gradients of the vectors (in ``step_weights``' order) over the batch."""
        for kind, grad in zip(self.vectors, grads):
            if grad is not None:
                total = self.sums.setdefault(kind, GradientSum(self.vectors[kind].shape, arith.precision is not None))
                total.add(grad)

    def gradients(self, precision):
        """{name: (gradient, bound or None)} of everything backpropagation summed."""
        found = {}
        for affine in self.affines():
            found.update(affine.gradients(precision))
        found.update((kind + self.suffix, total.result(precision)) for kind, total in self.sums.items())
        return found


def _run(layout, x, weights, state0, lengths, arith, record=False):
    """All layers forward.  Returns (output, final states) in the (T, B, .) layout, arrays
    without ``arith`` and Nums with it, and with ``record`` what backpropagation needs: per
    layer its input and, per direction, its parameters and its steps' records."""
    if arith is not None:
        x, state0 = arith.exact(x), tuple(arith.exact(s) for s in state0)
    layer_in, finals, records = x, [], []
    for layer in range(layout.num_layers):
        params = [_Parameters(layout.variant, weights, suffix, layout.bias)
                  for suffix in suffixes(layer, layout.directions)]
        starts = [tuple(s[layer * layout.directions + d] for s in state0) for d in range(layout.directions)]
        if not record and _pairable(layout, params, arith):
            outs, ends = _run_pair(layout.variant, layer_in, params, starts, lengths, arith)
            finals.extend(ends)
            directions = [(p, None) for p in params]
        else:
            outs, directions = [], []
            for d, (p, start) in enumerate(zip(params, starts)):
                out, final, steps = _run_direction(layout.variant, layer_in, p, start, lengths, d == 1, arith,
                                                   record, layout.side)
                outs.append(out)
                finals.append(final)
                directions.append((p, steps))
        records.append((layer_in, directions))
        layer_in = outs[0] if len(outs) == 1 else concat(outs)
    return layer_in, tuple(stack(part) for part in zip(*finals)), records


#: The variants whose step is written for states of any leading axes, so that both directions
#: of a layer may step together (``_run_pair``): torch's four.
_PAIRABLE = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM")


def _pairable(layout, params, arith):
    """Whether both directions of this layer can step together: two directions of one of
    torch's variants, reading no side input, in an arithmetic that charges no scan."""
    variant = layout.variant
    scanning = arith is not None and arith.precision is not None and arith.precision.scan
    return (len(params) == 2 and variant.name in _PAIRABLE and variant is cells.VARIANTS[variant.name]
            and not layout.side and not scanning)


def _run_pair(variant, x, params, starts, lengths, arith):
    """Both directions of one layer forward together: step t of the forward direction and step
    T-1-t of the reverse one as one step on arrays stacked on a new leading axis, each
    direction with its own weights (``_paired``).  Element by element the arithmetic is that of
    two ``_run_direction`` calls, and so are the results, bit for bit, in about the time of
    one.  Returns (the two outputs (T, B, P), the two final states)."""
    steps = np.shape(value_of(x))[0]
    forward, reverse = (linear(x, p.input) for p in params)
    gx = _together([forward, reverse[::-1]], arith, axis=1)  # (T, 2, B, G): the reverse one read backwards
    state = tuple(_together(pair, arith) for pair in zip(*starts))
    weights = cells.StepWeights(*(_paired(params[0].weights, params[1].weights, part)
                                  for part in ("hidden", "projection")))
    outs = [None] * steps
    for t in range(steps):
        new = _stepped(variant, variant.step(gx[t], *state, weights))
        if lengths is not None:
            live = np.stack([t < lengths, steps - 1 - t < lengths])[:, :, None]
            new = tuple(where(live, n, s) for n, s in zip(new, state))
            outs[t] = where(live, new[0], 0.0)
        else:
            outs[t] = new[0]
        state = new
    both = stack(outs)  # (T, 2, B, P)
    return [both[:, 0], both[::-1, 1]], [tuple(s[0] for s in state), tuple(s[1] for s in state)]


def _together(parts, arith, axis=0):
    """Numbers of ``arith`` stacked on a new ``axis``, their errors beside them."""
    value = np.stack([value_of(p) for p in parts], axis)
    if arith is None or arith.precision is None:
        return arith.make(value, None) if arith is not None else value
    return arith.make(value, np.stack([error_of(p) for p in parts], axis))


def _paired(first, second, part):
    """The ``part`` Affine of two directions' weights as one, applying each direction's to its
    half of a (2, B, K) stack; None where the variant has none."""
    one, other = getattr(first, part), getattr(second, part)
    if one is None:
        return None
    bias = None if one.bias is None else np.stack([one.bias, other.bias])[:, None, :]
    return Affine(np.stack([one.weight, other.weight]), bias, one.terms)


def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _live(t, lengths):
    """Which sequences step t belongs to, as a (B, 1) mask; None where all do."""
    return None if lengths is None else (t < lengths)[:, None]


def _run_direction(variant, x, params, state, lengths, reverse, arith, record, side=None):
    """One layer in one direction over x (T, B, I): returns its output (T, B, P), its final
    state, and with ``record`` the records of the input projection, of every step and of the
    declared scan's charge (``ScanCharge``), which the backward reads.  The step reads the raw
    input at its step (``w.x``) when its variant says so, and the side inputs at its step
    (``w.<name>``, (B, 1) constants)."""
    if record:
        projecting = arith.recording()
        x_leaf = projecting.adopt(x)
        gx_recorded = linear(x_leaf, params.input)
        gx = arith.adopt(gx_recorded)
    else:
        gx = linear(x, params.input)
    steps = np.shape(value_of(x))[0]
    outs, step_records, scan = [None] * steps, [None] * steps, ScanCharge(arith)
    for t in _order(steps, reverse):
        state = scan.entering(gx[t], state)
        at = {name: values[t] for name, values in (side or {}).items()}
        new, step_records[t] = _step(variant, params, arith, record, gx[t], x[t] if variant.reads_input else None,
                                     state, at)
        new = scan.leaving(new)
        state, outs[t] = _masked(t, lengths, new, state)
    records = (projecting.tape, x_leaf, gx_recorded, step_records, params, scan) if record else None
    return stack(outs), state, records


class ScanCharge:
    """A declared scan's error over one direction (``Precision.scan``): the log-magnitude of
    the steps so far (``scanned``), whether h's units are the gate blocks' (``per_unit``: not
    under a projection), and the largest |h| seen (``peak``).  The forward charges it step by
    step; the backward reads the whole direction's.  Without a scan declared it changes
    nothing."""

    def __init__(self, arith):
        self.arith = arith
        self.active = arith is not None and arith.precision is not None and bool(arith.precision.scan)
        self.scanned, self.peak, self.per_unit = 0.0, 0.0, True

    def entering(self, gx_t, state):
        """The state a step starts from, charged with the scan so far (log h_0 included)."""
        if not self.active:
            return state
        width = _unit_width(value_of(gx_t), state)
        self.scanned = self.scanned + _log_magnitude(gx_t, width)
        self.per_unit = width is not None
        self.peak = np.maximum(self.peak, np.abs(value_of(state[0])))
        return tuple(self.arith.scan_slack(s, self.scanned) for s in state)

    def leaving(self, new):
        """The state a step returned, charged with the scan so far."""
        if self.arith is None:
            return new
        new = tuple(self.arith.scan_slack(n, self.scanned) for n in new)
        if self.active:
            self.peak = np.maximum(self.peak, np.abs(value_of(new[0])))
        return new


def _step(variant, params, arith, record, gx_t, x_t, state, at):
    """(the new state of one step from ``state``, the step's record for the backward, or None
    without ``record``): the variant's step on the input projection ``gx_t``, the raw input
    ``x_t`` where the variant reads it (else None), and the side inputs ``at``."""
    if not record:
        reads = [x_t] if variant.reads_input else []
        return _stepped(variant, variant.step(gx_t, *state, _reading(params.weights, reads, at))), None
    stepping = arith.recording()
    weights, vectors = params.step_weights(stepping)
    extra = [stepping.adopt(x_t)] if variant.reads_input else []
    leaves = [stepping.adopt(gx_t)] + [stepping.adopt(s) for s in state]
    new = _stepped(variant, variant.step(*leaves, _reading(weights, extra, at)))
    return tuple(arith.adopt(n) for n in new), (stepping.tape, leaves + extra + vectors, new)


def _masked(t, lengths, new, state):
    """(the state after step ``t``, its output): a sequence past its length keeps its state and
    outputs zero (packed semantics)."""
    live = _live(t, lengths)
    if live is None:
        return new, new[0]
    return tuple(where(live, n, s) for n, s in zip(new, state)), where(live, new[0], 0.0)


def _reading(weights, raw_input, side):
    """``weights`` with the step's raw input (``x``) and side inputs added, as a copy: the
    same StepWeights where there are none."""
    if not raw_input and not side:
        return weights
    more = cells.StepWeights(weights.hidden, weights.projection)
    more.__dict__.update(vars(weights))
    more.__dict__.update(side)
    if raw_input:
        more.x = raw_input[0]
    return more


def _stepped(variant, new):
    """The new state a step returned, checked against its variant's states."""
    if not isinstance(new, tuple) or len(new) != len(variant.states):
        got = f"a tuple of {len(new)}" if isinstance(new, tuple) else f"a single value ({type(new).__name__})"
        raise ValueError(f"variant {variant.name}: its step returned {got}; expected a tuple of "
                         f"{len(variant.states)}, the new state ({', '.join(variant.states)})")
    return new


def _backprop_direction(arith, records, d_out, d_state, lengths, reverse):
    """Walks one direction's recorded steps back: returns d(layer input) and d(initial
    state); the weights' gradients are summed into their ``Affine``s and the vectors'."""
    projection_tape, x_leaf, gx_recorded, step_records, params, scan = records
    steps, count = len(step_records), len(d_state)
    reads = 1 if params.reads_input else 0
    d_gx, d_raw = [None] * steps, [None] * steps
    d_state = list(d_state)
    reaching = np.abs(value_of(d_state[0]))  # |upstream| that reaches this step, summed without cancelling
    for t in reversed(_order(steps, reverse)):
        tape, leaves, outs = step_records[t]
        live = _live(t, lengths)
        reaching = reaching + np.abs(value_of(d_out[t]))
        summed = d_state[0] + d_out[t]
        d_state[0] = summed if live is None else where(live, summed, d_state[0])
        d_cell = d_state if live is None else [where(live, d, 0.0) for d in d_state]
        d_cell = [arith.scan_slack(d, scan.scanned) for d in d_cell]  # a scan's backward sums over every step
        found = tape.backward(arith, outs, d_cell, leaves)
        params.add_vector_gradients(arith, found[1 + count + reads:])
        d_leaves = [arith.zeros(leaf.shape) if d is None else d
                    for d, leaf in zip(found[:1 + count + reads], leaves)]
        d_gx[t] = _scan_gate_slack(arith, d_leaves[0], reaching * scan.peak, scan.scanned, scan.per_unit)
        if reads:
            d_raw[t] = d_leaves.pop()
        d_state = d_leaves[1:] if live is None else [where(live, dp, d) for dp, d in zip(d_leaves[1:], d_state)]
    (d_x,) = projection_tape.backward(arith, [gx_recorded], [stack(d_gx)], [x_leaf])
    if reads:  # the step's own use of the raw input (a highway)
        d_x = d_x + stack(d_raw)
    return d_x, d_state


def _log_magnitude(gx, width):
    """How large one step's log-space coefficients may be, per unit (B, H, ``width`` the units
    the states and gate blocks share): 1 plus the largest |pre-activation| of its gate blocks
    (softplus(k) <= |k| + log 2; log g(v) <= |v|).  Per sequence (B, 1), the largest over every
    unit, where width is None (an LSTM's projection: h has P units, c and the gates H)."""
    gates = np.abs(value_of(gx))
    if width is None:
        return 1.0 + np.max(gates, axis=-1, keepdims=True)
    return 1.0 + np.max(gates.reshape(np.shape(gates)[:-1] + (-1, width)), axis=-2)


def _unit_width(gates, state):
    """The width every state and gate block shares (H), or None where they differ."""
    widths = {np.shape(value_of(s))[-1] for s in state}
    width = widths.pop() if len(widths) == 1 else None
    return None if width is None or np.shape(gates)[-1] % width else width


def _scan_gate_slack(arith, d_gx, magnitude, scanned, per_unit):
    """d(gx) of one step with a scan's error added (``Precision.scan``).  A log-space scan
    differentiates through cumulative sums of exponentials (torch's logcumsumexp backward
    splits the upstream gradient by sign and subtracts the two sums), so a gate's gradient is
    the difference of terms as large as every upstream gradient that reaches the step, summed
    without cancelling, times the largest |h| of the direction (``magnitude``, per unit),
    whatever the gate's own slope: charged ``scan`` times the direction's log-magnitude of
    that, on every gate block (``per_unit``: unit by unit, where h's units are the gate
    blocks'; else the largest over h's units, on every gate)."""
    if arith.precision is None or not arith.precision.scan:
        return d_gx
    width = np.shape(value_of(d_gx))[-1]
    term = scanned * magnitude
    if per_unit and width % np.shape(term)[-1] == 0:
        term = np.tile(term, (1,) * (np.ndim(term) - 1) + (width // np.shape(term)[-1],))
    else:
        term = np.max(term, axis=-1, keepdims=True)
    return arith.make(value_of(d_gx), error_of(d_gx) + arith.precision.scan * term)


def _gradients(x, weights, precision, mode, num_layers, bidirectional, batch_first, hx, lengths, upstream,
               side=None):
    """(gradients, bounds or None) of ``rnn_backward``/``rnn_backward_with_bound``."""
    recorded = _Recorded(x, weights, precision, mode, num_layers, bidirectional, batch_first, hx, lengths, side)
    arith, layout = recorded.arith, recorded.layout
    grad_output, *grad_finals = upstream
    grad_finals = (grad_finals + [None] * len(recorded.state0))[:len(recorded.state0)]
    d_out = arith.exact(layout.upstream(grad_output, recorded.output.shape))
    d_finals = [arith.exact(layout.upstream(g, s.shape, state=True)) for g, s in zip(grad_finals, recorded.state0)]
    return recorded.backward(d_out, d_finals)


class _Recorded:
    """All layers run forward with every step recorded, ready to be walked back (by
    ``rnn_backward``, and by the seed models, whose heads feed the final states' gradients)."""

    @quiet
    def __init__(self, x, weights, precision, mode, num_layers, bidirectional, batch_first, hx, lengths, side=None):
        self.arith, self.weights, self.precision = Arithmetic(precision), weights, precision
        self.layout, x, self.state0, self.lengths = _arguments(x, weights, mode, num_layers, bidirectional,
                                                               batch_first, hx, lengths, None, side)
        self.output, self.finals, self.records = _run(self.layout, x, weights, self.state0, self.lengths,
                                                      self.arith, record=True)

    @quiet
    def backward(self, d_out, d_finals):
        """(gradients, bounds or None) given d(output) and d(final states), numbers of this
        run's arithmetic in the (T, B, .) layout (Nums carry the upstream's own error)."""
        arith, layout = self.arith, self.layout
        d_state0 = [[None] * len(self.state0[0]) for _ in self.state0]
        out_size = layout.out_size
        for layer in reversed(range(layout.num_layers)):
            _, directions = self.records[layer]
            to_input = []
            for d, (_, steps) in enumerate(directions):
                index = layer * layout.directions + d
                part = d_out[..., d * out_size:(d + 1) * out_size] if layout.directions > 1 else d_out
                d_x, d_start = _backprop_direction(arith, steps, part, [f[index] for f in d_finals],
                                                   self.lengths, reverse=d == 1)
                to_input.append(d_x)
                for target, value in zip(d_state0, d_start):
                    target[index] = value
            d_out = to_input[0] if len(to_input) == 1 else to_input[0] + to_input[1]
        d_state0 = [stack(parts) for parts in d_state0]
        grads = {k: np.zeros(np.shape(v)) for k, v in self.weights.items()}
        bounds = {k: np.zeros(np.shape(v)) for k, v in self.weights.items()}
        for _, directions in self.records:
            for params, _ in directions:
                for name, (value, bound) in params.gradients(self.precision).items():
                    grads[name], bounds[name] = value, bound
        grads = layout.gradients(grads, value_of(d_out), [value_of(d) for d in d_state0])
        if self.precision is None:
            return grads, None
        return grads, layout.gradients(bounds, error_of(d_out), [error_of(d) for d in d_state0])
