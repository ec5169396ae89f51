"""``reference.rnn_backward``: the vector-Jacobian product of ``reference.rnn`` (backpropagation
through time), for every variant the forward oracle covers, in float64.

Each step's gradients are written next to the equations of ``reference.cells``; the
step recomputes its gates from the stored previous state, so the forward pass here only
keeps each direction's states.
"""
import numpy as np

from .cells import gru_cell, gru_gates, hidden_projection, lstm_cell, lstm_gates, sigmoid
from .layers import _check_lengths, _initial_state, layer_sizes
from .names import suffixes


def rnn_backward(x, weights, mode="LSTM", num_layers=1, bidirectional=False, batch_first=False, hx=None,
                 lengths=None, grad_output=None, grad_h_n=None, grad_c_n=None):
    """Gradients of ``sum(grad_output * output) + sum(grad_h_n * h_n) + sum(grad_c_n * c_n)``
    for ``reference.rnn`` called with the same arguments.  Each upstream gradient has the
    shape of the value it belongs to and may be None (zero).

    Returns a dict: ``"input"`` (shaped like x), ``"h0"`` (like h0, batched or not),
    ``"c0"`` for LSTM, and one entry per weight, keyed like ``weights``.
    """
    x, w, state0, lengths, d_out, d_final, batched, shape = _prepare(
        x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths, grad_output, grad_h_n, grad_c_n)
    bias, directions, out_size = shape
    grads = {k: np.zeros_like(v) for k, v in w.items()}
    layer_inputs, caches = _forward_with_states(x, w, mode, num_layers, directions, bias, state0, lengths)
    d_state0 = [np.zeros_like(s) for s in state0]
    for layer in reversed(range(num_layers)):
        d_in = np.zeros_like(layer_inputs[layer])
        for d, suffix in enumerate(suffixes(layer, directions)):
            index = layer * directions + d
            d_here = d_out[..., d * out_size:(d + 1) * out_size]
            start = [part[index] for part in d_final]
            d_x, d_start = _direction_backward(layer_inputs[layer], caches[index], d_here, start, w, grads,
                                               suffix, mode, bias, lengths, reverse=d == 1)
            d_in += d_x
            for target, value in zip(d_state0, d_start):
                target[index] = value
        d_out = d_in
    return _shaped_gradients(grads, d_out, d_state0, batched, batch_first)


def _shaped_gradients(grads, d_input, d_state0, batched, batch_first):
    """``grads`` with "input", "h0" (and "c0") added in the caller's layout."""
    grads["input"] = (d_input.transpose(1, 0, 2) if batch_first else d_input) if batched else d_input[:, 0]
    for name, value in zip(("h0", "c0"), d_state0):
        grads[name] = value if batched else value[:, 0]
    return grads


def _prepare(x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths, grad_output, grad_h_n,
             grad_c_n):
    """The arguments of a backward call in the (T, B, .) layout: x, weights, initial
    states, lengths, d(output), [d(h_n), d(c_n)], whether x was batched, and
    (bias, directions, out_size)."""
    _, hidden_size, proj_size, bias = layer_sizes(weights, mode, num_layers, bidirectional)
    x = np.asarray(x, dtype=np.float64)
    batched = x.ndim == 3
    x = (x.transpose(1, 0, 2) if batch_first else x) if batched else x[:, None, :]
    steps, batch, _ = x.shape
    directions, out_size = 2 if bidirectional else 1, proj_size or hidden_size
    state0 = _initial_state(hx, mode, num_layers * directions, batch, out_size, hidden_size, batched)
    lengths = _check_lengths(lengths, batch, steps)
    d_out = _upstream(grad_output, (steps, batch, directions * out_size), batched, batch_first)
    d_final = [_upstream(grad_h_n, state0[0].shape, batched, False, state=True)]
    if mode == "LSTM":
        d_final.append(_upstream(grad_c_n, state0[1].shape, batched, False, state=True))
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    return x, w, state0, lengths, d_out, d_final, batched, (bias, directions, out_size)


def _upstream(grad, shape, batched, batch_first, state=False):
    if grad is None:
        return np.zeros(shape)
    grad = np.asarray(grad, dtype=np.float64)
    if not batched:
        return grad[:, None, :]
    return grad.transpose(1, 0, 2) if batch_first and not state else grad


def _forward_with_states(x, w, mode, num_layers, directions, bias, state0, lengths):
    """Layer inputs (one per layer) and, per layer and direction, (gx, states before each step)."""
    layer_inputs, caches = [], []
    layer_in = x
    for layer in range(num_layers):
        layer_inputs.append(layer_in)
        outs = []
        for d, suffix in enumerate(suffixes(layer, directions)):
            gx = layer_in @ w["weight_ih" + suffix].T + (w["bias_ih" + suffix] if bias else 0.0)
            state = tuple(s[layer * directions + d] for s in state0)
            before, out = [None] * x.shape[0], np.zeros(x.shape[:2] + (state[0].shape[1],))
            for t in _order(x.shape[0], d == 1):
                before[t] = state
                new = _STEPS[mode][0](gx[t], state, w, suffix, bias)
                live = _live(t, lengths, x.shape[1])
                state = tuple(np.where(live, n, s) for n, s in zip(new, state))
                out[t] = np.where(live, state[0], 0.0)
            caches.append((gx, before))
            outs.append(out)
        layer_in = np.concatenate(outs, axis=-1)
    return layer_inputs, caches


