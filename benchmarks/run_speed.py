"""How long does a run take?  Times the default run (``rnn-conformance --seed S``; more options
after ``--``, e.g. ``-- --transforms eager,compile``) of this checkout, and with ``--against``
of another checkout too, alternating them (the machines are shared and noisy: compare within
one session, never across), and prints each wall time, the medians, and their ratio.

    python benchmarks/run_speed.py [--against /path/to/other/checkout] [--pairs 3] [--seed 21]
        [-- more rnn-conformance options]

Every run's table (the summary without the progress lines) and its rows (status, examples,
dtypes) are compared with the first run's of this checkout: a speed-up that changed what the
suite checks or concludes is no speed-up, and the script exits 1 when they differ, printing
the table lines and the rows that changed (``--keep DIR`` keeps every run's report and
output).  It also exits 1 when a run of this checkout fails (its exit status is not 0), so
that CI can run the default run through it and read the figure it prints last:

    default run: 40.1 s (median of 1) on 2 cores, 512 passed, 0 failed, 8 known, 13001 examples

With ``--figures PATH`` it also times a run of one row (and with ``--thorough`` one run of the
thorough profile) and writes the figures, with the conditions they were measured under (date,
cores, CPU, load average, torch, Python), to PATH:
``docs/speed.md`` is that page, the one place the README's times come from.

Get the other checkout with ``git worktree add /tmp/before <commit>``; it runs in the same
Python environment as this one (its own package, imported from its folder).  Two checkouts
draw the same examples only where their sources hold the same literals: Hypothesis mixes
constants from source into its draws, and the suite's backend takes them from the suite's
own modules (``checks.support.draws``), so a commit that adds a literal anywhere in
``conformance/`` or ``reference/`` (an exit code, say) moves some rows' later examples and
their worst ratios, not their verdicts.  A checkout edited while the script runs is said
(its later runs are other code).
"""
import argparse
import difflib
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Lines of a run's output that change from run to run without the result changing.
VOLATILE = re.compile(r"^\s*\d+/\d+ rows .* spent|^report: |^what the targets printed")


def run(checkout, args, extra, folder, index):
    """(wall seconds, exit status, table text, rows) of one run of ``checkout``."""
    report = os.path.join(folder, f"report-{index}.json")
    command = [sys.executable, "-m", "conformance", "--seed", str(args.seed), "--report", report, *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    with open(os.path.join(folder, f"output-{index}.txt"), "w") as handle:
        handle.write(done.stdout + done.stderr)
    table = "\n".join(line for line in done.stdout.splitlines() if not VOLATILE.search(line))
    try:
        with open(report) as handle:
            rows = json.load(handle)["checks"]
    except (OSError, ValueError, KeyError):
        rows = []
    return wall, done.returncode, table, rows


def row_facts(rows):
    """What must not change: each row's status, examples drawn and wanted, refusals."""
    return sorted((r["check"], r["target"], r["device"], r["dtype"], r.get("transform"), r["status"], r["examples"],
                   r.get("wanted"), r.get("refused")) for r in rows)


def source_print(checkout):
    """A digest of the suite's sources in ``checkout`` (its packages' .py files): a run of a
    checkout edited since its first run is another program, and may draw other examples."""
    digest = hashlib.sha256()
    for package in ("conformance", "reference"):
        for folder, _, files in sorted(os.walk(os.path.join(checkout, package))):
            for name in sorted(f for f in files if f.endswith(".py")):
                path = os.path.join(folder, name)
                digest.update(path.encode())
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def differences(first, facts, limit=12):
    """Lines saying how a run's (table, row facts) differ from the first run's: the table's
    changed lines, then each row whose facts changed (at most ``limit`` of each)."""
    lines = [line for line in difflib.unified_diff(first[0].splitlines(), facts[0].splitlines(), "first run",
                                                   "this run", n=0, lineterm="")
             if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    rows = sorted(set(first[1]) ^ set(facts[1]))
    said = [f"  table {line}" for line in lines[:limit]]
    said += [f"  row   {'-' if row in first[1] else '+'} {row}" for row in rows[:2 * limit]]
    if len(lines) > limit or len(rows) > 2 * limit:
        said.append(f"  ... {len(lines)} table lines and {len(rows)} row facts differ in all")
    return said


#: The run of one row whose time ``--figures`` reports beside the default run's (most of it
#: starting the command and importing torch).
ONE_ROW = ["--impl", "torch.nn.GRU", "--checks", "forward_matches_oracle", "--devices", "cpu", "--dtypes", "float64"]


def conditions():
    """What the machine was like: cores, CPU model, the load average, torch and Python."""
    model = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor() or "unknown")
    torch_version = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": model, "load": os.getloadavg()[0], "torch": torch_version,
            "python": platform.python_version()}


