"""The cell oracle (``reference.cell`` and friends, torch's RNNCell/GRUCell/LSTMCell contract)
against truths from outside: ONNX's reference evaluator on a one-step sequence, central
finite differences, and a GRU step computed by hand."""
import math
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reference
from reference import names

from .test_reference_backward import _numeric
from .test_reference_vs_onnx import GATES, onnx_rnn

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24)
EXACT = reference.Precision(storage=0.0, accumulate=0.0)
COUNT = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


@st.composite
def cell_cases(draw, modes=("RNN_TANH", "RNN_RELU", "GRU", "LSTM"), max_size=12):
    """(mode, x, weights, hx or None) for one cell call, batched or not, with or without bias."""
    mode = draw(st.sampled_from(modes))
    input_size, hidden = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    batch = draw(st.one_of(st.none(), st.integers(1, 4)))
    bias, with_hx = draw(st.booleans()), draw(st.booleans())
    scale = draw(st.sampled_from([0.5, 2.0, 6.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = COUNT[mode] * hidden
    weights = {"weight_ih": rng.uniform(-scale, scale, (rows, input_size)) / np.sqrt(hidden),
               "weight_hh": rng.uniform(-scale, scale, (rows, hidden)) / np.sqrt(hidden)}
    if bias:
        weights.update(bias_ih=rng.uniform(-scale, scale, rows), bias_hh=rng.uniform(-scale, scale, rows))
    lead = () if batch is None else (batch,)
    x = rng.normal(size=lead + (input_size,))
    hx = None
    if with_hx:
        hx = tuple(rng.normal(size=lead + (hidden,)) for _ in range(2 if mode == "LSTM" else 1))
        hx = hx if mode == "LSTM" else hx[0]
    return mode, x, weights, hx


def _relative(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


@given(cell_cases(modes=("RNN_TANH", "GRU", "LSTM")))
def test_cell_matches_onnx_on_a_one_step_sequence(case):
    mode, x, weights, hx = case
    hidden = weights["weight_hh"].shape[1]
    x2 = x if x.ndim == 2 else x[None]
    rows = GATES[mode] * hidden
    layer = {k: weights.get(k, np.zeros(rows if k.startswith("bias") else weights[k].shape)) for k in
             names.CELL_KINDS}
    parts = (tuple(hx) if mode == "LSTM" else (hx,)) if hx is not None else (np.zeros(x2.shape[:-1] + (hidden,)),) * 2
    parts = tuple(p if np.ndim(p) == 2 else p[None] for p in parts)
    onnx_hx = tuple(p[None] for p in parts) + ((np.zeros((1,) + parts[0].shape),) if len(parts) == 1 else ())
    _, expected_h, expected_c = onnx_rnn(x2[None], names.cell_as_layer(layer), mode, 1, False, hidden, onnx_hx)
    got = reference.cell(x, weights, mode, hx)
    h, c = got if mode == "LSTM" else (got, None)
    assert h.shape == x.shape[:-1] + (hidden,)
    assert _relative(h.reshape(expected_h[0].shape), expected_h[0]) <= 1e-12
    if mode == "LSTM":
        assert _relative(c.reshape(expected_c[0].shape), expected_c[0]) <= 1e-12


@given(cell_cases(max_size=4), st.integers(0, 2**32 - 1), st.booleans())
def test_cell_backward_matches_central_differences(case, seed, through_c):
    mode, x, weights, hx = case
    rng = np.random.default_rng(seed)
    hidden = weights["weight_hh"].shape[1]
    if hx is None:
        hx = tuple(np.zeros(x.shape[:-1] + (hidden,)) for _ in range(2 if mode == "LSTM" else 1))
        hx = hx if mode == "LSTM" else hx[0]
    grad_h = rng.normal(size=x.shape[:-1] + (hidden,))
    grad_c = rng.normal(size=grad_h.shape) if mode == "LSTM" and through_c else None

    def loss():
        out = reference.cell(x, weights, mode, hx)
        h, c = out if mode == "LSTM" else (out, None)
        return float(np.sum(grad_h * h)) + (float(np.sum(grad_c * c)) if grad_c is not None else 0.0)

    grads = reference.cell_backward(x, weights, mode, hx, grad_h=grad_h, grad_c=grad_c)
    h, c = hx if mode == "LSTM" else (hx, None)
    arrays = [("input", x), ("hx", h), ("cx", c)] + sorted(weights.items())
    for name, array in arrays:
        if array is None:
            continue
        numeric = _numeric(loss, array)
        assert grads[name].shape == array.shape, name
        assert np.max(np.abs(grads[name] - numeric)) <= 1e-6 * max(1.0, np.max(np.abs(numeric))), name


@given(cell_cases(max_size=6), st.integers(0, 2**32 - 1))
def test_cell_bounds_cover_the_values_they_bound(case, seed):
    """The bounded entry points compute the plain ones' values; their bounds are positive in
    float32 and vanish in exact arithmetic."""
    mode, x, weights, hx = case
    rng = np.random.default_rng(seed)
    hidden = weights["weight_hh"].shape[1]
    grad_h = rng.normal(size=x.shape[:-1] + (hidden,))
    value, bound = reference.cell_with_bound(x, weights, FLOAT32, mode, hx)
    plain = reference.cell(x, weights, mode, hx)
    for v, b, p in zip(*(t if mode == "LSTM" else (t,) for t in (value, bound, plain))):
        assert np.array_equal(v, p) and np.all(b > 0)
    _, exact_bound = reference.cell_with_bound(x, weights, EXACT, mode, hx)
    assert not any(np.any(b) for b in (exact_bound if mode == "LSTM" else (exact_bound,)))
    grads, grad_bounds = reference.cell_backward_with_bound(x, weights, FLOAT32, mode, hx, grad_h=grad_h)
    expected = reference.cell_backward(x, weights, mode, hx, grad_h=grad_h)
    assert set(grads) == set(expected) == set(grad_bounds)
    for name in expected:
        assert np.allclose(grads[name], expected[name], rtol=1e-12, atol=1e-14), name
        assert np.all(grad_bounds[name] >= 0), name


def _float32_cell(x, weights, mode, hx):
    """The cell computed in float32 by numpy, from torch's documented equations, independently
    of the oracle: (h', c') for LSTM, h' otherwise."""
    f = np.float32
    w = {k: v.astype(f) for k, v in weights.items()}
    hidden = w["weight_hh"].shape[1]
    zero = np.zeros(x.shape[:-1] + (hidden,), f)
    h, c = (hx if mode == "LSTM" else (hx, None)) if hx is not None else (zero, zero)
    h = h.astype(f)
    sig = lambda a: f(1) / (f(1) + np.exp(-a))
    gi = x.astype(f) @ w["weight_ih"].T + w.get("bias_ih", f(0))
    gh = h @ w["weight_hh"].T + w.get("bias_hh", f(0))
    if mode == "LSTM":
        i, g_f, g, o = np.split(gi + gh, 4, axis=-1)
        c = sig(g_f) * c.astype(f) + sig(i) * np.tanh(g)
        return sig(o) * np.tanh(c), c
    if mode == "GRU":
        (xr, xz, xn), (hr, hz, hn) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
        r, z = sig(xr + hr), sig(xz + hz)
        return (f(1) - z) * np.tanh(xn + r * hn) + z * h
    return np.tanh(gi + gh) if mode == "RNN_TANH" else np.maximum(gi + gh, f(0))


@given(cell_cases(max_size=12))
def test_a_cell_computed_in_float32_lies_within_its_float32_bound(case):
    """The bound's promise, checked against a real float32 computation (the test above checks
    only that the bounds exist): numpy's float32 cell, on the float32-rounded inputs the oracle
    then computes from in float64, is within the bound of every element."""
    mode, x, weights, hx = case
    as32 = lambda a: a.astype(np.float32).astype(np.float64)
    x, weights = as32(x), {k: as32(v) for k, v in weights.items()}
    hx = None if hx is None else (tuple(map(as32, hx)) if mode == "LSTM" else as32(hx))
    value, bound = reference.cell_with_bound(x, weights, FLOAT32, mode, hx)
    got = _float32_cell(x, weights, mode, hx)
    for g, v, b in zip(*(t if mode == "LSTM" else (t,) for t in (got, value, bound))):
        assert np.all(np.abs(g.astype(np.float64) - v) <= b), (mode, np.max(np.abs(g - v) / b))


def test_gru_cell_by_hand_unbatched_without_bias():
    w_ih, w_hh = np.array([[0.1], [0.2], [0.3]]), np.array([[0.4], [0.5], [0.6]])
    x, h = 2.0, 0.5
    sig = lambda a: 1.0 / (1.0 + math.exp(-a))
    r, z = sig(0.1 * x + 0.4 * h), sig(0.2 * x + 0.5 * h)
    n = math.tanh(0.3 * x + r * (0.6 * h))
    got = reference.cell(np.array([x]), {"weight_ih": w_ih, "weight_hh": w_hh}, "GRU", np.array([h]))
    assert got.shape == (1,) and got[0] == pytest.approx((1 - z) * n + z * h, abs=1e-15)


def test_cell_names_follow_torch():
    torch = pytest.importorskip("torch")
    for cls in (torch.nn.RNNCell, torch.nn.GRUCell, torch.nn.LSTMCell):
        for bias in (True, False):
            assert list(cls(2, 3, bias=bias).state_dict()) == names.cell_parameter_names(bias)


@pytest.mark.parametrize("call, message", [
    (lambda: reference.cell(np.zeros((1, 2, 3)), {"weight_ih": np.zeros((4, 3)), "weight_hh": np.zeros((4, 1))},
                            "RNN_TANH"), "a cell takes (B, I) or (I,)"),
    (lambda: reference.cell(np.zeros(3), {"weight_ih": np.zeros((4, 3)), "weight_hh": np.zeros((4, 4))},
                            "RNN_TANH", np.zeros((2, 4))), "both batched or both unbatched"),
    (lambda: reference.cell(np.zeros(3), {"weight_ih_l0": np.zeros((4, 3))}, "RNN_TANH"),
     "not a cell parameter name"),
])
def test_cell_rejects_bad_arguments_in_one_line(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