def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _live(t, lengths, batch):
    return np.ones((batch, 1), dtype=bool) if lengths is None else (t < lengths)[:, None]


def _direction_backward(x, cache, d_out, d_state, w, grads, suffix, mode, bias, lengths, reverse):
    """Backpropagates one direction of one layer; returns d(layer input) and d(initial state)."""
    gx, before = cache
    d_gx = np.zeros_like(gx)
    d_state = list(d_state)
    for t in reversed(list(_order(x.shape[0], reverse))):
        live = _live(t, lengths, x.shape[1])
        d_state[0] = d_state[0] + np.where(live, d_out[t], 0.0)
        d_cell = [np.where(live, d, 0.0) for d in d_state]
        d_gx[t], d_prev = _STEPS[mode][1](gx[t], before[t], d_cell, w, grads, suffix, bias)
        d_state = [np.where(live, dp, d) for dp, d in zip(d_prev, d_state)]
    grads["weight_ih" + suffix] += np.einsum("tbg,tbi->gi", d_gx, x)
    if bias:
        grads["bias_ih" + suffix] += d_gx.sum(axis=(0, 1))
    return d_gx @ w["weight_ih" + suffix], d_state


def _hidden(w, suffix, bias):
    return w["weight_hh" + suffix], (w["bias_hh" + suffix] if bias else None)


def _accumulate_hidden(grads, suffix, bias, d_gh, h):
    grads["weight_hh" + suffix] += d_gh.T @ h
    if bias:
        grads["bias_hh" + suffix] += d_gh.sum(axis=0)


def _rnn_step(nonlinearity):
    def forward(gx, state, w, suffix, bias):
        a = gx + hidden_projection(state[0], *_hidden(w, suffix, bias))
        return (np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0),)

    def backward(gx, state, d_new, w, grads, suffix, bias):
        """h' = act(a), a = gx + W_hh h + b_hh:  da = dh' * act'(a)."""
        w_hh, b_hh = _hidden(w, suffix, bias)
        a = gx + hidden_projection(state[0], w_hh, b_hh)
        d_a = d_new[0] * ((1.0 - np.tanh(a) ** 2) if nonlinearity == "tanh" else (a > 0.0))
        _accumulate_hidden(grads, suffix, bias, d_a, state[0])
        return d_a, [d_a @ w_hh]

    return forward, backward


def _gru_forward(gx, state, w, suffix, bias):
    return gru_cell(gx, state[0], *_hidden(w, suffix, bias))


def _gru_backward(gx, state, d_new, w, grads, suffix, bias):
    """h' = (1 - z) n + z h, n = tanh(x_n + r * h_n), r = σ(x_r + h_r), z = σ(x_z + h_z)."""
    (h,), (d_h,) = state, d_new
    w_hh, b_hh = _hidden(w, suffix, bias)
    (x_r, x_z, x_n), (h_r, h_z, h_n) = gru_gates(gx), gru_gates(hidden_projection(h, w_hh, b_hh))
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    d_n, d_z = d_h * (1.0 - z), d_h * (h - n)
    d_an = d_n * (1.0 - n ** 2)
    d_ar, d_az = d_an * h_n * r * (1.0 - r), d_z * z * (1.0 - z)
    d_gh = np.concatenate([d_ar, d_az, d_an * r], axis=1)
    _accumulate_hidden(grads, suffix, bias, d_gh, h)
    return np.concatenate([d_ar, d_az, d_an], axis=1), [d_h * z + d_gh @ w_hh]


def _lstm_forward(gx, state, w, suffix, bias):
    return lstm_cell(gx, *state, *_hidden(w, suffix, bias), w.get("weight_hr" + suffix))


def _lstm_backward(gx, state, d_new, w, grads, suffix, bias):
    """c' = f c + i g, m = o tanh(c'), h' = W_hr m (or m): gates i, f, g, o."""
    (h, c), (d_h, d_c) = state, d_new
    w_hh, b_hh = _hidden(w, suffix, bias)
    w_hr = w.get("weight_hr" + suffix)
    i, f, g, o = lstm_gates(gx + hidden_projection(h, w_hh, b_hh))
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    tanh_c = np.tanh(f * c + i * g)
    d_m = d_h
    if w_hr is not None:
        grads["weight_hr" + suffix] += d_h.T @ (o * tanh_c)
        d_m = d_h @ w_hr
    d_c_new = d_c + d_m * o * (1.0 - tanh_c ** 2)
    d_gates = np.concatenate([d_c_new * g * i * (1.0 - i), d_c_new * c * f * (1.0 - f),
                              d_c_new * i * (1.0 - g ** 2), d_m * tanh_c * o * (1.0 - o)], axis=1)
    _accumulate_hidden(grads, suffix, bias, d_gates, h)
    return d_gates, [d_gates @ w_hh, d_c_new * f]


_STEPS = {"RNN_TANH": _rnn_step("tanh"), "RNN_RELU": _rnn_step("relu"), "GRU": (_gru_forward, _gru_backward),
          "LSTM": (_lstm_forward, _lstm_backward)}
