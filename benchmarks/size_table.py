"""The table of the planted bugs that show only at production sizes (``tests/planted/sizes.py``):
on how many of seeds 0..N-1 does the default profile catch each, which check first, and where
does the failure say it starts?  Runs the suite's command line per bug and seed (each bug until
its first failed row), in parallel; with ``--against CHECKOUT`` the same runs of another
checkout's suite too (the planted module is this one's, copied there when it has none), for
the share of seeds before a change.

    python benchmarks/size_table.py [--seeds 10] [--jobs 2] [--against /tmp/before] [--only NAME,...]
        [--subtle | --rewrites] [--untargeted] [--figures FILE]

Operations run in float32, layers in float64, each over the checks that can see a size: an
operation's every check; a layer's ``LAYER_CHECKS``.  ``--subtle`` runs the bugs of
``tests/planted/subtle.py`` instead (a deviation of a few float32 roundoffs: every check, float32),
for the share of seeds the targeted search adds (``--untargeted`` runs this checkout a second
time with ``hypothesis.target`` a no-op, through a sitecustomize on the runs' path).  ``--rewrites`` runs the correct rewrites of
``tests/planted/rewrites.py`` instead (float32: every layer check of the table, an operation's
parity and gradients) and prints the seeds each passed and the largest error / tolerance it
reached over every row and seed: the headroom a correct implementation written another way has.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.figures import written  # noqa: E402
from tests.planted import rewrites, subtle  # noqa: E402
from tests.planted.sizes import LAYER_PLANTED, OPERATION_PLANTED  # noqa: E402

#: The layer checks a size bug can show in (the others draw small layers only).
LAYER_CHECKS = "forward_matches_oracle,pack_padded_unsorted_matches_oracle,gradients_match_oracle"


#: A sitecustomize that turns Hypothesis' target() into a no-op in every process of a run (the
#: runner imports it by name after this has run): ``--untargeted``'s.
UNTARGETED = "import hypothesis\nhypothesis.target = lambda *args, **kwargs: None\n"


def run(checkout, impl, dtype, seed, folder, checks=None, untargeted=False):
    """(rows of the report, or None; wall seconds) of one run of ``checkout``'s suite."""
    report = os.path.join(folder, f"report-{time.monotonic_ns()}-{seed}.json")
    command = [sys.executable, "-m", "conformance", "--impl", impl, "--devices", "cpu", "--dtypes", dtype,
               "--seed", str(seed), "--report", report, "--maxfail", "1"] + (["--checks", checks] if checks else [])
    path = checkout
    if untargeted:
        os.makedirs(os.path.join(folder, "untargeted"), exist_ok=True)
        with open(os.path.join(folder, "untargeted", "sitecustomize.py"), "w") as handle:
            handle.write(UNTARGETED)
        path = os.pathsep.join([os.path.join(folder, "untargeted"), checkout])
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, check=False, cwd=checkout,
                   env=dict(os.environ, PYTHONPATH=path))
    wall = time.perf_counter() - started
    if not os.path.exists(report):
        return None, wall
    with open(report) as handle:
        return json.load(handle)["checks"], wall


