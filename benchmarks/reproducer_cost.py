"""What does ``--reproducers`` cost a failing run?  Runs the same failing run (a planted bug on
every check, float64 and float32) with and without ``--reproducers``, alternating, and prints
each wall time, the rows that failed and got a script, and the ratio of the medians measured in
this one session (the machines are shared and noisy: compare within a run, never across).

    python benchmarks/reproducer_cost.py [--impl tests.planted.bugs:LSTMGateOrderIFOG]
        [--dtypes float64,float32] [--seed 3] [--repeats 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(args, folder, scripts):
    report = os.path.join(folder, "report.json")
    command = [sys.executable, "-m", "conformance", "--impl", args.impl, "--devices", "cpu", "--dtypes", args.dtypes,
               "--seed", str(args.seed), "--report", report]
    if scripts:
        command += ["--reproducers", os.path.join(folder, f"scripts-{time.monotonic_ns()}")]
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    with open(report) as handle:
        rows = json.load(handle)["checks"]
    failed = [r for r in rows if r["status"] == "failed"]
    return wall, len(rows), len(failed), sum(bool(r.get("reproducer")) for r in failed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default="tests.planted.bugs:LSTMGateOrderIFOG")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    walls = {False: [], True: []}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for scripts in (False, True):
                wall, rows, failed, written = run(args, folder, scripts)
                walls[scripts].append(wall)
                print(f"{'with' if scripts else 'without'} --reproducers: {wall:.1f} s, {rows} rows, {failed} failed"
                      + (f", {written} scripts" if scripts else ""), flush=True)
    plain, with_scripts = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"median {plain:.1f} s without, {with_scripts:.1f} s with: {with_scripts / plain:.2f}x")


if __name__ == "__main__":
    main()
