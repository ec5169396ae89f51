"""``reference.rnn_backward_with_bound``: the BPTT gradients and, beside each, a first-order
bound on the error of a correct implementation computing them in a given ``Precision``.

The forward values the backward pass needs (gates, states) carry the forward bound of
``reference.bounds``; every backward operation adds its own: dot products ``n u |a||b|``
(including the operands' rounding), elementwise products and sums one rounding of their
result, derivatives of the activations from the error of the stored activation (ReLU's
derivative may flip where the pre-activation is within its error of zero), and weight
gradients summed over T steps of B terms one stored rounding per step.  The values are
computed like ``reference.backward`` (the tests check they agree).
"""
import numpy as np

from . import bounds
from .backward import _live, _order, _prepare, _shaped_gradients
from .bounds import ELEMENTWISE_ROUNDINGS, _product, _sum, affine_bound
from .layers import _step_function
from .names import suffixes


def rnn_backward_with_bound(x, weights, precision, mode="LSTM", num_layers=1, bidirectional=False,
                            batch_first=False, hx=None, lengths=None, grad_output=None, grad_h_n=None,
                            grad_c_n=None):
    """``rnn_backward(...)`` and, keyed the same way, a per-element bound on the error of an
    implementation computing the gradients in ``precision`` from exactly these inputs,
    weights and upstream gradients.  Returns (gradients, bounds)."""
    if not isinstance(precision, bounds.Precision):
        raise TypeError(f"precision={precision!r}: expected a reference.Precision")
    with np.errstate(over="ignore", invalid="ignore"):
        return _backward(x, weights, precision, mode, num_layers, bidirectional, batch_first, hx, lengths,
                         grad_output, grad_h_n, grad_c_n)


def _backward(x, weights, prec, mode, num_layers, bidirectional, batch_first, hx, lengths, grad_output,
              grad_h_n, grad_c_n):
    x, w, state0, lengths, d_out, d_final, batched, (bias, directions, out_size) = _prepare(
        x, weights, mode, num_layers, bidirectional, batch_first, hx, lengths, grad_output, grad_h_n, grad_c_n)
    e_out = np.zeros_like(d_out)
    sums = _WeightGradients(w)
    layer_inputs, caches = _forward_with_bounds(x, w, mode, num_layers, directions, bias, state0, lengths, prec)
    d_state0 = [np.zeros_like(s) for s in state0]
    e_state0 = [np.zeros_like(s) for s in state0]
    for layer in reversed(range(num_layers)):
        x_l, e_x_l = layer_inputs[layer]
        to_input = []  # (gradient, bound) of the layer input from each direction
        for d, suffix in enumerate(suffixes(layer, directions)):
            index, part = layer * directions + d, slice(d * out_size, (d + 1) * out_size)
            start = [f[index] for f in d_final]
            d_x, e_x, d_start, e_start = _direction_backward(
                x_l, e_x_l, caches[index], d_out[..., part], e_out[..., part], start, w, sums, suffix, mode,
                bias, lengths, d == 1, prec)
            to_input.append((d_x, e_x))
            for target, error, value, value_error in zip(d_state0, e_state0, d_start, e_start):
                target[index], error[index] = value, value_error
        d_out, e_out = to_input[0] if directions == 1 else _sum(*to_input[0], *to_input[1], prec)
    grads = _shaped_gradients(dict(sums.value), d_out, d_state0, batched, batch_first)
    errors = _shaped_gradients(sums.bounds(prec), e_out, e_state0, batched, batch_first)
    return grads, errors


