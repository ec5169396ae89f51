"""What does a transform cost per row?  Runs the same checks on torch's targets under each
transform (one run of ``rnn-conformance`` per transform, one worker, the same seed) and prints,
for each, the rows that ran, their examples, the mean and the longest seconds per row, the
run's wall time, and the mean per row as a ratio to eager's measured in the same session.

    python benchmarks/transform_cost.py [--transforms eager,compile,export,script]
        [--checks forward_matches_oracle,...] [--dtypes float64,float32] [--seed 0]

Rows that did not run (unsupported, skipped) are left out of the means; a transform whose
every row was skipped (compile-inductor without a C++ compiler) says so.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_CHECKS = ("forward_matches_oracle,gradients_match_oracle,batch_split_matches_whole,"
                  "dropout_one_zeroes_only_between_layers,stacked_regressor_matches_oracle,"
                  "cell_matches_oracle,cell_gradients_match_oracle")
RAN = ("passed", "failed", "known", "stale")


def run(transform, args, folder):
    report = os.path.join(folder, f"{transform}.json")
    command = [sys.executable, "-m", "conformance", "--transforms", transform, "--checks", args.checks,
               "--devices", "cpu", "--dtypes", args.dtypes, "--seed", str(args.seed), "--jobs", "1",
               "--report", report]
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    with open(report) as handle:
        rows = json.load(handle)["checks"]
    return wall, [r for r in rows if r["status"] in RAN], len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transforms", default="eager,compile,export,script")
    parser.add_argument("--checks", default=DEFAULT_CHECKS)
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'transform':17s} {'rows ran':>8s} {'of':>4s} {'examples':>8s} {'s/row':>7s} {'max s':>7s} "
          f"{'wall s':>7s} {'x eager':>8s}")
    eager = None
    with tempfile.TemporaryDirectory() as folder:
        for transform in args.transforms.split(","):
            wall, ran, planned = run(transform, args, folder)
            if not ran:
                print(f"{transform:17s} {0:8d} {planned:4d}  (no row ran here)")
                continue
            mean = statistics.mean(r["seconds"] for r in ran)
            eager = mean if transform == "eager" else eager
            ratio = f"{mean / eager:8.1f}" if eager else f"{'-':>8s}"
            print(f"{transform:17s} {len(ran):8d} {planned:4d} {sum(r['examples'] for r in ran):8d} {mean:7.2f} "
                  f"{max(r['seconds'] for r in ran):7.1f} {wall:7.1f} {ratio}", flush=True)


if __name__ == "__main__":
    main()
