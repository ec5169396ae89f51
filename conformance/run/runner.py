"""Runs one check on one target, device and dtype under Hypothesis and returns a structured result.

``run_check`` is usable without pytest (the CLI and the pytest plugin both call it); the
checks themselves are in ``registry.checks()``.
"""
import math
import time
import traceback
import zlib
from dataclasses import replace

from hypothesis import given, reject, seed as hypothesis_seed, settings, target as hypothesis_target
from hypothesis.errors import FlakyFailure, Unsatisfiable
import torch

from ..targets import backends, watch
from ..report import messages
from ..report.record import Row
from . import profiles
from .options import replay_command
from ..reproduce import hooks, scripts
from ..checks.support import nonfinite
from ..checks.support.reach import reaching
from ..checks.support.boundary import DEFAULT_TIMEOUT, Context
from ..errors import CheckFailure, NotRepresentable, TargetHung, Unsupported, one_line
from ..checks.registry import checks
from ..targets.loading import DTYPES
from ..targets.transforms import TRANSFORMS

#: What Hypothesis' targeted search maximizes in every row: the example's worst error / tolerance.
TARGET_LABEL = "error / tolerance"


def check_seed(seed, check, target, device, dtype):
    """The Hypothesis seed of one run, so that --checks/--devices/--dtypes do not change it."""
    return zlib.crc32(f"{seed}/{check}/{target}/{device}/{dtype}".encode())


def run_check(check, target, device, dtype, *, max_examples, seed, timeout=DEFAULT_TIMEOUT, backend="default",
              transform="eager", reproducer_dir=None):
    """Runs ``check`` (a Check or its name) and returns a CheckResult; never raises.  A target's
    misbehaviour is a failed row; an exception of the suite's own is an ``error`` row that
    keeps its traceback.  A CUDA row runs under ``backend``'s flags (``backends``), the
    target's forward under ``transform`` (``transforms``: what it cannot take is unsupported,
    and a row in which no call ran transformed code is not a pass).  With ``reproducer_dir``
    (a folder), a failed row's shrunk example is replayed once more under a trace and written there
    as a standalone script (``CheckResult.reproducer``)."""
    check = checks()[check] if isinstance(check, str) else check
    dtype_name = dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
    return run_row(Row(check.name, target.impl, device, dtype_name, backend, transform, max_examples, seed), check,
                   target, timeout, reproducer_dir)


def run_row(row, check, target, timeout=DEFAULT_TIMEOUT, reproducer_dir=None):
    """``run_check`` of a planned Row (``check`` and ``target``: what its names name)."""
    device, dtype_name, transform, max_examples = row.device, row.dtype, row.transform, row.examples
    result = planned_result(row, check, target)
    chosen = TRANSFORMS[transform]
    skip, refused = chosen.missing(), chosen.not_applicable(target.kind)
    if skip or refused:
        result.status, result.reason = ("skipped", skip) if skip else ("unsupported", refused)
        return result
    target = replace(target, unsupported={**target.unsupported, **chosen.unsupported})
    missing = [f for f in check.requires + (dtype_name, device.partition(":")[0]) if not target.supports(f)]
    if missing:
        result.status, result.reason = "unsupported", f"{missing[0]}: {target.unsupported[missing[0]]}"
        return result
    ctx = Context(target, device, DTYPES[dtype_name], max(timeout, chosen.call_timeout), transform=chosen)
    if reproducer_dir is not None:
        scripts.runner()
    started = time.perf_counter()
    refusals, failing, traced = [], [], []
    try:
        with backends.selected(row.backend), chosen.active():
            if device.startswith("cuda"):
                gpu = int(device.partition(":")[2] or torch.cuda.current_device())
                result.flags = dict(backends.in_force(), gpu=gpu)
            try:
                _property(check, ctx, result, refusals, failing, max_examples,
                          check_seed(row.seed, check.name, target.impl, device, dtype_name))()
            except (CheckFailure, TargetHung, FlakyFailure):
                if reproducer_dir is not None and failing:
                    traced.append(_traced_replay(check, ctx, failing[-1]))
                raise
        if result.status == "passed" and refusals and not result.examples:
            result.status, result.reason = "unsupported", f"every draw was refused ({len(refusals)}): {refusals[0]}"
        elif result.status == "passed" and not chosen.eager and not ctx.transformed:
            result.status = "unsupported"
            result.reason = (f"{transform}: nothing ran transformed (the check makes no call of the target's "
                             f"forward that returns)")
    except CheckFailure as failure:
        _fail(result, check, failure)
        if _not_finite(failure.comparison) and failing:
            result.non_finite = nonfinite.cause(lambda: _replay(check, ctx, failing[-1]))
        if failing:
            result.threshold = threshold(check, ctx, failing[-1])
        result.message = messages.failure_message(result, failure)
    except TargetHung as hung:
        _fail(result, check, CheckFailure(ctx.config, str(hung)))
    except FlakyFailure as flaky:
        _fail(result, check, _flaky_failure(flaky, ctx.config))
    except Unsatisfiable:
        result.status = "unsupported"
        result.reason = (f"every draw was refused ({len(refusals)}): {refusals[0]}" if refusals
                         else "no example could be drawn for this target")
    except Exception as exc:  # the suite's own bug: keep the row, the traceback and the run
        suite_error(result, ctx.config, exc)
    result.refused, result.refused_reason = len(refusals), refusals[0] if refusals else None
    result.seconds = time.perf_counter() - started
    if traced and result.status == "failed":
        result.reproducer, result.no_reproducer = scripts.written(traced[0], result, reproducer_dir,
                                                                  f"torch {torch.__version__}")
        result.message += "\n" + messages.reproducer_line(result)
    return result