class _WeightGradients:
    """Weight gradients summed over steps, with what their bound needs: the sum of the
    products' magnitudes, the propagated error, and how many terms and partial sums."""

    def __init__(self, weights):
        self.value = {k: np.zeros_like(v) for k, v in weights.items()}
        self.magnitude = {k: np.zeros_like(v) for k, v in weights.items()}
        self.error = {k: np.zeros_like(v) for k, v in weights.items()}
        self.terms = dict.fromkeys(weights, 0)
        self.partials = dict.fromkeys(weights, 0)

    def add(self, key, d, e_d, v=None, e_v=None, partials=1):
        """grad[key] += d.T @ v for d (N, G), v (N, K); a bias (v None) gets d summed over N."""
        if v is None:
            self.value[key] += d.sum(axis=0)
            self.magnitude[key] += np.abs(d).sum(axis=0)
            self.error[key] += e_d.sum(axis=0)
        else:
            self.value[key] += d.T @ v
            self.magnitude[key] += np.abs(d).T @ np.abs(v)
            self.error[key] += e_d.T @ (np.abs(v) + e_v) + np.abs(d).T @ e_v
        self.terms[key] += d.shape[0]
        self.partials[key] += partials

    def bounds(self, prec):
        return {k: (prec.dot(self.terms[k]) + self.partials[k] * prec.storage) * self.magnitude[k]
                + self.error[k] + prec.underflow for k in self.value}


def _forward_with_bounds(x, w, mode, num_layers, directions, bias, state0, lengths, prec):
    """Layer inputs with their bounds, and per layer and direction (gx, e_gx, the states
    and their bounds before each step)."""
    layer_inputs, caches = [], []
    layer_in, layer_err = x, np.zeros_like(x)
    steps, batch = x.shape[:2]
    for layer in range(num_layers):
        layer_inputs.append((layer_in, layer_err))
        outs, errs = [], []
        for d, suffix in enumerate(suffixes(layer, directions)):
            w_ih, w_hh, b_ih, b_hh, w_hr = _parameters(w, suffix, bias)
            gx = layer_in @ w_ih.T + (0.0 if b_ih is None else b_ih)
            step, e_gx = _step_function(mode, w_hh, b_hh, w_hr, prec, layer_in, layer_err, w_ih, b_ih)
            state = tuple(s[layer * directions + d] for s in state0)
            err = tuple(np.zeros_like(s) for s in state)
            before = [None] * steps
            out, out_err = np.zeros(x.shape[:2] + (state[0].shape[1],)), np.zeros(x.shape[:2] + (state[0].shape[1],))
            for t in _order(steps, d == 1):
                before[t] = (state, err)
                new, new_err = step(gx[t], e_gx[t], state, err)
                live = _live(t, lengths, batch)
                state = tuple(np.where(live, n, s) for n, s in zip(new, state))
                err = tuple(np.where(live, n, s) for n, s in zip(new_err, err))
                out[t], out_err[t] = np.where(live, state[0], 0.0), np.where(live, err[0], 0.0)
            caches.append((gx, e_gx, before))
            outs.append(out)
            errs.append(out_err)
        layer_in, layer_err = np.concatenate(outs, axis=-1), np.concatenate(errs, axis=-1)
    return layer_inputs, caches


def _parameters(w, suffix, bias):
    get = lambda name: w.get(name + suffix)
    return (get("weight_ih"), get("weight_hh"), get("bias_ih") if bias else None,
            get("bias_hh") if bias else None, get("weight_hr"))


