"""The backward oracle against central finite differences of the forward oracle (an
independent truth for gradients), on small drawn configurations."""
import numpy as np
import pytest
from hypothesis import example, given, strategies as st

import reference
from conformance.checks.support import strategies
from conformance.config import RNNConfig
from conformance.checks.support.data import make_hx, make_input, make_weights

STEP = 1e-6


def _loss(config, x, weights, hx, upstream):
    out, state = reference.rnn(x, weights, mode=config.mode, num_layers=config.num_layers,
                               bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
                               lengths=config.lengths)
    parts = (out,) + (tuple(state) if config.mode == "LSTM" else (state,))
    return sum(float(np.sum(g * p)) for g, p in zip(upstream, parts) if g is not None)


def _numeric(f, array):
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + STEP
        up = f()
        array[index] = saved - STEP
        down = f()
        array[index] = saved
        grad[index] = (up - down) / (2 * STEP)
    return grad


small = st.one_of(
    strategies.configs(max_size=3, max_layers=2, max_steps=4, long_steps=0, max_batch=2),
    strategies.configs(max_size=3, max_layers=2, max_steps=4, long_steps=0, max_batch=3, packed=True))


@given(small, st.sets(st.sampled_from(["output", "h_n", "c_n"]), min_size=1), st.integers(0, 2**32 - 1))
def test_backward_matches_central_differences(config, through, seed):
    config = config.with_(with_hx=True, weight_scale=min(config.weight_scale, 3.0))
    rng = np.random.default_rng(seed)
    x, weights, hx = make_input(config), make_weights(config), make_hx(config)
    out, state = reference.rnn(x, weights, mode=config.mode, num_layers=config.num_layers,
                               bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
                               lengths=config.lengths)
    parts = {"output": out, "h_n": state[0] if config.mode == "LSTM" else state,
             "c_n": state[1] if config.mode == "LSTM" else None}
    upstream = [None if parts[k] is None or k not in through else rng.standard_normal(parts[k].shape)
                for k in ("output", "h_n", "c_n")]
    grads = reference.rnn_backward(x, weights, mode=config.mode, num_layers=config.num_layers,
                                   bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
                                   lengths=config.lengths, grad_output=upstream[0], grad_h_n=upstream[1],
                                   grad_c_n=upstream[2])
    loss = lambda: _loss(config, x, weights, hx, upstream)
    h0, c0 = hx if config.mode == "LSTM" else (hx, None)
    for name, array in [("input", x), ("h0", h0), ("c0", c0)] + sorted(weights.items()):
        if array is None:
            continue
        numeric = _numeric(loss, array)
        scale = max(1.0, np.max(np.abs(numeric)))
        assert np.max(np.abs(grads[name] - numeric)) <= 1e-6 * scale, f"d{name} for {config}"


def test_finite_differences_see_a_wrong_gradient():
    """The harness can fail: a gradient of the wrong sign disagrees with the differences."""
    w = {"weight_ih_l0": np.array([[0.7]]), "weight_hh_l0": np.array([[0.4]])}
    x = np.array([[0.3], [-0.2]])
    grads = reference.rnn_backward(x, w, mode="RNN_TANH", grad_output=np.ones((2, 1)))
    numeric = _numeric(lambda: float(reference.rnn(x, w, mode="RNN_TANH")[0].sum()), x)
    assert np.allclose(grads["input"], numeric, atol=1e-8)
    assert not np.allclose(-grads["input"], numeric, atol=1e-3)


def test_padding_gets_no_gradient():
    w = {"weight_ih_l0": np.ones((3, 1)), "weight_hh_l0": np.ones((3, 1))}
    x = np.ones((3, 2, 1))
    grads = reference.rnn_backward(x, w, mode="GRU", lengths=[3, 1], grad_output=np.ones((3, 2, 1)),
                                   grad_h_n=np.ones((1, 2, 1)))
    assert np.all(grads["input"][1:, 1] == 0.0) and np.all(grads["input"][:, 0] != 0.0)


@pytest.mark.parametrize("mode", ["RNN_TANH", "GRU", "LSTM"])
def test_no_upstream_gradient_gives_zero_gradients(mode):
    config = RNNConfig(mode=mode, input_size=2, hidden_size=2, steps=3, batch=2, seed=1)
    grads = reference.rnn_backward(make_input(config), make_weights(config), mode=mode)
    assert all(not np.any(v) for v in grads.values())


def _backward_args(config, seed):
    rng = np.random.default_rng(seed)
    x, weights, hx = make_input(config), make_weights(config), make_hx(config)
    out, state = reference.rnn(x, weights, mode=config.mode, num_layers=config.num_layers,
                               bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
                               lengths=config.lengths)
    states = tuple(state) if config.mode == "LSTM" else (state, None)
    upstream = [None if v is None else rng.standard_normal(v.shape) for v in (out,) + states]
    return (x, weights), dict(mode=config.mode, num_layers=config.num_layers, bidirectional=config.bidirectional,
                              batch_first=config.batch_first, hx=hx, lengths=config.lengths,
                              grad_output=upstream[0], grad_h_n=upstream[1], grad_c_n=upstream[2])


FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24)
EXACT = reference.Precision(storage=0.0, accumulate=0.0)


@given(small, st.integers(0, 2**32 - 1))
def test_backward_with_bound_computes_the_backward_oracle_values(config, seed):
    (x, weights), kwargs = _backward_args(config, seed)
    exact = reference.rnn_backward(x, weights, **kwargs)
    grads, bound = reference.rnn_backward_with_bound(x, weights, FLOAT32, **kwargs)
    assert set(grads) == set(exact) == set(bound)
    for name in exact:
        assert np.allclose(grads[name], exact[name], rtol=1e-12, atol=1e-14), name
        assert np.all(bound[name] >= 0.0) and np.all(np.isfinite(bound[name])), name


@given(small, st.integers(0, 2**32 - 1))
@example(RNNConfig("RNN_RELU", 1, 1, num_layers=2, bias=False), 0)  # layer 1's pre-activation is exactly 0
def test_backward_bound_vanishes_in_exact_arithmetic(config, seed):
    """No constant slack: with zero roundoff a correct implementation must match exactly."""
    (x, weights), kwargs = _backward_args(config, seed)
    _, bound = reference.rnn_backward_with_bound(x, weights, EXACT, **kwargs)
    assert all(not np.any(b) for b in bound.values())


@given(strategies.configs(modes=("RNN_TANH", "GRU", "LSTM"), max_size=16, max_layers=1, max_steps=4,
                          long_steps=0, max_batch=3), st.integers(0, 2**32 - 1))
def test_backward_bound_is_sharp_enough_to_see_a_float32_bug(config, seed):
    """On one layer over a few steps at torch's init scale, the float32 bound stays below a
    thousandth of the largest gradient, so an error of that size cannot hide under it
    (measured: at most 1e-4).  Worst-case bounds grow with depth and steps where real
    errors cancel: two layers reach 7e-3, six steps at 3x scale exceed the gradient."""
    config = config.with_(weight_scale=min(config.weight_scale, 1.0))
    (x, weights), kwargs = _backward_args(config, seed)
    grads, bound = reference.rnn_backward_with_bound(x, weights, FLOAT32, **kwargs)
    scale = max(np.max(np.abs(g), initial=0.0) for g in grads.values())
    for name in grads:
        assert np.max(bound[name], initial=0.0) <= 1e-3 * scale + 1e-30, name
