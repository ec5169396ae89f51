"""One conformance run: the plan (check x target x device x backend x transform x dtype), the
targets, the devices and known differences it needs, and its rows run in supervised workers
(what a user reads about it is built by ``messages``)."""
import dataclasses
import os
import platform
from dataclasses import dataclass
from functools import partial

import torch

from ..targets import known as known_differences
from ..report import messages
from . import profiles
from ..errors import CheckFailure, UsageError
from ..checks.registry import FAMILIES, checks
from ..report.record import FAILING, Row, row_key
from .runner import planned_result, run_row, suite_error
from .supervisor import DEFAULT_MAX_JOBS, Task
from ..targets.loading import DEFAULT_IMPLS, Target, default_targets, describe, described, load_target, target_again
from ..targets.transforms import TRANSFORMS


@dataclass(frozen=True)
class PlannedCheck:
    """One row of the plan: its record (``Row``) and, in this process, the check and target it
    names; runs to a CheckResult."""

    row: Row
    check: object
    target: object
    timeout: float

    @property
    def id(self):
        return self.row.id

    def run(self, reproducer_dir=None):
        """The row's result, run in this process (a failure written as a standalone script into
        ``reproducer_dir`` when given)."""
        reason = device_missing(self.row.device)
        if reason:
            return self.row.result("skipped", reason=reason, family=self.check.family)
        return run_row(self.row, self.check, self.target, self.timeout, reproducer_dir)


#: Rows per worker below which starting another worker (seconds each) does not pay.
ROWS_PER_WORKER = 16


