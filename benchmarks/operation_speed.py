"""How fast the matrix-state oracle is: ``reference.operation`` (values), ``operation_with_bound``
(values and bounds) and ``operation_backward_with_bound`` against a torch step loop of the same
recurrence (``examples/ops``: its ``recurrent`` form, forward; forward and backward) on the same
configuration, float64, one thread, every ratio measured in this run; then how the oracle's cost
grows with K = V and with T.

    python benchmarks/operation_speed.py [--repeats 3] [--production] [--figures FILE]

The configuration of the comparison: H = 4, K = V = 64, T = 256, B = 2 (issue 40's); with
``--production`` H = 4, K = V = 128, T = 1024, B = 1 (issue 45's: a production head size over
many chunks), without the growth tables.
"""
import argparse
import importlib
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import reference  # noqa: E402
from benchmarks.figures import written  # noqa: E402
from reference.recurrences import OPERATIONS  # noqa: E402
from tests.reference.test_matrix_states import draw  # noqa: E402

#: record -> the step loop of examples/ops that computes it.
STEP_LOOPS = {"linear_attention": "examples.ops.linear_attention:recurrent", "gla": "examples.ops.gla:recurrent",
              "gated_delta_rule": "examples.ops.gated_delta_rule:recurrent", "mlstm": "examples.ops.mlstm:recurrent",
              "mamba2_ssd": "examples.ops.mamba:mamba2_recurrent"}
CONFIG = dict(B=2, T=256, H=4, K=64, V=64, HV=4, P=64, N=64, G=1, D=64)
PRODUCTION = dict(B=1, T=1024, H=4, K=128, V=128, HV=4, P=128, N=128, G=1, D=128)


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _target(name):
    module, _, attr = STEP_LOOPS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def compare(name, repeats, config=CONFIG):
    """Seconds of: torch forward, torch forward+backward, oracle values, values+bounds, backward+bounds."""
    record, op = OPERATIONS[name], _target(name)
    inputs = draw(record, config, seed=0)
    args = [torch.tensor(inputs[spec.name]) for spec in record.inputs]
    leaves = [a.clone().requires_grad_() for a in args]
    precision = reference.Precision(2.0 ** -53, 2.0 ** -53)
    grad = np.ones(tuple(config[s] for s in record.output))

    def torch_backward():
        o, _ = op(*leaves, output_final_state=True)
        o.sum().backward()

    with torch.no_grad():
        forward = _best(lambda: op(*args, output_final_state=True), repeats)
    return (forward, _best(torch_backward, repeats), _best(lambda: reference.operation(record, inputs), repeats),
            _best(lambda: reference.operation_with_bound(record, inputs, precision), repeats),
            _best(lambda: reference.operation_backward_with_bound(record, inputs, precision, grad_output=grad), 1))


def growth(repeats):
    """The oracle's seconds (gated delta rule, values) at K = V in 16..128 (T 256) and T in 64..512 (K 64)."""
    record = OPERATIONS["gated_delta_rule"]
    by_size, by_steps = {}, {}
    for size in (16, 32, 64, 128):
        inputs = draw(record, dict(CONFIG, K=size, V=size), seed=0)
        by_size[size] = _best(lambda: reference.operation(record, inputs), repeats)
    for steps in (64, 128, 256, 512):
        inputs = draw(record, dict(CONFIG, T=steps), seed=0)
        by_steps[steps] = _best(lambda: reference.operation(record, inputs), repeats)
    return by_size, by_steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--production", action="store_true", help="K = V = 128, T = 1024, B = 1")
    parser.add_argument("--figures", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    chosen = PRODUCTION if args.production else CONFIG
    config = ", ".join(f"{k}={chosen[k]}" for k in ("B", "T", "H", "K", "V"))
    lines = [f"Oracle against a torch step loop of the same recurrence ({config}; float64, one thread, "
             f"best of {args.repeats}; torch {torch.__version__}, numpy {np.__version__}):", "",
             "| record | torch forward s | oracle values / torch forward | values+bounds / torch forward "
             "| oracle backward+bounds / torch forward+backward |", "| --- | --- | --- | --- | --- |"]
    for name in STEP_LOOPS:
        forward, backward, values, bounded, oracle_backward = compare(name, args.repeats, chosen)
        lines.append(f"| {name} | {forward:.3f} | {values / forward:.2f} | {bounded / forward:.2f} | "
                     f"{oracle_backward / backward:.2f} |")
    if args.production:
        return written("\n".join(lines), args.figures)
    by_size, by_steps = growth(args.repeats)
    base_size, base_steps = by_size[64], by_steps[256]
    lines += ["", "The oracle's values (gated delta rule), relative to K = V = 64, T = 256:", "",
              "| K = V | " + " | ".join(map(str, by_size)) + " |", "| --- |" + " --- |" * len(by_size),
              "| time | " + " | ".join(f"{t / base_size:.2f}" for t in by_size.values()) + " |", "",
              "| T | " + " | ".join(map(str, by_steps)) + " |", "| --- |" + " --- |" * len(by_steps),
              "| time | " + " | ".join(f"{t / base_steps:.2f}" for t in by_steps.values()) + " |"]
    return written("\n".join(lines), args.figures)




if __name__ == "__main__":
    main()
