"""The comparisons every check ends in: what passes and what fails at the edge."""
import numpy as np
import pytest
import torch

from conformance.checks.support.tolerances import compare, compare_either, compare_exact, compare_rate, compare_runs
from conformance.errors import NotRepresentable


def test_identical_runs_must_agree_to_the_last_bit():
    a = torch.tensor([1.0, 2.0, float("nan")], dtype=torch.float32)
    assert compare_exact("h_n", a, a.clone(), torch.float32).passed
    b = a.clone()
    b[1] = torch.nextafter(b[1], torch.tensor(3.0))
    worst = compare_exact("h_n", b, a, torch.float32)
    assert not worst.passed and worst.index == (1,) and worst.tolerance == 0.0


def test_rearranged_runs_get_twice_the_bound():
    expected, bound = np.array([1.0]), np.array([1e-3])
    assert compare_runs("output", torch.tensor([1.0019], dtype=torch.float64), expected, bound, torch.float64).passed
    assert not compare_runs("output", torch.tensor([1.0021], dtype=torch.float64), expected, bound,
                            torch.float64).passed


def test_nan_fails_any_tolerance():
    assert not compare("output", torch.tensor([float("nan")]), np.array([0.0]), np.array([1e9]), torch.float32).passed


def test_rate_tolerance_is_hoeffdings_distance():
    """10,000 trials at one false alarm in 10^9: the allowed distance is sqrt(ln(2e9) / 2e4) = 0.0327."""
    assert compare_rate("dropped", 2300, 10000, 0.2, 1e-9).passed
    assert not compare_rate("dropped", 2400, 10000, 0.2, 1e-9).passed
    assert compare_rate("dropped", 0, 0, 0.2, 1e-9).passed


def test_a_value_the_oracle_says_is_exactly_zero_fails_as_expected_exactly_zero():
    """A gradient that cannot be non-zero (the oracle's value and bound are 0) is said as such,
    with no ratio against the underflow floor (which read 1.8e+305 and broke compare's scales)."""
    got = torch.tensor([0.0, 3e-4, 5e-310], dtype=torch.float64)  # 5e-310: a subnormal, within the floor
    worst = compare("grad weight_ih_l0", got, np.zeros(3), np.zeros(3), torch.float64)
    assert not worst.passed and worst.exact_zero and worst.index == (1,) and worst.ratio == float("inf")
    assert worst.describe() == ("grad weight_ih_l0[1]: got 0.0003, expected exactly 0 (no rounding can make it "
                                "non-zero: the oracle's value and bound there are 0)")
    assert compare("grad", torch.tensor([0.0, 5e-310], dtype=torch.float64), np.zeros(2), np.zeros(2),
                   torch.float64).passed
    beside = compare("output", torch.tensor([3e-4], dtype=torch.float64), np.array([0.0]), np.array([1e-3]),
                     torch.float64)  # a zero with room around it is an ordinary comparison
    assert beside.passed and not beside.exact_zero


def test_a_bound_that_overflowed_says_nothing_rather_than_failing():
    """The oracle's bound overflows to NaN where inf meets 0 (a 3-layer LSTM with N(0, 1)
    weights drew one): the example is not representable, in every comparison, never a failure
    (NaN > 1 is false, so a NaN ratio would pass or fail by accident of the code around it)."""
    got = torch.tensor([0.5, 0.25], dtype=torch.float32)
    for bound in (np.array([1e-3, np.nan]), np.array([np.inf, 1e-3])):
        with pytest.raises(NotRepresentable):
            compare("grad weight_ih_l0", got, np.array([0.5, 0.25]), bound, torch.float32)
        with pytest.raises(NotRepresentable):
            compare_runs("output", got, got.clone(), bound, torch.float32)
        with pytest.raises(NotRepresentable):
            compare_either("h_n[1]", got, [(np.zeros(2), np.zeros(2)), (np.array([0.5, 0.25]), bound)],
                           torch.float32)
    either = compare_either("h_n[1]", got, [(np.zeros(2), np.zeros(2)), (np.array([0.5, 0.25]), np.full(2, 1e-6))],
                            torch.float32)
    assert either.passed
    assert not compare_either("h_n[1]", torch.tensor([0.5, 0.3]), [(np.zeros(2), np.zeros(2)),
                                                                   (np.array([0.5, 0.25]), np.full(2, 1e-6))],
                              torch.float32).passed


def test_a_nan_gradient_under_an_unbounded_error_fails_in_float32_and_is_not_representable_in_float16():
    """float32: a NaN where the exact gradient is finite fails even under an infinite bound (sqrt's
    derivative at 0).  float16: an infinite bound there comes from intermediates leaving the
    dtype's range, where a correct implementation overflows too (torch's float16 LSTM backward,
    seed 4242, failed so): the example says nothing; under a finite bound the NaN still fails."""
    import torch
    from conformance.checks.support.tolerances import compare
    from conformance.errors import NotRepresentable
    got, expected = torch.tensor([float("nan"), 1.0]), np.array([-116.7, 1.0])
    unbounded = np.array([np.inf, 0.0])
    assert compare("grad input", got, expected, unbounded, torch.float32).ratio == np.inf
    with pytest.raises(NotRepresentable):
        compare("grad input", got.half(), expected, unbounded, torch.float16)
    assert compare("grad input", got.half(), expected, np.array([0.5, 0.0]), torch.float16).ratio == np.inf
