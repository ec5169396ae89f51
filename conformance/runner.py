"""Runs one check on one target, device and dtype under Hypothesis and returns a structured result.

Checks register here with the family they belong to; ``run_check`` is usable without
pytest (the CLI and the pytest plugin both call it).
"""
import math
import signal
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
from hypothesis import given, reject, seed as hypothesis_seed, settings
from hypothesis.errors import Unsatisfiable

from . import messages, profiles
from .errors import CheckFailure, NotRepresentable, TargetCrashed, TargetHung, Unsupported
from .targets import load_weights, one_line
from .tolerances import DTYPES, precision_for

FAMILIES = ("parity", "packing", "gradients", "metamorphic", "contract", "models")

#: Seconds one example may spend inside the target before it counts as hung.
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Check:
    """A property: ``strategy(target)`` draws cases, ``body(case, ctx)`` returns comparisons
    (or raises CheckFailure).  ``kinds`` it applies to; target features it ``requires``."""

    name: str
    family: str
    doc: str
    strategy: object
    body: object
    kinds: tuple = ("rnn", "gru", "lstm")
    requires: tuple = ()


CHECKS = {}


def register(family, strategy, kinds=("rnn", "gru", "lstm"), requires=()):
    """Decorator: registers ``check_<name>(case, ctx)`` as the check ``<name>``."""
    assert family in FAMILIES, family

    def decorate(fn):
        name = fn.__name__.removeprefix("check_")
        summary = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        CHECKS[name] = Check(name, family, summary, strategy, fn, tuple(kinds), tuple(requires))
        return fn

    return decorate


@dataclass
class Context:
    """What a check body needs: the target, where and how to run it, the tolerance model."""

    target: object
    device: str
    dtype: torch.dtype
    timeout: float = DEFAULT_TIMEOUT
    config: object = None

    @property
    def precision(self):
        return precision_for(self.device, self.dtype)

    def build(self, config, weights, train=False):
        """The target module for config holding ``weights`` rounded to the dtype, in eval mode
        (training mode with ``train``: cuDNN runs backward only there); returns (module, the
        rounded weights as float64 numpy, which the oracle uses)."""
        with time_limit(self.timeout):
            module = self.target.build(config, self.device, self.dtype)
        return module, self.load(module, weights, load_weights, train)

    def load(self, module, weights, loader, train=False):
        """Loads float64 ``weights`` rounded to the dtype with ``loader(module, tensors)``, sets
        eval (or training) mode, and returns the rounded weights as float64 numpy."""
        tensors = {k: torch.as_tensor(v).to(self.dtype).to(self.device) for k, v in weights.items()}
        self.call("load_state_dict", loader, module, tensors)
        module.train(train)
        return {k: t.to("cpu", torch.float64).numpy() for k, t in tensors.items()}

    def call(self, what, fn, *args, grad=False):
        """fn(*args) inside the time limit, recording autograd only with ``grad``; any
        exception becomes a TargetCrashed failure."""
        try:
            with time_limit(self.timeout), torch.set_grad_enabled(grad):
                return fn(*args)
        except Exception as exc:
            raise TargetCrashed(self.config, f"{what} raised {one_line(exc)}") from exc


@contextmanager
def time_limit(seconds):
    """Raises TargetHung in the main thread after ``seconds`` (no limit elsewhere)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TargetHung(f"the target did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class CheckResult:
    """The verdict of one check on one target, device and dtype (a report row)."""

    check: str
    target: str
    device: str
    dtype: str
    status: str
    examples: int = 0
    worst_ratio: float = 0.0
    counterexample: str = None
    replay: str = None
    message: str = None
    reason: str = None
    seconds: float = 0.0
    family: str = field(default="", repr=False)

    def as_dict(self):
        row = asdict(self)
        row["worst_ratio"] = None if math.isinf(self.worst_ratio) else self.worst_ratio
        return row


def check_seed(seed, check, target, device, dtype):
    """The Hypothesis seed of one run, so that --checks/--devices/--dtypes do not change it."""
    return zlib.crc32(f"{seed}/{check}/{target}/{device}/{dtype}".encode())


def run_check(check, target, device, dtype, *, max_examples, seed, timeout=DEFAULT_TIMEOUT):
    """Runs ``check`` (a Check or its name) and returns a CheckResult; never raises for a
    target's misbehaviour, only for the suite's own bugs."""
    from .checks import CHECKS_BY_NAME
    check = CHECKS_BY_NAME[check] if isinstance(check, str) else check
    dtype_name = dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
    result = CheckResult(check.name, target.impl, device, dtype_name, "passed", family=check.family)
    result.replay = messages.replay_command(check.name, target.impl, device, dtype_name, seed, max_examples,
                                            None if target.impl.startswith("torch.nn.") else target.kind)
    missing = [f for f in check.requires if not target.supports(f)]
    if missing:
        result.status, result.reason = "unsupported", f"{missing[0]}: {target.unsupported[missing[0]]}"
        return result
    ctx = Context(target, device, DTYPES[dtype_name], timeout)
    started = time.perf_counter()
    refusals = []
    try:
        _property(check, ctx, result, refusals, max_examples, check_seed(seed, check.name, target.impl, device, dtype_name))()
        if refusals:
            result.status, result.reason = "unsupported", f"{len(refusals)} configurations refused: {refusals[0]}"
    except CheckFailure as failure:
        _fail(result, check, failure)
    except TargetHung as hung:
        _fail(result, check, CheckFailure(ctx.config, str(hung)))
    except Unsatisfiable:
        result.status = "unsupported"
        result.reason = refusals[0] if refusals else "no example could be drawn for this target"
    result.seconds = time.perf_counter() - started
    return result


def _fail(result, check, failure):
    result.status = "failed"
    result.counterexample = str(failure.config)
    if failure.comparison is not None:
        result.worst_ratio = failure.comparison.ratio
    result.message = messages.failure_message(check.name, result.target, result.device, result.dtype,
                                              failure, result.replay)


def _property(check, ctx, result, refusals, max_examples, derived_seed):
    failing = []

    @hypothesis_seed(derived_seed)
    @settings(max_examples=max_examples, **profiles.BASE_SETTINGS)
    @given(check.strategy(ctx.target))
    def run(case):
        ctx.config = case
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
        if worst is not None and not worst.passed:
            failing.append(case)
            raise CheckFailure(case, "error exceeds tolerance", worst)
        if not failing:
            result.examples += 1
            result.worst_ratio = max(result.worst_ratio, worst.ratio if worst else 0.0)

    return run