def _cell(results):
    """"caught/seeds: first check (n)" and the thresholds the failures named."""
    firsts, sizes = collections.Counter(), collections.Counter()
    for rows, _ in results:
        failed = [r for r in rows or () if r["status"] == "failed"]
        firsts[failed[0]["check"] if failed else None] += 1
        if failed and failed[0].get("threshold"):
            sizes[failed[0]["threshold"]] += 1
    caught = sum(n for check, n in firsts.items() if check)
    top = ", ".join(f"{check} ({n})" for check, n in firsts.most_common() if check)
    return f"{caught}/{len(results)}" + (f": {top}" if top else ""), "; ".join(
        f"{size} ({n})" for size, n in sizes.most_common(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--against", default=None, help="another checkout: the share of seeds before")
    parser.add_argument("--only", default=None, help="bugs by name, comma-separated")
    parser.add_argument("--subtle", action="store_true", help="the bugs of tests/planted/subtle.py")
    parser.add_argument("--rewrites", action="store_true", help="the correct rewrites of tests/planted/rewrites.py")
    parser.add_argument("--untargeted", action="store_true",
                        help="also this checkout with Hypothesis' target() a no-op: what the targeted search adds")
    parser.add_argument("--figures", default=None)
    args = parser.parse_args()
    seeds = range(args.seeds)
    if args.rewrites:
        return headroom(seeds, args.jobs, args.figures)
    module = "subtle" if args.subtle else "sizes"
    bugs = [(name, kind, "float32", None) for name, kind, _ in OPERATION_PLANTED]
    bugs += [(name, kind, "float64", LAYER_CHECKS) for name, kind in LAYER_PLANTED]
    if args.subtle:
        bugs = [(name, kind, "float32", None) for name, kind in subtle.PLANTED]
    if args.only:
        bugs = [bug for bug in bugs if bug[0] in args.only.split(",")]
    checkouts = {"after": ROOT}
    if args.against:
        planted = os.path.join(args.against, "tests", "planted", f"{module}.py")
        if not os.path.exists(planted):
            shutil.copy(os.path.join(ROOT, "tests", "planted", f"{module}.py"), planted)
        checkouts = {"before": os.path.abspath(args.against), **checkouts}
    if args.untargeted:
        checkouts = {**checkouts, "after, untargeted": ROOT}
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(args.jobs) as pool:
        jobs = {(side, name, seed): pool.submit(run, path, f"tests.planted.{module}:{name}", dtype, seed, folder,
                                                         checks, side.endswith("untargeted"))
                for name, _, dtype, checks in bugs for seed in seeds for side, path in checkouts.items()}
        lines = ["| planted bug | kind | dtype | " + " | ".join(f"{side}: caught, first check" for side in checkouts)
                 + " | where it starts (after) |", "| --- | --- | --- |" + " --- |" * len(checkouts) + " --- |"]
        for name, kind, dtype, _ in bugs:
            cells, where = [], ""
            for side in checkouts:
                text, sizes = _cell([jobs[side, name, seed].result() for seed in seeds])
                cells.append(text)
                where = sizes if side == "after" else where
            lines.append(f"| {name} | {kind} | {dtype} | " + " | ".join(cells) + f" | {where} |")
            print(lines[-1], flush=True)
    written("\n".join(lines), args.figures)


#: The operation checks a rewrite is held to (the relations compare the target with itself).
OPERATION_CHECKS = "operation_matches_oracle,operation_gradients_match_oracle"


def headroom(seeds, jobs, figures):
    """The table of the correct rewrites: seeds passed, the largest error / tolerance and where."""
    lines = ["| correct rewrite | what it rewrites | seeds passed (float32) | largest error / tolerance |",
             "| --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(jobs) as pool:
        runs = {(name, seed): pool.submit(run, ROOT, f"tests.planted.rewrites:{name}", "float32", seed, folder,
                                          OPERATION_CHECKS if name.endswith("GLA") else LAYER_CHECKS)
                for name, _ in rewrites.REWRITES for seed in seeds}
        for name, what in rewrites.REWRITES:
            results = [runs[name, seed].result()[0] or () for seed in seeds]
            passed = sum(bool(rows) and all(r["status"] == "passed" for r in rows) for rows in results)
            worst = max(((r["worst_ratio"] or 0.0, r["check"], seed) for seed, rows in zip(seeds, results)
                         for r in rows if r["status"] == "passed"), default=(0.0, "-", "-"))
            lines.append(f"| {name} | {what} | {passed}/{len(results)} | {worst[0]:.3g} ({worst[1]}, seed {worst[2]}) |")
            print(lines[-1], flush=True)
    written("\n".join(lines), figures)


if __name__ == "__main__":
    main()
