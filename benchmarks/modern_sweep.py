"""Do the worked examples of modern recurrences pass on many seeds, and does every planted bug
of them fail?  Runs each example (``examples/min_rnn.py``, ``rglru.py``, ``cfc.py``,
``sru.py``, ``slstm.py``) over every check in float64 and float32 on seeds 1..N, and each planted bug of
``tests/planted/modern.py`` in float64 on seed 1, and prints a table: rows passed, failed,
errored, unsupported, and the wall time, per example and seed; per bug, the first failed check.

    python benchmarks/modern_sweep.py [--seeds 10] [--bugs] [--headroom]

``--headroom``: for each planted bug of a scan, the largest scan declaration (roundoffs per step
and unit, in powers of 4 up to 4**9) under which the suite still fails it (float64 and
float32, seed 1).

Last run (2026-12-03, the 2-core machine, torch 2.13.0+cpu): in the closing note of issue 27.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

EXAMPLES = ("examples.min_rnn:MinGRU", "examples.min_rnn:MinGRUScan", "examples.min_rnn:MinLSTM",
            "examples.min_rnn:MinLSTMScan", "examples.rglru:RGLRU", "examples.cfc:CfC", "examples.sru:SRU",
            "examples.slstm:SLSTM")


def run(impl, dtypes, seed, folder, extra=()):
    report = os.path.join(folder, f"report-{time.monotonic_ns()}.json")
    command = [sys.executable, "-m", "conformance", "--impl", impl, "--devices", "cpu", "--dtypes", dtypes,
               "--seed", str(seed), "--report", report, *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if not os.path.exists(report):
        return None, wall, done.stderr.strip().splitlines()[-1:]
    with open(report) as handle:
        rows = json.load(handle)["checks"]
    return rows, wall, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--bugs", action="store_true", help="also run every planted bug (float64, seed 1)")
    parser.add_argument("--headroom", action="store_true", help="the largest scan declaration each scan bug fails under")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'example':32} {'seed':>4} {'passed':>6} {'failed':>6} {'error':>5} {'unsup':>5} {'wall s':>6}")
        bad = 0
        for impl in EXAMPLES:
            for seed in range(1, args.seeds + 1 if args.seeds else 1):
                rows, wall, why = run(impl, "float64,float32", seed, folder)
                if rows is None:
                    print(f"{impl:32} {seed:>4} did not run: {why}")
                    bad += 1
                    continue
                count = lambda status: sum(r["status"] == status for r in rows)
                bad += count("failed") + count("error")
                print(f"{impl:32} {seed:>4} {count('passed'):>6} {count('failed'):>6} {count('error'):>5} "
                      f"{count('unsupported'):>5} {wall:>6.1f}", flush=True)
                for r in rows:
                    if r["status"] in ("failed", "error"):
                        print(f"    {r['status']}: {r['check']} {r['dtype']}: {(r.get('message') or '')[:160]}")
        if args.bugs:
            sys.path.insert(0, os.getcwd())
            from tests.planted.modern import PLANTED
            print(f"\n{'planted bug':40} {'first failed check (float64, seed 1)':48} {'wall s':>6}")
            for bug, _ in PLANTED:
                impl = f"{bug.__module__}:{bug.__name__}"
                rows, wall, why = run(impl, "float64", 1, folder, ("--maxfail", "1"))
                failed = [r["check"] for r in rows or () if r["status"] == "failed"]
                bad += not failed
                print(f"{bug.__name__:40} {(failed[0] if failed else 'NOT CAUGHT'):48} {wall:>6.1f}", flush=True)
        if args.headroom:
            sys.path.insert(0, os.getcwd())
            from tests.planted.modern import PLANTED, MinGRUScan, MinLSTMScan
            print(f"\n{'scan bug':32} {'largest declaration still caught (roundoffs)':>44}")
            for bug, example in PLANTED:
                if example not in (MinGRUScan, MinLSTMScan):
                    continue
                caught = None
                for power in range(1, 10):
                    rows, _, _ = run(f"{bug.__module__}:{bug.__name__}", "float64,float32", 1, folder,
                                     ("--maxfail", "1", "--scan-error", str(4 ** power)))
                    if not any(r["status"] == "failed" for r in rows or ()):
                        break
                    caught = 4 ** power
                bad += caught is None
                print(f"{bug.__name__:32} {('NOT CAUGHT at 4' if caught is None else f'>= {caught}'):>44}", flush=True)
        print(f"\n{'all as expected' if not bad else f'{bad} unexpected results'}")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