def planned_result(row, check, target):
    """The verdict of ``row`` before it runs: passed, with its replay command."""
    result = row.result(compared=False, family=check.family, wanted=row.examples)
    result.replay = replay_command(row.check, row.target, row.device, row.dtype, row.seed, row.examples,
                                            None if target.impl.startswith("torch.nn.") else target.kind, row.backend,
                                            row.transform, target.variant)
    return result


def suite_error(result, config, exc):
    """Marks ``result`` as the suite's own error, with the traceback of ``exc``."""
    result.status = "error"
    result.counterexample = None if config is None else str(config)
    result.reason = f"the suite itself raised {one_line(exc)}"
    result.traceback = "".join(traceback.format_exception(exc))
    result.message = messages.error_message(result)


def _flaky_failure(flaky, config):
    """A failure that did not happen again when Hypothesis reran its example: the target is
    not deterministic (or keeps state between calls)."""
    first = next((e for e in getattr(flaky, "exceptions", ()) if isinstance(e, CheckFailure)), None)
    what = f": first {first.summary}" if first is not None else ""
    return CheckFailure(first.config if first is not None else config,
                        f"the target is not deterministic: an example failed, then passed when rerun{what}",
                        None if first is None else first.comparison, symptom="other")


def _fail(result, check, failure):
    result.status, result.symptom = "failed", failure.symptom
    result.counterexample = str(failure.config)
    if failure.comparison is not None:
        result.worst_ratio = failure.comparison.ratio
    result.traceback = failure.detail
    result.message = messages.failure_message(result, failure)


def _not_finite(comparison):
    """Whether a failed comparison's worst element is a NaN or an inf on either side."""
    return comparison is not None and not (math.isfinite(comparison.got) and math.isfinite(comparison.expected))


#: Sizes up to this are the small draws: where a failure starts among them says little of a tile.
THRESHOLD_FROM = 8


def threshold(check, ctx, case):
    """Where the failing ``case``'s sizes start failing: for each size past THRESHOLD_FROM
    (``case.one_smaller()``), the same example one smaller is run again; where that passes,
    "passes at K = 64, fails from K = 65".  Shrinking has made each size as small as fails,
    so this names the edge a kernel tiles or counts at.  None where no smaller example passes
    (or none could run)."""
    found = []
    for name, value, smaller in getattr(case, "one_smaller", lambda: ())():
        if value <= THRESHOLD_FROM:
            continue
        try:
            comparisons = _replay(check, ctx, smaller)
        except CheckFailure:
            continue
        except (Exception, TargetHung):  # the smaller example cannot run: nothing to say of that size
            continue
        if all(c.passed for c in comparisons or ()):
            found.append(f"passes at {name} = {value - 1}, fails from {name} = {value}")
    ctx.config = case
    return "; ".join(found) or None


def _replay(check, ctx, case):
    """``case`` run once more, recording nothing for a script: its comparisons."""
    ctx.config = case
    with hooks.paused():
        return check.body(case, ctx)


def _traced_replay(check, ctx, case):
    """The failing ``case`` run once more under a reproducer's trace (the Trace)."""
    ctx.config = case
    with hooks.tracing() as trace:
        try:
            check.body(case, ctx)
        except (Exception, TargetHung) as exc:
            trace.raised = exc
    return trace


def _property(check, ctx, result, refusals, failing, max_examples, derived_seed):
    with reaching(profiles.reach(max_examples)):
        strategy = ctx.transform.drawn(check.strategy(ctx.target))

    @hypothesis_seed(derived_seed)
    @settings(max_examples=max_examples, **profiles.base_settings())
    @given(strategy)
    def run(case):
        ctx.config = case
        watch.example(case)
        try:
            comparisons = check.body(case, ctx)
        except Unsupported as refusal:
            refusals.append(str(refusal))
            reject()
        except NotRepresentable:
            reject()
        except CheckFailure:
            failing.append(case)
            raise
        worst = max(comparisons, key=lambda c: c.ratio, default=None)
        if worst is not None and math.isfinite(worst.ratio):
            # steers the second half of the row's examples toward the largest error / tolerance: a
            # deviation that passes near the line is pushed over it, not left to luck
            hypothesis_target(float(worst.ratio), label=TARGET_LABEL)
        if worst is not None and not worst.passed:
            failing.append(case)
            raise CheckFailure(case, "error exceeds tolerance", worst)
        if not failing:
            result.examples += 1
            result.compared = result.compared or worst is not None
            result.worst_ratio = max(result.worst_ratio, worst.ratio if worst else 0.0)

    # No example database (base_settings), so no key for one: without this, Hypothesis hashes the
    # test's source for a key each row (as its own find() does, with no database)
    run._hypothesis_internal_database_key = None
    return run
