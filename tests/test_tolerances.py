"""The comparisons every check ends in: what passes and what fails at the edge."""
import numpy as np
import torch

from conformance.tolerances import compare, compare_exact, compare_rate, compare_runs


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
