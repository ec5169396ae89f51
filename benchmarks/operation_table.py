"""The table of the matrix-state recurrences' worked examples and their planted bugs: does every
example pass on seeds 0..N-1, does every planted bug fail on each of them, and which check
catches it first?  Runs the suite's command line per example, dtype and seed (float64 and
float32; every row of the example, each bug until its first failure), in parallel.

    python benchmarks/operation_table.py [--seeds 10] [--jobs 2] [--scan-error D] [--figures FILE]

``--scan-error D`` runs the planted bugs of a chunked form under a chunk declaration of D
roundoffs instead of the example's own (the largest a real kernel here needs is 8: a
declaration must not blind the suite).  ``--figures FILE`` writes the tables as Markdown.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.figures import written  # noqa: E402
from tests.planted.operations import CORRECT, PLANTED  # noqa: E402

DTYPES = ("float64", "float32")


def run(impl, dtype, seed, folder, stop_early, extra=()):
    """(rows of the report, or None; wall seconds)."""
    report = os.path.join(folder, f"report-{time.monotonic_ns()}-{os.getpid()}-{seed}-{dtype}.json")
    command = [sys.executable, "-m", "conformance", "--impl", impl, "--devices", "cpu", "--dtypes", dtype,
               "--seed", str(seed), "--report", report, *extra]
    if stop_early:
        command += ["--maxfail", "1"]
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if not os.path.exists(report):
        return None, wall
    with open(report) as handle:
        return json.load(handle)["checks"], wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scan-error", type=float, default=None)
    parser.add_argument("--figures", default=None)
    parser.add_argument("--bugs-only", action="store_true")
    args = parser.parse_args()
    seeds = range(args.seeds)
    lines = []
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(args.jobs) as pool:
        if not args.bugs_only:
            jobs = {(impl, dtype, seed): pool.submit(run, impl, dtype, seed, folder, False)
                    for impl in CORRECT for dtype in DTYPES for seed in seeds}
            lines += ["| example | " + " | ".join(f"{d}: seeds passed (rows, s)" for d in DTYPES) + " |",
                      "| --- |" + " --- |" * len(DTYPES)]
            for impl in CORRECT:
                cells = []
                for dtype in DTYPES:
                    results = [jobs[impl, dtype, seed].result() for seed in seeds]
                    ok = sum(rows is not None and all(r["status"] in ("passed", "unsupported") for r in rows)
                             for rows, _ in results)
                    rows = sum(len(r or ()) for r, _ in results)
                    wall = sum(w for _, w in results) / len(results)
                    bad = [f"{r['check']} seed {seed}" for seed, (rs, _) in zip(seeds, results) for r in rs or ()
                           if r["status"] not in ("passed", "unsupported")]
                    cells.append(f"{ok}/{len(results)} ({rows}, {wall:.0f})" + (f" FAILED: {bad[:2]}" if bad else ""))
                lines.append(f"| `{impl.removeprefix('examples.ops.')}` | " + " | ".join(cells) + " |")
            lines.append("")
        extra = () if args.scan_error is None else ("--scan-error", str(args.scan_error))
        jobs = {(name, dtype, seed): pool.submit(run, f"tests.planted.operations:{name}", dtype, seed, folder,
                                                 True, extra)
                for name, _, _ in PLANTED for dtype in DTYPES for seed in seeds}
        lines += ["| planted bug | kind | " + " | ".join(f"{d}: caught, first check" for d in DTYPES) + " |",
                  "| --- | --- |" + " --- |" * len(DTYPES)]
        for name, kind, record in PLANTED:
            cells = []
            for dtype in DTYPES:
                firsts = collections.Counter()
                for seed in seeds:
                    rows, _ = jobs[name, dtype, seed].result()
                    failed = [r["check"] for r in rows or () if r["status"] == "failed"]
                    firsts[failed[0] if failed else None] += 1
                caught = sum(n for check, n in firsts.items() if check)
                top = ", ".join(f"{check} ({n})" for check, n in firsts.most_common() if check)
                cells.append(f"{caught}/{len(seeds)}" + (f": {top}" if top else ""))
            lines.append(f"| {name} | {kind} | " + " | ".join(cells) + " |")
    written("\n".join(lines), args.figures)


if __name__ == "__main__":
    main()
