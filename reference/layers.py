"""``reference.rnn``: stacked, bidirectional, packed recurrent layers with torch's shapes and semantics."""
import numpy as np

from . import bounds, cells
from .names import suffixes

MODES = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM")


def rnn(x, weights, mode="LSTM", num_layers=1, bidirectional=False, batch_first=False,
        hx=None, lengths=None, proj_size=None):
    """What ``torch.nn.{RNN,GRU,LSTM}`` must compute, in float64.

    x: (T, B, I), or (B, T, I) with batch_first, or (T, I) unbatched.
    weights: numpy arrays keyed like the torch module's ``state_dict()``; missing
        biases mean ``bias=False``; sizes are read from them.
    hx: h0 of shape (L*D, B, P), or (L*D, P) unbatched (never batch-first); for LSTM
        the pair (h0, c0) with c0 (L*D, B, H).  None means zeros.  P is proj_size or H.
    lengths: per-sequence lengths (B,), packed-sequence semantics: each direction runs
        over each sequence's own steps only, h_n is the state at its end, and output
        past its length is zero.
    Returns (output, h_n), or (output, (h_n, c_n)) for LSTM: output (T, B, D*P)
    (batch-first or unbatched like x), h_n (L*D, B, P), c_n (L*D, B, H).
    """
    with np.errstate(over="ignore"):  # sigmoid's exp(-a) may overflow where sigmoid is 0
        return _forward(x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths,
                        proj_size, precision=None)[0]


def rnn_with_bound(x, weights, precision, mode="LSTM", num_layers=1, bidirectional=False,
                   batch_first=False, hx=None, lengths=None, proj_size=None):
    """``rnn(...)`` and, in the same structure, a per-element bound on the error of an
    implementation computing in ``precision`` (a ``reference.Precision``) from exactly
    these inputs and weights.  Returns (result, bound)."""
    if not isinstance(precision, bounds.Precision):
        raise TypeError(f"precision={precision!r}: expected a reference.Precision")
    with np.errstate(over="ignore", invalid="ignore"):  # a bound may grow to inf: it then says nothing
        return _forward(x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths,
                        proj_size, precision)


def layer_sizes(weights, mode, num_layers, bidirectional):
    """(input_size, hidden_size, proj_size, bias) read from a state-dict-like mapping."""
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: expected one of {', '.join(MODES)}")
    if not (isinstance(num_layers, int) and num_layers >= 1):
        raise ValueError(f"num_layers={num_layers!r}: expected an int >= 1")
    gate_rows, input_size = np.shape(_weight(weights, "weight_ih_l0"))
    hidden_size = gate_rows // cells.GATE_COUNT[mode]
    if gate_rows != hidden_size * cells.GATE_COUNT[mode] or hidden_size < 1:
        raise ValueError(f"weight_ih_l0 has {gate_rows} rows: not a multiple of "
                         f"{cells.GATE_COUNT[mode]} for mode {mode}")
    proj_size = np.shape(weights["weight_hr_l0"])[0] if "weight_hr_l0" in weights else 0
    if proj_size and mode != "LSTM":
        raise ValueError(f"weight_hr_l0 present: projections exist only for LSTM, not {mode}")
    bias = "bias_ih_l0" in weights
    out_size = proj_size or hidden_size
    directions = 2 if bidirectional else 1
    for layer in range(num_layers):
        in_size = input_size if layer == 0 else out_size * directions
        for suffix in suffixes(layer, directions):
            _expect_shape(weights, "weight_ih" + suffix, (gate_rows, in_size))
            _expect_shape(weights, "weight_hh" + suffix, (gate_rows, out_size))
            if bias:
                _expect_shape(weights, "bias_ih" + suffix, (gate_rows,))
                _expect_shape(weights, "bias_hh" + suffix, (gate_rows,))
            if proj_size:
                _expect_shape(weights, "weight_hr" + suffix, (proj_size, hidden_size))
    return input_size, hidden_size, proj_size, bias


def _weight(weights, key):
    if key not in weights:
        raise ValueError(f"weights has no {key!r}: keys must follow the torch module's state_dict()")
    return weights[key]


def _expect_shape(weights, key, shape):
    got = np.shape(_weight(weights, key))
    if got != shape:
        raise ValueError(f"{key} has shape {got}, expected {shape}")


def _forward(x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths, proj_size,
             precision):
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
    out_size = found_proj or hidden_size
    state0 = _initial_state(hx, mode, num_layers * directions, batch, out_size, hidden_size, batched)
    lengths = _check_lengths(lengths, batch, steps)
    result, bound = _stack(x, weights, mode, num_layers, directions, bias, state0, lengths, precision)
    return (_shape_like_input(result, batched, batch_first, mode),
            None if precision is None else _shape_like_input(bound, batched, batch_first, mode))


