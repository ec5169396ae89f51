"""Where does the default run's time go?  Profiles a sample of the default run's CPU rows, run in
this process one after another (as a worker runs them), and prints the seconds of each phase:

- worker start and imports: a fresh interpreter importing torch, Hypothesis and the checks (each
  worker of a run pays it once);
- Hypothesis: drawing the examples, shrinking, and its engine;
- the oracle: ``reference`` computing values, bounds and gradients (numpy's time in it included);
- torch: the target's calls, autograd and the conversions to and from numpy;
- the suite's own code: checks, boundary, tolerances, claims, traces;
- pickling: a row and its verdict across the pipe to and from a worker;
- the report: the summary, the table and the JSON report of the sampled rows.

    python benchmarks/profile_run.py [--every 4] [--seed 21]

``--every N`` profiles every Nth CPU row of the plan (N=1: all 520).  A function's own time goes to
the phase of the file it is written in; numpy's and torch's built-ins to the phase of their
library, or of whoever calls them.  Figures under cProfile are slower than without it: read the
shares, not the seconds.

Measured at the restructured house (issue 28), ``--every 4 --seed 21``, one core of the 2-core
machine: 130 of 520 CPU rows, 3202 examples, 53.8 s under cProfile; a worker's start and imports
2.7 s each; the oracle 38.8%, torch 22.4%, Hypothesis 19.6%, the suite's own code 9.5%, imports
inside a row 1.1%, pickling and the report under 0.1%, other 8.6% (the standard library).

Issue 29, measured in one session against that head (2837dea): 44.2 s before, 39.2 s after
(0.89); the oracle 16.8 -> 14.6 s (both directions of a bidirectional layer step together),
Hypothesis 8.9 -> 7.9 s, torch 9.5 -> 8.5 s, the suite's own code 4.2 -> 3.9 s; the shares
barely move (the oracle 38.3% -> 37.6%).  A worker's start and imports 2.0 s, unchanged: what
changed there is that the parent's imports and the workers' overlap, and that nobody waits
for the interpreter to tear torch down at exit (``run_speed.py`` measures that).

Those figures (and issue 28's) profiled float64 rows alone: the sample was ``rows[::4]``, and the
plan lists each check's four dtypes side by side.  Every dtype in its share (issue 29's third
session, ``--every 4 --seed 21``, 130 rows, 3201 examples): 52.3 s under cProfile; the oracle
35.7%, torch 26.5%, Hypothesis 19.7%, the suite's own code 9.3%, imports inside a row 1.1%, other
7.6%.  What this in-process profile cannot show: in a worker of a real run, oneDNN's kernel
cache (1024 entries by default) filled with one-shape kernels, and the kernel zeroing fresh pages
for new ones took 17% of the run's CPU (``perf record -a -g`` over a default run:
``clear_page_erms`` under ``mkldnn_rnn_layer``; 2.3% once workers cap the cache at 16).
"""
import argparse
import cProfile
import os
import pickle
import pstats
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: Phases in the order the table prints them.
PHASES = ("Hypothesis", "the oracle", "torch", "the suite's own code", "imports inside a row", "pickling", "the report",
          "other")


def phase_of(filename, name):
    """The phase a function's own time belongs to, from the file it is written in (or, for a
    built-in, its name)."""
    where = f"{filename} {name}".replace(os.sep, "/")
    if "importlib" in where or "marshal" in where or "/sympy/" in where:
        return "imports inside a row"
    if "/hypothesis/" in where:
        return "Hypothesis"
    if "/reference/" in where or "numpy" in where:
        return "the oracle"
    if "/torch/" in where or "torch" in name or "_C." in name:
        return "torch"
    if "/conformance/" in where:
        return "the suite's own code"
    if "pickle" in where:
        return "pickling"
    return "other"


def import_seconds():
    """Seconds a fresh interpreter takes to import what a worker needs (median of three)."""
    code = ("import torch, hypothesis; from conformance.checks.registry import checks; checks(); "
            "import conformance.run.runner")
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return sorted(times)[1]


def sampled_rows(every, seed):
    """One row of each ``every`` consecutive rows of the plan, a different one in each block:
    the plan lists each check's dtypes side by side (float64, float32, bfloat16, float16), so
    a plain ``rows[::4]`` would profile float64 alone, a dtype that never reaches oneDNN."""
    from conformance.run import options, session
    from conformance.targets.loading import default_targets
    resolved = options.resolve({"devices": "cpu"})
    rows = session.plan(resolved, default_targets(), seed)
    picked = [start + (start // every) % every for start in range(0, len(rows), every)]
    return [rows[i] for i in picked if i < len(rows)], len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=4, help="profile every Nth CPU row (default 4)")
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    from conformance.run import supervisor
    for name, value in supervisor.worker_variables(threads=1).items():  # a worker's, set before torch loads
        os.environ.setdefault(name, value)
    imports = import_seconds()
    from conformance.checks.support import draws
    from conformance.report import document, messages
    from conformance.run import profiles
    from conformance.targets.loading import describe
    draws.register()
    profiles.register_hypothesis_profiles()
    rows, planned = sampled_rows(args.every, args.seed)
    profile = cProfile.Profile()
    results, pickled = [], 0.0
    started = time.perf_counter()
    for row in rows:
        profile.enable()
        result = row.run()
        profile.disable()
        moment = time.perf_counter()
        pickle.loads(pickle.dumps((row.row, describe(row.target), row.timeout, None)))
        pickle.loads(pickle.dumps(result))
        pickled += time.perf_counter() - moment
        results.append(result)
    moment = time.perf_counter()
    messages.summary(results)
    document.report(results, [], types.SimpleNamespace(known_differences=None, strict_known=False), args.seed)
    reported = time.perf_counter() - moment
    wall = time.perf_counter() - started
    seconds = dict.fromkeys(PHASES, 0.0)
    stats = pstats.Stats(profile).stats
    for (filename, line, name), (_, _, own, _, callers) in stats.items():
        phase = phase_of(filename, name)
        if filename == "~" and phase == "other" and callers:
            # a built-in (getattr, isinstance, len, ...) works for whoever calls it
            total = sum(c[2] for c in callers.values()) or 1.0
            for (caller_file, _, caller_name), contribution in callers.items():
                seconds[phase_of(caller_file, caller_name)] += own * contribution[2] / total
        else:
            seconds[phase] += own
    seconds["pickling"], seconds["the report"] = pickled, reported
    counted = sum(seconds.values())
    print(f"{len(rows)} of {planned} CPU rows profiled (--every {args.every}, seed {args.seed}), "
          f"{sum(r.examples for r in results)} examples, {wall:.1f} s under cProfile")
    print(f"{'phase':28} {'seconds':>9} {'share':>7}")
    print(f"{'worker start and imports':28} {imports:9.2f} {'(each)':>7}")
    for phase in PHASES:
        print(f"{phase:28} {seconds[phase]:9.2f} {seconds[phase] / counted:7.1%}")


if __name__ == "__main__":
    main()
