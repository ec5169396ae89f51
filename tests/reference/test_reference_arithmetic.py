"""The numbers the oracle computes with (``reference.arithmetic``), tested from outside:

* each primitive's error bound covers what float32 numpy arithmetic really does to inputs
  that were rounded to float32 (an independent truth: the hardware);
* each primitive's vector-Jacobian product equals central finite differences of its value;
* a cell changed in one place changes values, bounds and gradients together.
"""
import dataclasses
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference
from reference import arithmetic, cells
from reference.arithmetic import Affine, Arithmetic, Precision
from tests.reference.test_matrix_states import PRIMITIVES as MATRIX_PRIMITIVES

FLOAT32 = Precision(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126)
EXACT = Precision(storage=0.0, accumulate=0.0)


def _as_float32(rng, shape, scale):
    """A float64 array, its float32 rounding, and a bound on the rounding error."""
    exact = rng.standard_normal(shape) * scale
    rounded = exact.astype(np.float32)
    return exact, rounded, np.abs(exact - rounded.astype(np.float64))


AFFINE_SHAPE = (3, 5)
PRIMITIVES = {  # name: (number of array inputs, function of the inputs for Nums, the same in float32)
    "add": (2, lambda a, b: a + b, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b, lambda a, b: a * b),
    "tanh": (1, arithmetic.tanh, np.tanh),
    "sigmoid": (1, arithmetic.sigmoid, lambda a: np.float32(1) / (np.float32(1) + np.exp(-a))),
    "relu": (1, arithmetic.relu, lambda a: np.maximum(a, np.float32(0))),
    "lerp": (3, arithmetic.lerp, lambda a, b, w: (np.float32(1) - w) * a + w * b),
    "lerp other form": (3, arithmetic.lerp, lambda a, b, w: a + w * (b - a)),
}


@settings(max_examples=60)
@given(st.sampled_from(sorted(PRIMITIVES)), st.integers(0, 2**32 - 1), st.sampled_from([0.1, 1.0, 4.0]))
def test_each_primitive_bound_covers_float32_arithmetic(name, seed, scale):
    count, on_nums, in_float32 = PRIMITIVES[name]
    rng = np.random.default_rng(seed)
    inputs = [_as_float32(rng, (64,), scale) for _ in range(count)]
    if name.startswith("lerp"):  # the weight of a lerp is a gate in [0, 1]
        inputs[2] = tuple(np.abs(part) / (1.0 + np.abs(part)) if k < 2 else part
                          for k, part in enumerate(inputs[2]))
        exact = inputs[2][0]
        inputs[2] = (exact, exact.astype(np.float32), np.abs(exact - exact.astype(np.float32)))
    ar = Arithmetic(FLOAT32)
    result = on_nums(*[arithmetic.Num(exact, error, ar) for exact, _, error in inputs])
    got = in_float32(*[rounded for _, rounded, _ in inputs]).astype(np.float64)
    assert np.all(np.abs(got - result.value) <= result.error), name


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0.1, 1.0, 4.0]))
def test_linear_bound_covers_float32_matmul(seed, bias, scale):
    rng = np.random.default_rng(seed)
    x, x32, e_x = _as_float32(rng, (4, AFFINE_SHAPE[1]), scale)
    w = rng.standard_normal(AFFINE_SHAPE).astype(np.float32).astype(np.float64)
    b = rng.standard_normal(AFFINE_SHAPE[0]).astype(np.float32).astype(np.float64) if bias else None
    result = Arithmetic(FLOAT32).linear(arithmetic.Num(x, e_x, Arithmetic(FLOAT32)), Affine(w, b))
    got = x32 @ w.astype(np.float32).T + (b.astype(np.float32) if bias else np.float32(0))
    assert np.all(np.abs(got.astype(np.float64) - result.value) <= result.error)


def test_a_bound_can_fail():
    """The float32 check has teeth: a bound a quarter as large misses real rounding errors."""
    rng = np.random.default_rng(0)
    (a, a32, e_a), (b, b32, e_b) = _as_float32(rng, (4096,), 1.0), _as_float32(rng, (4096,), 1.0)
    ar = Arithmetic(FLOAT32)
    product = arithmetic.Num(a, e_a, ar) * arithmetic.Num(b, e_b, ar)
    error = np.abs((a32 * b32).astype(np.float64) - product.value)
    assert np.all(error <= product.error) and np.any(error > product.error / 4)


def _finite_difference(fn, inputs, upstream, k, step=1e-6):
    grad = np.zeros_like(inputs[k])
    for index in np.ndindex(inputs[k].shape):
        shifted = [x.copy() for x in inputs]
        shifted[k][index] += step
        up = np.sum(upstream * fn(*shifted))
        shifted[k][index] -= 2 * step
        down = np.sum(upstream * fn(*shifted))
        grad[index] = (up - down) / (2 * step)
    return grad


VJP_CASES = {  # name: (input shapes, function written with the primitives)
    **{name: ([(2, 3)] * count, fn) for name, (count, fn, _) in PRIMITIVES.items() if name != "relu"},
    "relu": ([(2, 3)], arithmetic.relu),
    "linear": ([(2, 5)], lambda x: arithmetic.linear(x, Affine(np.arange(15.0).reshape(3, 5) / 10, np.ones(3)))),
    "split, one piece used": ([(2, 6)], lambda a: arithmetic.split(a, 2, 1)[0] * 2.0),
    "split and mul": ([(2, 6)], lambda a: (lambda p, q: p[..., :2] * q)(*arithmetic.split(a, 2, 1))),
    "concat": ([(2, 3), (2, 2)], lambda a, b: arithmetic.concat([a, b])),
    "stack": ([(2, 3), (2, 3)], lambda a, b: arithmetic.stack([a, b])),
    "index": ([(3, 2)], lambda a: a[1]),
    "where": ([(2, 3), (2, 3)], lambda a, b: arithmetic.where(np.array([[True], [False]]), a, b)),
    **{f"matrix {name}": case for name, case in MATRIX_PRIMITIVES.items()},
}