def _initial_state(hx, mode, count, batch, out_size, hidden_size, batched):
    sizes = (out_size, hidden_size) if mode == "LSTM" else (out_size,)
    if hx is None:
        return tuple(np.zeros((count, batch, size)) for size in sizes)
    parts = tuple(hx) if mode == "LSTM" else (hx,)
    if len(parts) != len(sizes):
        raise ValueError(f"hx for {mode} must be {'(h0, c0)' if mode == 'LSTM' else 'h0'}")
    state = []
    for name, part, size in zip(("h0", "c0"), parts, sizes):
        part = np.asarray(part, dtype=np.float64)
        expected = (count, batch, size) if batched else (count, size)
        if part.shape != expected:
            raise ValueError(f"{name} has shape {part.shape}, expected {expected}")
        state.append(part if batched else part[:, None, :])
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


def _stack(x, weights, mode, num_layers, directions, bias, state0, lengths, precision):
    """Runs the layers; returns ((output, h_n[, c_n]), bounds of the same) in (T, B, .) layout."""
    layer_in, layer_err = x, None
    finals, final_errs = [], []
    for layer in range(num_layers):
        outs, errs = [], []
        for d, suffix in enumerate(suffixes(layer, directions)):
            index = layer * directions + d
            start = tuple(s[index] for s in state0)
            out, err, final, final_err = _direction(layer_in, layer_err, weights, suffix, mode, bias,
                                                   start, lengths, reverse=d == 1, precision=precision)
            outs.append(out)
            errs.append(err)
            finals.append(final)
            final_errs.append(final_err)
        layer_in = np.concatenate(outs, axis=-1)
        layer_err = None if precision is None else np.concatenate(errs, axis=-1)
    result = (layer_in,) + tuple(np.stack(part) for part in zip(*finals))
    if precision is None:
        return result, None
    return result, (layer_err,) + tuple(np.stack(part) for part in zip(*final_errs))


def _direction(x, e_x, weights, suffix, mode, bias, state, lengths, reverse, precision):
    """One layer in one direction over (T, B, I) input; returns output (T, B, P), its bound,
    the final state tuple and its bound."""
    w_ih, w_hh = weights["weight_ih" + suffix], weights["weight_hh" + suffix]
    b_ih = weights["bias_ih" + suffix] if bias else None
    b_hh = weights["bias_hh" + suffix] if bias else None
    w_hr = weights.get("weight_hr" + suffix)
    w_ih, w_hh, b_ih, b_hh, w_hr = (None if w is None else np.asarray(w, dtype=np.float64)
                                    for w in (w_ih, w_hh, b_ih, b_hh, w_hr))
    gx = x @ w_ih.T
    if b_ih is not None:
        gx = gx + b_ih
    step, e_gx = _step_function(mode, w_hh, b_hh, w_hr, precision, x, e_x, w_ih, b_ih)
    err = None if precision is None else tuple(np.zeros_like(s) for s in state)
    steps = x.shape[0]
    out = np.zeros((steps, x.shape[1], state[0].shape[1]))
    out_err = None if precision is None else np.zeros_like(out)
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        new, new_err = step(gx[t], None if e_gx is None else e_gx[t], state, err)
        if lengths is not None:
            live = (t < lengths)[:, None]
            new = tuple(np.where(live, n, s) for n, s in zip(new, state))
            if precision is not None:
                new_err = tuple(np.where(live, n, s) for n, s in zip(new_err, err))
        out[t] = new[0] if lengths is None else np.where(live, new[0], 0.0)
        if precision is not None:
            out_err[t] = new_err[0] if lengths is None else np.where(live, new_err[0], 0.0)
        state, err = new, new_err
    return out, out_err, state, err


def _step_function(mode, w_hh, b_hh, w_hr, precision, x, e_x, w_ih, b_ih):
    """step(gx_t, e_gx_t, state, err) -> (state, err) for one time step, and the input
    projection's bound for all steps (None without a precision)."""
    nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}.get(mode)
    if precision is None:
        cell = {"RNN_TANH": cells.rnn_tanh_cell, "RNN_RELU": cells.rnn_relu_cell,
                "GRU": cells.gru_cell, "LSTM": cells.lstm_cell}[mode]
        extra = (w_hr,) if mode == "LSTM" else ()
        return (lambda gx, e_gx, state, err: (cell(gx, *state, w_hh, b_hh, *extra), None)), None
    terms = w_ih.shape[1] + w_hh.shape[1] + 2
    e_gx = bounds.affine_bound(x, e_x, w_ih, b_ih, precision, terms)
    if mode == "LSTM":
        return (lambda gx, e, state, err: bounds.lstm_cell_bound(
            gx, e, state, err, w_hh, b_hh, w_hr, precision, terms)), e_gx
    if mode == "GRU":
        return (lambda gx, e, state, err: bounds.gru_cell_bound(
            gx, e, state, err, w_hh, b_hh, precision, terms)), e_gx
    return (lambda gx, e, state, err: bounds.rnn_cell_bound(
        gx, e, state, err, w_hh, b_hh, precision, terms, nonlinearity)), e_gx


def _shape_like_input(parts, batched, batch_first, mode):
    output, finals = parts[0], parts[1:]
    if not batched:
        output, finals = output[:, 0, :], tuple(f[:, 0, :] for f in finals)
    elif batch_first:
        output = output.transpose(1, 0, 2)
    return (output, finals) if mode == "LSTM" else (output, finals[0])
