"""How far does a run's draws reach?  For each kind of target, the largest sizes its checks draw in
a row of the default profile and of ``thorough`` (the examples each row draws, under that
profile's reach, seeds 0..N-1 as a run derives them): layers' input and hidden sizes, steps and
batch; cells' too; operations' feature sizes, tokens, sequences and sequences x heads.  What is
drawn, not what ran: a row that fails stops early, and the targeted search changes a row's later
examples by what it finds.

    python benchmarks/draw_reach.py [--seeds 3] [--figures FILE]
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings  # noqa: E402

from benchmarks.figures import written  # noqa: E402
from conformance.checks.registry import checks  # noqa: E402
from conformance.checks.support.reach import reaching  # noqa: E402
from conformance.run.profiles import PROFILES, reach  # noqa: E402
from conformance.targets.loading import load_target  # noqa: E402

#: A target of each kind a default run or an operation run checks.
TARGETS = {"layer (torch.nn.LSTM)": "torch.nn.LSTM", "cell (torch.nn.GRUCell)": "torch.nn.GRUCell",
           "operation (examples.ops.gated_delta_rule:chunked)": "examples.ops.gated_delta_rule:chunked",
           "operation (examples.ops.mamba:mamba2_chunked)": "examples.ops.mamba:mamba2_chunked"}


def _sizes(case):
    """{what: size} of one drawn case (a layer configuration or an operation call)."""
    case = getattr(case, "config", case)
    if hasattr(case, "hidden_size"):
        return {"I": case.input_size, "H": case.hidden_size, "T": case.steps, "B": case.batch or 1}
    if hasattr(case, "operation"):
        sizes = dict(case.sizes)
        heads = max((v for k, v in sizes.items() if k in ("H", "HV")), default=1)
        features = {k: v for k, v in sizes.items() if k not in ("H", "HV", "G")}
        return {**features, "T": max(case.lengths or (case.steps,)), "sequences": case.sequences,
                "sequences x heads": case.sequences * heads}
    return {}


def largest(impl, profile, seeds):
    """{what: the largest size drawn} over every check of ``impl``'s kind, seeds 0..seeds-1."""
    target = load_target(impl)
    count = PROFILES[profile]
    found = collections.Counter()
    for check in checks().values():
        if target.kind not in check.kinds:
            continue
        with reaching(reach(count)):
            strategy = check.strategy(target)
        for seed in range(seeds):
            @hypothesis_seed(seed)
            @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
            @given(strategy)
            def collect(case):
                for what, size in _sizes(case).items():
                    found[what] = max(found[what], size)
            collect()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--figures", default=None)
    args = parser.parse_args()
    lines = [f"The largest sizes drawn per kind of target (every check of its kind, {args.seeds} seeds; "
             "`python benchmarks/draw_reach.py`):", "", "| target | profile | largest drawn |", "| --- | --- | --- |"]
    for label, impl in TARGETS.items():
        for profile in ("default", "thorough"):
            found = largest(impl, profile, args.seeds)
            lines.append(f"| {label} | {profile} | " + ", ".join(f"{k} {v}" for k, v in found.items()) + " |")
            print(lines[-1], flush=True)
    written("\n".join(lines), args.figures)


if __name__ == "__main__":
    main()
