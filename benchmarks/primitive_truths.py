"""The oracle's primitives against truths that are not the oracle's: for each, the largest
relative error against values computed by hand, the largest absolute difference between its
vector-Jacobian product and central finite differences, and the largest share of its float32
error bound that numpy's float32 arithmetic used (over 20 seeds at three scales; at most 1 is
a bound that holds).  The cases are those of ``tests/reference/test_reference_primitives.py``.

    python benchmarks/primitive_truths.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.reference.primitive_cases import BOUND_CASES, HAND_CASES, VJP_CASES, finite_difference_error, float32_cases  # noqa: E402


def main():
    names = sorted(set(HAND_CASES) | set(VJP_CASES) | set(BOUND_CASES))
    print(f"{'primitive':32} {'hand: rel. error':>16} {'VJP - finite diff.':>18} {'float32 error / bound':>22}")
    for name in names:
        hand = vjp = share = "-"
        if name in HAND_CASES:
            fn, args, expected = HAND_CASES[name]
            got = np.asarray(fn(*[np.asarray(a, dtype=np.float64) for a in args]), dtype=np.float64)
            expected = np.asarray(expected, dtype=np.float64)
            scale = np.where(expected == 0, 1.0, np.abs(expected))
            hand = f"{np.max(np.abs(got - expected) / scale):.1e}"
        if name in VJP_CASES:
            vjp = f"{finite_difference_error(name):.1e}"
        if name in BOUND_CASES:
            worst = 0.0
            for seed in range(20):
                for scale in (0.1, 1.0, 4.0):
                    result, got = float32_cases(name, seed, scale)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ratio = np.where(result.error > 0, np.abs(got - result.value) / result.error, 0.0)
                    worst = max(worst, float(np.max(ratio)))
            share = f"{worst:.2f}"
        print(f"{name:32} {hand:>16} {vjp:>18} {share:>22}")


if __name__ == "__main__":
    main()
