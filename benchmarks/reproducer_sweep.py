"""Every planted bug of ``tests/planted`` through the standalone reproducers: its first failing
row (float64, the default examples, seed 0) written as a script, the script run with this suite,
Hypothesis and pytest impossible to import (``scripts.verify``) against the buggy class and
against the correct class it derives from.  A row passes the sweep when the script exits 1 on the
bug and 0 on the correct class.

    python benchmarks/reproducer_sweep.py [--output DIR] [--python PYTHON] [NAME ...]

``--python`` runs the scripts with another interpreter (a fresh venv holding only torch and
numpy); NAME limits the sweep to planted bugs whose class name contains it.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.getcwd())

from conformance.reproduce import scripts
from conformance.run import session  # noqa: E402
from conformance.run.options import resolve  # noqa: E402
from tests.planted import bugs, cells, own_names, packing  # noqa: E402
from tests.checks.test_planted_own_names import PLANTED as OWN_NAMES  # noqa: E402


def planted():
    """(class, the check that must reject it or None for the first failing row, kind or None)."""
    yield from ((cls, None, None) for cls, _ in bugs.PLANTED)
    yield from ((cls, check, None) for cls, check in cells.PLANTED)
    yield from ((cls, check, "packing_utils") for cls, check in packing.PLANTED)
    yield from ((getattr(own_names, name), check, "lstm") for name, check in OWN_NAMES)


def correct_class(cls):
    """The class the bug was planted in: its first public base."""
    return next(base for base in cls.__mro__[1:] if not base.__name__.startswith("_"))


def impl_of(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def first_failure(cls, check, kind, directory):
    options = resolve({"impl": impl_of(cls), "devices": "cpu", "dtypes": "float64", "seed": "0", "kind": kind,
                       "checks": check})
    target = session.targets_for(options)[0]
    for row in session.plan(options, target and [target], 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = row.run(reproducer_dir=directory)
        if result.status == "failed":
            return result
    return None


def run_script(path, python, impl=None):
    if python is None:
        return scripts.verify(path, impl=impl)
    done = subprocess.run([python, path] + ([impl] if impl else []), capture_output=True, text=True, timeout=600)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=None)
    parser.add_argument("--python", default=None)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    directory = args.output or tempfile.mkdtemp(prefix="reproducers-")
    good = total = 0
    for cls, check, kind in planted():
        if args.names and not any(name in cls.__name__ for name in args.names):
            continue
        total += 1
        started = time.perf_counter()
        result = first_failure(cls, check, kind, directory)
        if result is None or result.reproducer is None:
            why = "no row failed" if result is None else f"{result.check}: {result.no_reproducer}"
            print(f"{cls.__name__:45s} no reproducer ({why})")
            continue
        on_bug = run_script(result.reproducer, args.python)
        on_correct = run_script(result.reproducer, args.python, impl_of(correct_class(cls)))
        ok = on_bug[0] == 1 and on_correct[0] == 0
        good += ok
        verdict = "ok" if ok else f"NOT OK: {on_bug[1]} / {on_correct[1]}"
        print(f"{cls.__name__:45s} {result.check:42s} bug: exit {on_bug[0]}  correct: exit {on_correct[0]}  "
              f"{time.perf_counter() - started:5.1f} s  {verdict}")
    print(f"{good} of {total} planted bugs: the reproducer exits 1 on the bug and 0 on the correct class "
          f"(scripts in {directory})")
    return 0 if good == total else 1


if __name__ == "__main__":
    sys.exit(main())