def _direction_backward(x, e_x, cache, d_out, e_out, d_state, w, sums, suffix, mode, bias, lengths, reverse,
                        prec):
    """One direction of one layer backwards: returns d(layer input), its bound, d(initial
    state) and its bound; adds the weight gradients to ``sums``."""
    gx, e_gx, before = cache
    steps, batch = x.shape[:2]
    w_ih, w_hh, _, b_hh, w_hr = _parameters(w, suffix, bias)
    terms = w_ih.shape[1] + w_hh.shape[1] + 2
    d_gx, e_d_gx = np.zeros_like(gx), np.zeros_like(gx)
    d_state, e_state = list(d_state), [np.zeros_like(d) for d in d_state]
    for t in reversed(list(_order(steps, reverse))):
        live = _live(t, lengths, batch)
        summed, e_summed = _sum(d_state[0], e_state[0], d_out[t], e_out[t], prec)
        d_state[0], e_state[0] = np.where(live, summed, d_state[0]), np.where(live, e_summed, e_state[0])
        d_cell = [np.where(live, d, 0.0) for d in d_state]
        e_cell = [np.where(live, e, 0.0) for e in e_state]
        (d_gx[t], e_d_gx[t]), d_prev, e_prev = _STEPS[mode](
            gx[t], e_gx[t], before[t], d_cell, e_cell, (w_hh, b_hh, w_hr), sums, suffix, prec, terms)
        d_state = [np.where(live, dp, d) for dp, d in zip(d_prev, d_state)]
        e_state = [np.where(live, ep, e) for ep, e in zip(e_prev, e_state)]
    flat = lambda a: a.reshape(steps * batch, -1)
    sums.add("weight_ih" + suffix, flat(d_gx), flat(e_d_gx), flat(x), flat(e_x), partials=steps)
    if bias:
        sums.add("bias_ih" + suffix, flat(d_gx), flat(e_d_gx), partials=steps)
    return d_gx @ w_ih, affine_bound(d_gx, e_d_gx, w_ih.T, None, prec, w_ih.shape[0]), d_state, e_state


def _through_hidden(d_gh, e_d_gh, h, e_h, params, sums, suffix, prec):
    """Adds the hidden weights' gradients of one step; returns d(h) through W_hh and its bound."""
    w_hh, b_hh, _ = params
    sums.add("weight_hh" + suffix, d_gh, e_d_gh, h, e_h)
    if b_hh is not None:
        sums.add("bias_hh" + suffix, d_gh, e_d_gh)
    return d_gh @ w_hh, affine_bound(d_gh, e_d_gh, w_hh.T, None, prec, w_hh.shape[0])


def _relu_may_flip(a, e_a):
    """Where a pre-activation known to within e_a may lie on the other side of ReLU's kink
    (derivative 1 for a > 0, 0 for a <= 0, as torch takes it): a > 0 down to 0, or a <= 0
    up past 0.  At a = 0 known exactly nothing flips."""
    return np.where(a > 0.0, a <= e_a, -a < e_a)


def _tanh_derivative(t, e_t, prec):
    """1 - t**2 from the stored t = tanh(a) and its error."""
    square, e_square = _product(t, e_t, t, e_t, prec)
    return _sum(1.0, 0.0, -square, e_square, prec)


def _sigmoid_derivative(s, e_s, prec):
    """s (1 - s) from the stored s = sigmoid(a) and its error."""
    return _product(s, e_s, *_sum(1.0, 0.0, -s, e_s, prec), prec)


def _rnn_step(nonlinearity):
    def backward(gx, e_gx, before, d_new, e_new, params, sums, suffix, prec, terms):
        """h' = act(a), a = gx + W_hh h + b_hh:  da = dh' act'(a)."""
        ((h,), (e_h,)), (w_hh, b_hh, _) = before, params
        a, e_a = bounds.rnn_preactivation_bound(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms)
        if nonlinearity == "tanh":
            slope = _tanh_derivative(*bounds.tanh_with_bound(a, e_a, prec), prec)
        else:
            slope = (a > 0.0).astype(np.float64), _relu_may_flip(a, e_a).astype(np.float64)
        d_a, e_d_a = _product(d_new[0], e_new[0], *slope, prec)
        d_h, e_d_h = _through_hidden(d_a, e_d_a, h, e_h, params, sums, suffix, prec)
        return (d_a, e_d_a), [d_h], [e_d_h]

    return backward


