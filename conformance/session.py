"""One conformance run: the plan (check x target x device x dtype), its results, the summary and the report."""
import json
import os
import platform
import random
from dataclasses import dataclass
from functools import partial

import hypothesis
import numpy as np
import torch

from . import messages, profiles
from .checks import CHECKS_BY_NAME
from .errors import CheckFailure, UsageError
from .runner import STATUSES, CheckResult, planned_result, run_check, suite_error
from .supervisor import Task
from .targets import Target, default_targets, describe, load_target, target_again

SCHEMA = "rnn-conformance/1"


@dataclass(frozen=True)
class PlannedCheck:
    """One row of the plan: runs to a CheckResult."""

    check: object
    target: object
    device: str
    dtype: str
    max_examples: int
    seed: int
    timeout: float

    @property
    def id(self):
        return f"{self.check.name}-{self.target.impl}-{self.device}-{self.dtype}"

    def skipped(self, reason):
        return CheckResult(self.check.name, self.target.impl, self.device, self.dtype, "skipped", reason=reason,
                           family=self.check.family)

    def run(self):
        """The row's result, run in this process."""
        reason = device_missing(self.device)
        if reason:
            return self.skipped(reason)
        return run_check(self.check, self.target, self.device, self.dtype, max_examples=self.max_examples,
                         seed=self.seed, timeout=self.timeout)


#: Most worker processes a run starts by default (each imports torch and holds its own memory).
DEFAULT_MAX_JOBS = 4
#: Rows per worker below which starting another worker (seconds each) does not pay.
ROWS_PER_WORKER = 16


def default_jobs(rows):
    return max(1, min(os.cpu_count() or 1, DEFAULT_MAX_JOBS, rows // ROWS_PER_WORKER))


def row_task(row):
    """The supervisor's task for ``row``: run in a worker; a crash or hang there fails the row."""
    spec = (row.check.name, describe(row.target), row.device, row.dtype, row.max_examples, row.seed, row.timeout)
    return Task(run_spec, (spec,), partial(died_row, row))


def run_rows(rows, supervisor):
    """(index, result) of each row as it finishes: rows on a device this machine lacks are
    skipped at once, every other row runs in a supervised worker."""
    runnable = []
    for index, row in enumerate(rows):
        reason = device_missing(row.device)
        if reason:
            yield index, row.skipped(reason)
        else:
            runnable.append(index)
    for position, result in supervisor.map([row_task(rows[i]) for i in runnable]):
        yield runnable[position], result


def died_row(row, what, call, example):
    """The failed result of a row whose worker died or hung: what happened, in which call
    into the target, on which example (its replay reruns the same examples)."""
    result = planned_result(row.check, row.target, row.device, row.dtype, row.seed, row.max_examples)
    if what.startswith("hung"):
        summary = f"the target {what}"
    elif call:
        summary = f"the target crashed: {what} during {call}"
    else:
        summary = f"the worker process {what} outside any call into the target (its last call finished)"
    result.status, result.counterexample = "failed", example or None
    result.reason = summary
    result.message = messages.failure_message(row.check.name, row.target.impl, row.device, row.dtype,
                                              CheckFailure(example or "(before the first example)", summary),
                                              result.replay)
    return result


_WORKER_TARGETS = {}


def run_spec(spec):
    """In a worker: the result of one planned row; never raises (the suite's own exceptions
    become an ``error`` row)."""
    check_name, description, device, dtype, max_examples, seed, timeout = spec
    check = CHECKS_BY_NAME[check_name]
    try:
        if description["impl"] not in _WORKER_TARGETS:
            _WORKER_TARGETS[description["impl"]] = target_again(description)
        target = _WORKER_TARGETS[description["impl"]]
        return PlannedCheck(check, target, device, dtype, max_examples, seed, timeout).run()
    except BaseException as exc:  # run_check keeps the Exceptions; this is whatever escaped it
        result = planned_result(check, Target(description["impl"], description["kind"], None), device, dtype, seed,
                                max_examples)
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


def resolve_seed(options):
    return options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)


def targets_for(options, supervisor=None):
    """The targets of a run: the user's class, or the three torch classes, with the user's
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
    return [Target(loaded["impl"], loaded["kind"], None, loaded["unsupported"], loaded["activation_error"],
                   loaded["declarations"])]


def load_in_worker(impl, kind, declared):
    """In a worker: the description of the loaded target, or the UsageError saying why not."""
    try:
        return describe(load_target(impl, kind, declared))
    except UsageError as exc:
        return exc


def plan(options, targets, seed):
    selected = options.checks or tuple(CHECKS_BY_NAME)
    examples = profiles.max_examples(options.profile, options.max_examples)
    rows = []
    for target in targets:
        for check in CHECKS_BY_NAME.values():
            if target.kind not in check.kinds or not (check.name in selected or check.family in selected):
                continue
            for device in options.devices:
                for dtype in options.dtypes:
                    rows.append(PlannedCheck(check, target, device, dtype, examples, seed, options.timeout))
    return rows


def rows_at_most(options):
    """How many rows a run of these options plans at most (for choosing the worker count
    before the targets are loaded)."""
    selected = options.checks or tuple(CHECKS_BY_NAME)
    checks = [c for c in CHECKS_BY_NAME.values() if c.name in selected or c.family in selected]
    return len(checks) * len(options.devices) * len(options.dtypes) * (1 if options.impl else 3)


def versions():
    return f"torch {torch.__version__}, python {platform.python_version()}"


def summarize(results):
    counts = {status: 0 for status in STATUSES}
    for result in results:
        counts[result.status] += 1
    return counts


def environment(seed):
    cuda = torch.cuda.is_available()
    return {
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "gpu": torch.cuda.get_device_name(0) if cuda else None, "numpy": np.__version__,
        "hypothesis": hypothesis.__version__, "python": platform.python_version(), "seed": seed,
        "tf32": {"cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                 "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32},
    }


def report(results, targets, seed, planned=None):
    """The versioned JSON report (DESIGN: schema rnn-conformance/1); ``planned`` rows in all
    when the run was interrupted before it finished them."""
    data = {
        "schema": SCHEMA,
        "environment": environment(seed),
        "target": {"impl": ",".join(t.impl for t in targets), "kind": ",".join(t.kind for t in targets)},
        "unsupported_features": {t.impl: t.unsupported for t in targets if t.unsupported},
        "declarations": {t.impl: t.declarations for t in targets if t.declarations},
        "summary": summarize(results),
        "checks": [{k: v for k, v in r.as_dict().items() if k != "family"} for r in results],
    }
    if planned is not None and planned != len(results):
        data["interrupted"] = {"planned": planned, "finished": len(results)}
    return data


def write_report(path, results, targets, seed, planned=None):
    """Writes the report; raises UsageError with one line when the file cannot be written."""
    try:
        with open(path, "w") as handle:
            json.dump(report(results, targets, seed, planned), handle, indent=2)
            handle.write("\n")
    except OSError as exc:
        raise UsageError(f"cannot write --report {path}: {exc.strerror}") from None