def default_jobs(rows):
    return max(1, min(os.cpu_count() or 1, DEFAULT_MAX_JOBS, rows // ROWS_PER_WORKER))


def row_task(row, reproducer_dir=None):
    """The supervisor's task for ``row``: run in a worker; a crash or hang there fails the row."""
    return Task(run_spec, ((row.row, describe(row.target), row.timeout, reproducer_dir),), partial(died_row, row))


def run_rows(rows, supervisor, known=(), reproducer_dir=None, waiting=None):
    """(index, result) of each row as it finishes: rows on a device this machine lacks are
    skipped at once, every other row runs in a supervised worker (a failed one written as a
    standalone script into ``reproducer_dir`` when given; ``waiting`` called while none
    finishes); ``known`` entries (``known.load``) then mark accepted failures ``known`` and
    passes they expected to fail ``stale``."""
    runnable = []
    for index, row in enumerate(rows):
        reason = device_missing(row.row.device)
        if reason:
            yield index, known_differences.classify(row.row.result("skipped", reason=reason, family=row.check.family),
                                                    known, torch.__version__)
        else:
            runnable.append(index)
    for position, result in supervisor.map([row_task(rows[i], reproducer_dir) for i in runnable], waiting):
        yield runnable[position], known_differences.classify(result, known, torch.__version__)


def died_row(row, what, call, example):
    """The failed result of a row whose worker died or hung: what happened, in which call
    into the target, on which example (its replay reruns the same examples)."""
    result = planned_result(row.row, row.check, row.target)
    if what.startswith("hung"):
        summary = f"the target {what}"
    elif call:
        summary = f"the target crashed: {what} during {call}"
    else:
        summary = f"the worker process {what} outside any call into the target (its last call finished)"
    result.status, result.counterexample = "failed", example or None
    result.reason = summary
    result.message = messages.failure_message(result, CheckFailure(example or "(before the first example)", summary))
    return result


_WORKER_TARGETS = {}


def run_spec(spec):
    """In a worker: the result of one planned row; never raises (the suite's own exceptions
    become an ``error`` row)."""
    row, description, timeout, reproducer_dir = spec
    check = checks()[row.check]
    try:
        if description["impl"] not in _WORKER_TARGETS:
            _WORKER_TARGETS[description["impl"]] = target_again(description)
        return PlannedCheck(row, check, _WORKER_TARGETS[description["impl"]], timeout).run(reproducer_dir)
    except BaseException as exc:  # run_row keeps the Exceptions; this is whatever escaped it
        result = planned_result(row, check, Target(description["impl"], description["kind"], None))
        suite_error(result, None, exc)
        return result


def device_missing(device):
    """Why ``device`` cannot run here, or None when it can."""
    if device == "cpu":
        return None
    if not torch.cuda.is_available():
        return "CUDA is not available (torch.cuda.is_available() is False)"
    index = int(device.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        return f"{device} does not exist: {torch.cuda.device_count()} CUDA device(s)"
    return None


def check_devices(options):
    """Raises UsageError when the user named a device that is not there (a GPU job whose
    driver broke must not pass having run nothing), unless they chose to skip it; the
    default ``cpu,cuda`` skips a missing GPU and says why."""
    if not options.devices_named or options.skip_missing_devices:
        return
    for device in options.devices:
        reason = device_missing(device)
        if reason:
            raise UsageError(f"--devices {device}: {reason}; to report its rows as skipped instead, add "
                             f"--skip-missing-devices")


def load_known(options):
    """The known-differences entries of the run: the user's (``--known-differences``), then
    the suite's built-in torch bugs (``known.BUILTIN``)."""
    entries = known_differences.load(options.known_differences, checks(), FAMILIES) if options.known_differences else []
    return entries + list(known_differences.BUILTIN)


def targets_for(options, supervisor=None):
    """The targets of a run: the user's target, or torch's (``DEFAULT_IMPLS``), with the user's
    declarations.  A user's class is loaded and probed in a worker of ``supervisor`` when
    given (its constructor may crash); the parent then holds its description only."""
    declared = options.declared
    if not options.impl:
        return default_targets(declared)
    if supervisor is None:
        return [load_target(options.impl, options.kind, declared)]
    loaded = supervisor.run(load_in_worker, options.impl, options.kind, declared,
                            died=lambda what, call, example: UsageError(
                                f"--impl {options.impl}: the target crashed while being loaded: {what}"
                                + (f" during {call}" if call else "")))
    if isinstance(loaded, UsageError):
        raise loaded
    return [described(loaded, None)]


def load_in_worker(impl, kind, declared):
    """In a worker: the description of the loaded target, or the UsageError saying why not."""
    try:
        return describe(load_target(impl, kind, declared))
    except UsageError as exc:
        return exc


def plan(options, targets, seed):
    selected = options.checks or tuple(checks())
    count = profiles.max_examples(options.profile)
    rows = []
    for target in targets:
        for check in checks().values():
            if target.kind not in check.kinds or not (check.name in selected or check.family in selected):
                continue
            for device in options.devices:
                for backend in backends_for(device, options.backends):
                    for transform in options.transforms:
                        examples = TRANSFORMS[transform].max_examples(count, options.max_examples)
                        rows += [PlannedCheck(Row(check.name, target.impl, device, dtype, backend, transform,
                                                  examples, seed), check, target, options.timeout)
                                 for dtype in options.dtypes]
    if options.checks:
        _every_check_applies(options.checks, targets, rows)
    return rows


def _every_check_applies(selected, targets, rows):
    """Raises UsageError when a check or family the user named applies to none of the targets'
    kinds (``--checks cell_matches_oracle`` on a layer planned no row and said nothing)."""
    planned = {row.check.name for row in rows} | {row.check.family for row in rows}
    for name in selected:
        if name in planned:
            continue
        named = [c for c in checks().values() if name in (c.name, c.family)]
        kinds = sorted({kind for c in named for kind in c.kinds})
        raise UsageError(f"--checks {name}: applies to {', '.join(kinds)} targets, and "
                         + ", ".join(f"{t.impl} is a {t.kind}" for t in targets)
                         + ": it checks nothing here (see --list for the checks of each kind)")


def rerun_failed(options, statuses=FAILING):
    """(options, the keys of the rows to run) for ``--rerun-failed REPORT``: the report's
    target, seed, profile, devices, dtypes, backends and transforms; its rows of ``statuses``
    (failed and error; ``reproduce`` adds known: an accepted failure is still one to report)."""
    from ..report.compare import load_report
    data = load_report(options.rerun_failed)
    rows = [r for r in data.get("checks", []) if r.get("status") in statuses]
    if not rows:
        raise UsageError(f"{options.rerun_failed}: the report has no {' or '.join(statuses)} row")
    run, target = data.get("run", {}), data.get("target", {})
    impls = [i for i in str(target.get("impl", "")).split(",") if i]
    own = None if set(impls) <= set(DEFAULT_IMPLS.values()) else impls[0]
    profile = run.get("profile", options.profile)
    examples = run.get("max_examples")
    replaced = dataclasses.replace(
        options, impl=own, kind=str(target.get("kind")) if own else None, variant=target.get("variant") if own else None,
        seed=run.get("seed"), profile=profile,
        max_examples=None if examples == profiles.max_examples(profile) else examples,
        checks=tuple(dict.fromkeys(r["check"] for r in rows)), devices=tuple(dict.fromkeys(r["device"] for r in rows)),
        dtypes=tuple(dict.fromkeys(r["dtype"] for r in rows)),
        backends=tuple(dict.fromkeys(r.get("backend", "default") for r in rows)),
        transforms=tuple(dict.fromkeys(r.get("transform", "eager") for r in rows)), devices_named=False)
    return replaced, {row_key(r) for r in rows}


def against_torch():
    """The names of the checks whose other side is torch's own module (``Check.against_torch``)."""
    return {name for name, check in checks().items() if check.against_torch}


def backends_for(device, selected):
    """The backends a row on ``device`` runs under: each selected one on CUDA, ``default`` on
    the CPU (it has one)."""
    return list(selected) if device.startswith("cuda") else ["default"]


def rows_at_most(options):
    """How many rows a run of these options plans at most (for choosing the worker count
    before the targets are loaded)."""
    selected = options.checks or tuple(checks())
    chosen = [c for c in checks().values() if c.name in selected or c.family in selected]
    combinations = sum(len(backends_for(device, options.backends)) for device in options.devices)
    targets = sum(1 if options.impl else sum(kind in c.kinds for kind in DEFAULT_IMPLS) for c in chosen)
    return targets * combinations * len(options.transforms) * len(options.dtypes)


def versions():
    return f"torch {torch.__version__}, python {platform.python_version()}"
