"""One conformance run: the plan (check x target x device x dtype), its results, the summary and the report."""
import json
import multiprocessing
import os
import platform
import random
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import hypothesis
import numpy as np
import torch

from . import profiles
from .checks import CHECKS_BY_NAME
from .runner import CheckResult, run_check
from .targets import default_targets, load_target, target_again

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

    def run(self):
        reason = device_missing(self.device)
        if reason:
            return CheckResult(self.check.name, self.target.impl, self.device, self.dtype, "skipped",
                               reason=reason, family=self.check.family)
        return run_check(self.check, self.target, self.device, self.dtype, max_examples=self.max_examples,
                         seed=self.seed, timeout=self.timeout)


#: Most worker processes a run starts by default (each imports torch and holds its own memory).
DEFAULT_MAX_JOBS = 4
#: Plans shorter than this run in one process: starting a worker costs seconds.
ROWS_PER_WORKER = 16


def default_jobs(rows):
    return max(1, min(os.cpu_count() or 1, DEFAULT_MAX_JOBS, rows // ROWS_PER_WORKER))


def run_rows(rows, jobs):
    """The results of ``rows`` in plan order, from ``jobs`` worker processes (one torch thread
    each, so that workers do not fight over the cores) or from this process when jobs is 1.
    Results do not depend on jobs: every check's examples are seeded by its own name."""
    if jobs <= 1 or len(rows) <= 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's oneDNN notices, once per call
            yield from (row.run() for row in rows)
        return
    specs = [(r.check.name, r.target.impl, r.target.kind, r.device, r.dtype, r.max_examples, r.seed, r.timeout)
             for r in rows]
    with ProcessPoolExecutor(max_workers=min(jobs, len(rows)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker) as pool:
        yield from pool.map(_run_spec, specs)


def _start_worker():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)


_WORKER_TARGETS = {}


def _run_spec(spec):
    check, impl, kind, device, dtype, max_examples, seed, timeout = spec
    if impl not in _WORKER_TARGETS:
        _WORKER_TARGETS[impl] = target_again(impl, kind)
    row = PlannedCheck(CHECKS_BY_NAME[check], _WORKER_TARGETS[impl], device, dtype, max_examples, seed, timeout)
    return row.run()


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


def targets_for(options):
    """The targets of a run: the user's class, or the three torch classes."""
    return [load_target(options.impl, options.kind)] if options.impl else default_targets()


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


def summarize(results):
    counts = {status: 0 for status in ("passed", "failed", "unsupported", "skipped")}
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


def report(results, targets, seed):
    """The versioned JSON report (DESIGN: schema rnn-conformance/1)."""
    return {
        "schema": SCHEMA,
        "environment": environment(seed),
        "target": {"impl": ",".join(t.impl for t in targets), "kind": ",".join(t.kind for t in targets)},
        "unsupported_features": {t.impl: t.unsupported for t in targets if t.unsupported},
        "summary": summarize(results),
        "checks": [{k: v for k, v in r.as_dict().items() if k != "family"} for r in results],
    }


def write_report(path, results, targets, seed):
    with open(path, "w") as handle:
        json.dump(report(results, targets, seed), handle, indent=2)
        handle.write("\n")


def table(results):
    """The summary table: one line per check x target x device x dtype."""
    headers = ("check", "target", "device", "dtype", "status", "examples", "worst err/tol", "seconds")
    rows = [(r.check, r.target, r.device, r.dtype, r.status.upper() if r.status == "failed" else r.status,
             str(r.examples), f"{r.worst_ratio:.3g}" if r.examples or r.status == "failed" else "-",
             f"{r.seconds:.1f}") for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(row) for row in rows])


def closing_lines(results, targets, seed):
    """Failures in full, reasons for unsupported and skipped rows, and the totals line."""
    lines = [r.message for r in results if r.status == "failed"]
    for target in targets:
        for feature, reason in target.unsupported.items():
            lines.append(f"unsupported feature of {target.impl}: {feature} ({reason})")
    lines += [f"{r.status}: {r.check} {r.target} {r.device} {r.dtype}: {r.reason}"
              for r in results if r.status == "unsupported"]
    skipped = sorted({(r.device, r.reason) for r in results if r.status == "skipped"})
    lines += [f"skipped {sum(1 for r in results if r.device == d and r.status == 'skipped')} checks on {d}: {why}"
              for d, why in skipped]
    counts = summarize(results)
    lines.append(", ".join(f"{n} {status}" for status, n in counts.items()) + f"  (seed {seed}, "
                 f"torch {torch.__version__}, python {sys.version.split()[0]})")
    return lines