@pytest.mark.parametrize("name", sorted(VJP_CASES))
def test_each_primitive_vjp_matches_finite_differences(name):
    shapes, fn = VJP_CASES[name]
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(shape) + 0.1 for shape in shapes]
    if name.startswith("lerp"):
        inputs[2] = np.abs(inputs[2]) / (1.0 + np.abs(inputs[2]))
    recording = Arithmetic().recording()
    leaves = [recording.adopt(x) for x in inputs]
    out = fn(*leaves)
    upstream = rng.standard_normal(out.shape)
    grads = recording.tape.backward(Arithmetic(), [out], [upstream], leaves)
    for k in range(len(inputs)):
        numeric = _finite_difference(fn, inputs, upstream, k)  # fn on plain arrays: the value path
        assert np.allclose(grads[k], numeric, atol=1e-7), (name, k)


def test_values_are_the_same_on_arrays_and_on_numbers():
    """The value path (plain arrays) and the bounded path compute the same numbers."""
    rng = np.random.default_rng(2)
    gx, h, c = rng.standard_normal((3, 8)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    hidden = Affine(rng.standard_normal((8, 2)), rng.standard_normal(8))
    plain = cells.lstm_cell(gx, h, c, cells.StepWeights(hidden))
    ar = Arithmetic(FLOAT32)
    bounded = cells.lstm_cell(ar.exact(gx), ar.exact(h), ar.exact(c), cells.StepWeights(hidden))
    for p, b in zip(plain, bounded):
        assert np.array_equal(p, b.value) and np.all(b.error > 0)


def test_an_array_on_the_left_of_a_number_gives_a_number():
    ar = Arithmetic(FLOAT32)
    num = ar.exact(np.ones(3))
    for result in (np.ones(3) * num, np.ones(3) + num, np.ones(3) - num, 2.0 * num):
        assert isinstance(result, arithmetic.Num)


def _reset_inside_tanh(gx, h, w):
    """A GRU whose n is changed in one line: n = tanh(r * (x_n + h_n)) instead of tanh(x_n + r * h_n)."""
    x_rz, x_n = arithmetic.split(gx, 2, 1)
    h_rz, h_n = arithmetic.split(arithmetic.linear(h, w.hidden), 2, 1)
    r, z = arithmetic.split(arithmetic.sigmoid(x_rz + h_rz), 1, 1)
    n = arithmetic.tanh(r * (x_n + h_n))
    return (arithmetic.lerp(n, h, z),)


def test_a_cell_changed_in_one_place_changes_values_bounds_and_gradients_together(monkeypatch):
    """What a newcomer changing how a GRU computes n gets from editing the one function:
    new values, gradients that are the derivatives of the new values (finite differences),
    bounds that vanish in exact arithmetic and cover float32 rounding of the new function."""
    rng = np.random.default_rng(3)
    weights = {"weight_ih_l0": rng.standard_normal((6, 2)), "weight_hh_l0": rng.standard_normal((6, 2)),
               "bias_ih_l0": rng.standard_normal(6), "bias_hh_l0": rng.standard_normal(6)}
    x, upstream = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    before, _ = reference.rnn(x, weights, mode="GRU")
    monkeypatch.setitem(cells.VARIANTS, "GRU", dataclasses.replace(cells.VARIANTS["GRU"], step=_reset_inside_tanh))
    after, _ = reference.rnn(x, weights, mode="GRU")
    assert np.max(np.abs(after - before)) > 1e-3
    (values, _), (bound, _) = reference.rnn_with_bound(x, weights, FLOAT32, mode="GRU")
    assert np.array_equal(values, after) and np.all(bound > 0)
    (_, _), (exact_bound, _) = reference.rnn_with_bound(x, weights, EXACT, mode="GRU")
    assert not np.any(exact_bound)
    grads = reference.rnn_backward(x, weights, mode="GRU", grad_output=upstream)
    numeric = _finite_difference(lambda xs: reference.rnn(xs, weights, mode="GRU")[0], [x], upstream, 0)
    assert np.allclose(grads["input"], numeric, atol=1e-6)
    bounded_grads, grad_bounds = reference.rnn_backward_with_bound(x, weights, FLOAT32, mode="GRU",
                                                                   grad_output=upstream)
    assert np.allclose(bounded_grads["input"], grads["input"], rtol=1e-12, atol=1e-14)
    assert np.all(grad_bounds["weight_hh_l0"] > 0)


def test_sqrt_with_a_bounded_derivative_is_griffins():
    """sqrt(a, max_gradient): the value is sqrt's; the derivative g / sqrt(max(4 a, 1/M**2)), by
    hand: 1/(2 sqrt(a)) where that is below M, M at 0 (recurrentgemma's SqrtBoundDerivative)."""
    recording = Arithmetic().recording()
    a = recording.adopt(np.array([0.0, 1e-8, 0.25, 1.0]))
    out = arithmetic.sqrt(a, 1000.0)
    assert np.array_equal(out.value, np.sqrt([0.0, 1e-8, 0.25, 1.0]))
    (grad,) = recording.tape.backward(Arithmetic(), [out], [np.ones(4)], [a])
    assert np.allclose(grad, [1000.0, 1000.0, 1.0, 0.5])
