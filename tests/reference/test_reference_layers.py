"""The layers' time loop: both directions of a bidirectional layer step together (one step on
arrays stacked per direction, for speed), and that gives, bit for bit, the values and bounds
of the two directions stepped one after the other; and a declared scan error only widens the
bounds, also under an LSTM's projection."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference
from reference import layers

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126)
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


@st.composite
def bidirectional_cases(draw):
    """(mode, x, weights, options) of a bidirectional layer stack, packed or not, with or
    without bias, h0 and (LSTM) a projection."""
    mode = draw(st.sampled_from(sorted(GATES)))
    input_size, hidden, steps, batch = (draw(st.integers(1, n)) for n in (6, 7, 9, 4))
    num_layers, bias = draw(st.integers(1, 3)), draw(st.booleans())
    proj = draw(st.integers(1, hidden)) if mode == "LSTM" and draw(st.booleans()) else 0
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    out = proj or hidden
    weights = {}
    for layer in range(num_layers):
        for suffix in (f"_l{layer}", f"_l{layer}_reverse"):
            width = input_size if layer == 0 else 2 * out
            weights["weight_ih" + suffix] = rng.normal(size=(GATES[mode] * hidden, width))
            weights["weight_hh" + suffix] = rng.normal(size=(GATES[mode] * hidden, out))
            if bias:
                weights["bias_ih" + suffix] = rng.normal(size=GATES[mode] * hidden)
                weights["bias_hh" + suffix] = rng.normal(size=GATES[mode] * hidden)
            if proj:
                weights["weight_hr" + suffix] = rng.normal(size=(proj, hidden))
    options = dict(mode=mode, num_layers=num_layers, bidirectional=True)
    if draw(st.booleans()):
        options["lengths"] = rng.integers(1, steps + 1, size=batch)
    if draw(st.booleans()):
        h0 = rng.normal(size=(2 * num_layers, batch, out))
        options["hx"] = (h0, rng.normal(size=(2 * num_layers, batch, hidden))) if mode == "LSTM" else h0
    return mode, rng.normal(size=(steps, batch, input_size)), weights, options


def _leaves(tree):
    return [leaf for part in tree for leaf in (_leaves(part) if isinstance(part, tuple) else [part])]


@settings(max_examples=60, deadline=None)
@given(bidirectional_cases())
def test_directions_stepped_together_equal_directions_stepped_apart_bit_for_bit(case):
    _, x, weights, options = case
    together = [reference.rnn(x, weights, **options), reference.rnn_with_bound(x, weights, FLOAT32, **options)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layers, "_PAIRABLE", ())  # every layer steps its directions one after the other
        apart = [reference.rnn(x, weights, **options), reference.rnn_with_bound(x, weights, FLOAT32, **options)]
    got, expected = _leaves(tuple(together)), _leaves(tuple(apart))
    assert len(got) == len(expected) >= 4
    for a, b in zip(got, expected):
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


SCANNED = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126, scan=4 * 2.0 ** -24)


@settings(max_examples=40, deadline=None)
@given(bidirectional_cases())
def test_a_scan_declaration_only_widens_the_bounds_projection_included(case):
    """Forward and backward under a declared scan error: the same values, and bounds no smaller
    than without it, also where an LSTM's projection gives h other units than c and the gates."""
    _, x, weights, options = case
    (out, states), (bound, state_bounds) = reference.rnn_with_bound(x, weights, FLOAT32, **options)
    (s_out, s_states), (s_bound, s_state_bounds) = reference.rnn_with_bound(x, weights, SCANNED, **options)
    for a, b in zip(_leaves((out, states)), _leaves((s_out, s_states))):
        assert np.array_equal(a, b)
    widened = False
    for a, b in zip(_leaves((bound, state_bounds)), _leaves((s_bound, s_state_bounds))):
        assert np.all((b >= a) | np.isnan(a) | np.isnan(b))  # a NaN bound (one that overflowed) says nothing
        widened = widened or bool(np.any(b > a))
    assert widened, "the declared scan error widened no bound: it was ignored"
    grad_output = np.ones_like(out)
    grads, grad_bounds = reference.rnn_backward_with_bound(x, weights, FLOAT32, grad_output=grad_output, **options)
    s_grads, s_grad_bounds = reference.rnn_backward_with_bound(x, weights, SCANNED, grad_output=grad_output, **options)
    assert grads.keys() == s_grads.keys()
    for name in grads:
        a, b = grad_bounds[name], s_grad_bounds[name]
        widened = (b >= a) | np.isnan(a) | np.isnan(b)
        assert np.array_equal(grads[name], s_grads[name]) and np.all(widened), name