def _lines(path):
    try:
        with open(path) as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def write_figures(path, default, pairs, one_row, before, after, counts, thorough=None):
    """The page of figures: the default run's and one row's wall times (and, given, the
    thorough profile's: (seconds, counts)), and the conditions."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = ["# How long a run takes", "",
             f"Written by `python benchmarks/run_speed.py --figures {os.path.relpath(path, HERE)}` on {when}; "
             f"CI prints the same figures at every run. The machines are shared: on a loaded one every figure "
             f"grows, several times over under heavy load.", "",
             "| what | wall time |", "| --- | --- |",
             f"| the default run (`rnn-conformance --seed S`: {counts}) | {default:.1f} s (median of {pairs}) |",
             f"| a run of one row (`rnn-conformance {' '.join(ONE_ROW)}`) | {one_row:.1f} s |"]
    if thorough:
        lines.append(f"| the thorough profile (`rnn-conformance --seed S --profile thorough`: {thorough[1]}) | "
                     f"{thorough[0]:.1f} s |")
    lines += ["",
             "Measured on:", "",
             f"- {before['cores']} cores ({before['cpu']}), load average {before['load']:.2f} before and "
             f"{after['load']:.2f} after",
             f"- torch {before['torch']}, Python {before['python']}"]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def _said(rows):
    """'512 passed, 0 failed, 8 known, 12805 examples' of a run's rows."""
    counts = {s: sum(r["status"] == s for r in rows or []) for s in ("passed", "failed", "known")}
    return (f"{counts['passed']} passed, {counts['failed']} failed, {counts['known']} known, "
            f"{sum(r['examples'] or 0 for r in rows or [])} examples")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="another checkout to time alternately with this one")
    parser.add_argument("--pairs", type=int, default=1, help="runs of each checkout (default 1)")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--keep", metavar="DIR", help="keep each run's JSON report and output in DIR")
    parser.add_argument("--figures", metavar="PATH", help="also time one row; write both figures and the "
                                                           "conditions to PATH (docs/speed.md)")
    parser.add_argument("--thorough", action="store_true", help="with --figures, also time one run of the "
                                                                 "thorough profile (200 examples a row, the "
                                                                 "largest sizes) and write it too")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    if args.figures and (extra or args.against):
        parser.error("--figures times the default run of this checkout alone (no --against, no more options)")
    checkouts = [("this", HERE)] + ([("other", os.path.abspath(args.against))] if args.against else [])
    walls = {name: [] for name, _ in checkouts}
    first, differ, failed, last = None, [], False, None
    prints, edited = {name: source_print(checkout) for name, checkout in checkouts}, []
    before = conditions() if args.figures else None
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or scratch
        os.makedirs(folder, exist_ok=True)
        for pair in range(args.pairs):
            for name, checkout in checkouts:
                wall, status, table, rows = run(checkout, args, extra, folder, f"{name}-{pair}")
                if name not in edited and source_print(checkout) != prints[name]:
                    edited.append(name)
                    print(f"warning: {checkout}'s sources changed by the end of its run {pair + 1}: that run and "
                          f"the later ones time other code, which may draw other examples (the suite's "
                          f"literals are mixed into Hypothesis' draws)", flush=True)
                walls[name].append(wall)
                facts = (table, row_facts(rows))
                if first is None:
                    first = facts
                elif facts != first:
                    differ.append(f"{name} run {pair + 1}")
                    print(f"{name} run {pair + 1} differs from this checkout's first run:", *differences(first, facts),
                          sep="\n", flush=True)
                if name == "this":
                    failed = failed or status != 0
                    last = rows
                print(f"{name:5} {checkout}: {wall:6.1f} s, exit {status}, {len(rows)} rows", flush=True)
    medians = {name: statistics.median(times) for name, times in walls.items()}
    if args.against:
        print(f"median {medians['this']:.1f} s this, {medians['other']:.1f} s other: this/other "
              f"{medians['this'] / medians['other']:.2f} ({args.pairs} pair{'s' if args.pairs != 1 else ''}, "
              f"alternating)")
    print("tables and rows identical in every run" if not differ else
          f"tables or rows DIFFER from this checkout's first run: {', '.join(differ)}")
    what = "default run" if not extra else f"run with {' '.join(extra)}"
    said = _said(last)
    print(f"{what}: {medians['this']:.1f} s (median of {args.pairs}) on {os.cpu_count()} cores, {said}")
    if args.figures:
        with tempfile.TemporaryDirectory() as scratch:
            one_row = run(HERE, args, ONE_ROW, scratch, "one-row")[0]
        print(f"a run of one row: {one_row:.1f} s")
        thorough = None
        if args.thorough:
            with tempfile.TemporaryDirectory() as scratch:
                wall, status, _, rows = run(HERE, args, ["--profile", "thorough"], scratch, "thorough")
            thorough = (wall, _said(rows))
            failed = failed or status not in (0, 1)
            print(f"the thorough profile: {wall:.1f} s, exit {status}, {thorough[1]}")
        write_figures(args.figures, medians["this"], args.pairs, one_row, before, conditions(), said, thorough)
    return 1 if differ or failed else 0


if __name__ == "__main__":
    sys.exit(main())
