"""How closely does the oracle agree with its independent truths on the variants torch does
not have?  For each of ONNX's named variants and the activation lists of the tests:

* onnxruntime (float32 only): the largest relative difference from the oracle's values (inputs
  rounded to float32 for both) and the largest error / the oracle's float32 bound;
* onnx.reference (float64), where it implements the variant: the largest relative difference;
* central finite differences of the oracle's forward: the largest relative difference of
  every gradient (input, states, each parameter).

    python benchmarks/variant_agreement.py [--seeds 10]

Needs onnx and onnxruntime.  Relative differences are to the largest element of each array.
"""
import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reference  # noqa: E402
from examples.onnx_rnn import onnxruntime_runner, reference_evaluator_runner, run_layers  # noqa: E402
from tests.reference.test_reference_onnx_variants import (ACTIVATION_LISTS, FLOAT32, ONNX_VARIANTS, _case,  # noqa: E402
                                                _oracle, gradient_pairs)


def _relative(got, want):
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))


def _ratio(got, want, bound):
    error = np.abs(got - want)
    return float(np.max(np.where(error == 0.0, 0.0, error / np.where(bound == 0.0, 1e-300, bound))))


def agreement(variant, seeds, ort):
    ort_rel = ort_ratio = evaluator_rel = 0.0
    evaluated = variant.name in ("LSTM_PEEPHOLE", "GRU_RESET_BEFORE")
    for seed in range(seeds):
        x, weights, hx, layers, directions = _case(variant, seed, dtype=np.float32)
        parts, bounds = _oracle(variant, x, weights, hx, layers, directions, FLOAT32)
        out, states = run_layers(variant, x, weights, layers, directions, hx, ort, np.float32)
        for got, want, bound in zip((out,) + states, parts, bounds):
            ort_rel, ort_ratio = max(ort_rel, _relative(got, want)), max(ort_ratio, _ratio(got, want, bound))
        if evaluated:
            x, weights, hx, layers, directions = _case(variant, seed)
            parts, _ = _oracle(variant, x, weights, hx, layers, directions)
            out, states = run_layers(variant, x, weights, layers, directions, hx, reference_evaluator_runner)
            evaluator_rel = max([evaluator_rel] + [_relative(g, w) for g, w in zip((out,) + states, parts)])
    return ort_rel, ort_ratio, (evaluator_rel if evaluated else None), _gradient_agreement(variant)


def _gradient_agreement(variant):
    return max(_relative(analytic, numeric) for analytic, numeric in gradient_pairs(variant).values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    ort = onnxruntime_runner()
    print(f"{'variant':20s} {'ort rel':>9s} {'ort/bound':>9s} {'onnx.ref rel':>12s} {'grad vs FD':>10s}")
    for variant in [reference.VARIANTS[n] for n in ONNX_VARIANTS] + ACTIVATION_LISTS:
        ort_rel, ratio, evaluator, gradient = agreement(variant, args.seeds, ort)
        shown = "-" if evaluator is None else f"{evaluator:.1e}"
        print(f"{variant.name:20s} {ort_rel:9.1e} {ratio:9.3f} {shown:>12s} {gradient:10.1e}")


if __name__ == "__main__":
    main()