def _gru_step(gx, e_gx, before, d_new, e_new, params, sums, suffix, prec, terms):
    """h' = (1 - z) n + z h, n = tanh(x_n + r h_n), r = σ(x_r + h_r), z = σ(x_z + h_z).
    Implementations also write h' = (h - n) z + n, whose backward rounds d_h z: charged."""
    ((h,), (e_h,)), (w_hh, b_hh, _) = before, params
    (d_h,), (e_dh,) = d_new, e_new
    (r, e_r), (z, e_z), (n, e_n), (h_n, eh_n) = bounds.gru_gates_bound(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms)
    blend_rounding = prec.rounding(d_h, ELEMENTWISE_ROUNDINGS)
    d_n, e_dn = _product(d_h, e_dh, *_sum(1.0, 0.0, -z, e_z, prec), prec)
    d_z, e_dz = _product(d_h, e_dh, *_sum(h, e_h, -n, e_n, prec), prec)
    d_an, e_dan = _product(d_n, e_dn + blend_rounding, *_tanh_derivative(n, e_n, prec), prec)
    d_ar, e_dar = _product(*_product(d_an, e_dan, h_n, eh_n, prec), *_sigmoid_derivative(r, e_r, prec), prec)
    d_az, e_daz = _product(d_z, e_dz + blend_rounding, *_sigmoid_derivative(z, e_z, prec), prec)
    d_hn, e_dhn = _product(d_an, e_dan, r, e_r, prec)
    through_w, e_through_w = _through_hidden(np.concatenate([d_ar, d_az, d_hn], axis=1),
                                             np.concatenate([e_dar, e_daz, e_dhn], axis=1), h, e_h, params,
                                             sums, suffix, prec)
    through_z, e_through_z = _product(d_h, e_dh, z, e_z, prec)
    d_prev, e_prev = _sum(through_z, e_through_z + blend_rounding, through_w, e_through_w, prec)
    d_gx = np.concatenate([d_ar, d_az, d_an], axis=1), np.concatenate([e_dar, e_daz, e_dan], axis=1)
    return d_gx, [d_prev], [e_prev]


def _lstm_step(gx, e_gx, before, d_new, e_new, params, sums, suffix, prec, terms):
    """c' = f c + i g, m = o tanh(c'), h' = W_hr m (or m): gates i, f, g, o."""
    ((h, c), (e_h, e_c)), (w_hh, b_hh, w_hr) = before, params
    (d_h, d_c), (e_dh, e_dc) = d_new, e_new
    i, f, g, o, _, t = bounds.lstm_gates_bound(gx, e_gx, h, e_h, c, e_c, w_hh, b_hh, prec, terms)
    d_m, e_dm = d_h, e_dh
    if w_hr is not None:
        sums.add("weight_hr" + suffix, d_h, e_dh, *_product(*o, *t, prec))
        d_m, e_dm = d_h @ w_hr, affine_bound(d_h, e_dh, w_hr.T, None, prec, w_hr.shape[0])
    through_t = _product(*_product(d_m, e_dm, *o, prec), *_tanh_derivative(*t, prec), prec)
    d_cn, e_dcn = _sum(d_c, e_dc, *through_t, prec)
    d_i = _product(*_product(d_cn, e_dcn, *g, prec), *_sigmoid_derivative(*i, prec), prec)
    d_f = _product(*_product(d_cn, e_dcn, c, e_c, prec), *_sigmoid_derivative(*f, prec), prec)
    d_g = _product(*_product(d_cn, e_dcn, *i, prec), *_tanh_derivative(*g, prec), prec)
    d_o = _product(*_product(d_m, e_dm, *t, prec), *_sigmoid_derivative(*o, prec), prec)
    d_gates = np.concatenate([d_i[0], d_f[0], d_g[0], d_o[0]], axis=1)
    e_gates = np.concatenate([d_i[1], d_f[1], d_g[1], d_o[1]], axis=1)
    d_prev_h, e_prev_h = _through_hidden(d_gates, e_gates, h, e_h, params, sums, suffix, prec)
    d_prev_c, e_prev_c = _product(d_cn, e_dcn, *f, prec)
    return (d_gates, e_gates), [d_prev_h, d_prev_c], [e_prev_h, e_prev_c]


_STEPS = {"RNN_TANH": _rnn_step("tanh"), "RNN_RELU": _rnn_step("relu"), "GRU": _gru_step, "LSTM": _lstm_step}
