"""The primitives modern recurrences are written with (exp, log, sqrt, softplus, logsigmoid,
division, abs, maximum/minimum, power, a sum over an axis, the pairwise broadcast), each
checked against three truths that do not come from the oracle:

* values by hand (numbers anyone can check on paper);
* vector-Jacobian products against central finite differences of the value path;
* error bounds against what float32 numpy arithmetic really does to inputs rounded to float32.

``benchmarks/primitive_truths.py`` prints the table of the largest errors these find.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference
from reference import arithmetic
from reference.arithmetic import Arithmetic, Num
from tests.reference.primitive_cases import BOUND_CASES, HAND_CASES, VJP_CASES, finite_difference_error, float32_cases

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126)


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_each_primitive_gives_the_hand_computed_value(name):
    fn, args, expected = HAND_CASES[name]
    got = fn(*[np.asarray(a, dtype=np.float64) for a in args])
    assert np.allclose(got, expected, rtol=1e-15, atol=0.0), (name, got, expected)
    ar = Arithmetic(FLOAT32)  # the bounded path computes the same value
    bounded = fn(*[ar.exact(np.asarray(a, dtype=np.float64)) for a in args])
    assert np.array_equal(np.asarray(bounded.value), np.asarray(got)), name


@pytest.mark.parametrize("name", sorted(VJP_CASES))
def test_each_primitive_vjp_matches_finite_differences(name):
    assert finite_difference_error(name) < 1e-7, name


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(BOUND_CASES)), st.integers(0, 2**32 - 1), st.sampled_from([0.1, 1.0, 4.0]))
def test_each_primitive_bound_covers_float32_arithmetic(name, seed, scale):
    result, got = float32_cases(name, seed, scale)
    assert np.all(np.abs(got - result.value) <= result.error), (name, np.max(np.abs(got - result.value) / result.error))


def test_the_bounds_are_not_vacuous():
    """A bound a hundredth as large misses real float32 errors for the elementwise functions:
    the bounds are near what float32 does, not loose enough to pass anything."""
    for name in ("exp", "log", "sqrt", "divide", "power by a scalar", "softplus"):
        result, got = float32_cases(name, 3, 1.0, size=4096)
        assert np.any(np.abs(got - result.value) > result.error / 100), name


def test_a_division_by_what_may_be_zero_is_unbounded():
    ar = Arithmetic(FLOAT32)
    q = Num(np.array([1.0, 1.0]), 0.0, ar) / Num(np.array([1e-9, 1.0]), np.array([1e-8, 0.0]), ar)
    assert np.isinf(q.error[0]) and np.isfinite(q.error[1])
    root = reference.log(Num(np.array([1e-9]), np.array([1e-8]), ar))
    assert np.isinf(root.error[0])


def test_a_branch_whose_condition_rounding_may_flip_is_unbounded_and_an_exact_one_is_not():
    """where(less(a, b), ...) where a and b lie within their errors of each other: a correct
    float32 implementation may take either branch, so the bound there is infinite; a condition
    on exact values (sLSTM's normalizer state, exactly 0 before the first step) keeps it finite;
    a condition has no truth value (a step is elementwise)."""
    ar = Arithmetic(FLOAT32)
    a = Num(np.array([1.0, 1.0 + 1e-9, 0.0]), np.array([1e-8, 1e-8, 0.0]), ar)
    b = Num(np.array([2.0, 1.0, 0.0]), 0.0, ar)
    out = reference.where(reference.less(a, b), a * 3.0, b)
    assert np.isfinite(out.error[0]) and np.isinf(out.error[1]) and np.isfinite(out.error[2])
    exact = reference.where(reference.equal(Num(np.zeros(2), 0.0, ar), 0.0), a[:2], b[:2])
    assert np.all(np.isfinite(exact.error)) and exact.value.tolist() == a.value[:2].tolist()
    with pytest.raises(TypeError, match="elementwise"):
        bool(reference.equal(a, b))


def test_maximum_sends_the_gradient_to_the_larger_and_half_to_each_at_a_tie():
    """As torch.maximum's backward does."""
    recording = Arithmetic().recording()
    a, b = recording.adopt(np.array([1.0, 2.0, 3.0])), recording.adopt(np.array([2.0, 2.0, 1.0]))
    out = reference.maximum(a, b)
    da, db = recording.tape.backward(Arithmetic(), [out], [np.ones(3)], [a, b])
    assert da.tolist() == [0.0, 0.5, 1.0] and db.tolist() == [1.0, 0.5, 0.0]


def test_a_parameter_broadcast_pairwise_gets_its_gradient_summed_over_the_batch():
    """LTC's pairwise terms: h (B, H) against an (H, H) parameter, summed over the presynaptic
    units; the parameter's gradient is (B, H, H) before its GradientSum sums the batch."""
    rng = np.random.default_rng(0)
    h, p = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    recording = Arithmetic().recording()
    h_leaf, p_leaf = recording.adopt(h), recording.adopt(p)
    out = reference.sum_over(reference.pairwise(h_leaf) * p_leaf, -2)
    assert out.shape == (4, 3) and np.allclose(out.value, h @ p)
    upstream = rng.standard_normal((4, 3))
    d_h, d_p = recording.tape.backward(Arithmetic(), [out], [upstream], [h_leaf, p_leaf])
    assert np.allclose(d_h, upstream @ p.T)
    total = arithmetic.GradientSum((3, 3), bounded=False)
    total.add(d_p)
    assert np.allclose(total.result(None)[0], h.T @ upstream)


def test_a_monotone_function_of_ones_own_is_a_primitive_with_bounds_and_gradients():
    """The README's example: an activation of one's own is a ``reference.Monotone``."""
    cube = reference.Monotone("cube", lambda a: a ** 3, lambda a: 3 * a ** 2, breaks=(0.0,))
    ar = Arithmetic(FLOAT32)
    result = reference.monotone(ar.exact(np.array([2.0])), cube)
    assert result.value[0] == 8.0 and 0 < result.error[0] < 1e-5
    recording = Arithmetic().recording()
    leaf = recording.adopt(np.array([2.0]))
    (grad,) = recording.tape.backward(Arithmetic(), [reference.monotone(leaf, cube)], [np.ones(1)], [leaf])
    assert grad[0] == 12.0


def test_softplus_is_exact_where_torch_turns_it_linear():
    """Above 20 torch's F.softplus returns x; the oracle keeps log1p(exp(-x)) (2e-9 at 20)."""
    assert reference.softplus(np.array(20.5)) - 20.5 == pytest.approx(math.log1p(math.exp(-20.5)), rel=1e-12)
