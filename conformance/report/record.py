"""The row record and its vocabulary: what one row of a run is (``Row``, named once at planning),
its verdict (``CheckResult``), the statuses a verdict can have, where a row ran (``place``) and
what identifies it across runs (``row_key``).  Imports neither torch nor Hypothesis: reading a
report, comparing two, and the string tests load only this.
"""
import math
from dataclasses import asdict, dataclass, field, fields

#: The report's schema.
SCHEMA = "rnn-conformance/1"
#: Every status a row can have, in the order summaries count them.
STATUSES = ("passed", "failed", "known", "stale", "error", "unsupported", "skipped")
#: Statuses that fail a run; ``known`` rows are failures a known-differences file accepts.
FAILING = ("failed", "error")
#: Statuses of a row that passed (a stale row: a known difference that no longer fails).
PASSING = ("passed", "stale")
#: Statuses of a row that checked nothing, with the reason why.
NOT_RUN = ("unsupported", "skipped")
#: A passed row on which refused draws left fewer than this share of its wanted examples has
#: thin evidence (said in the summary, the report and the HTML page).
THIN_SHARE = 0.25


def place(device, backend="default", transform="eager"):
    """Where a row ran: its device, with the CUDA backend when not torch's default
    (``cuda/native``) and the transform when not eager (``cpu+compile``)."""
    where = device if backend == "default" else f"{device}/{backend}"
    return where if transform == "eager" else f"{where}+{transform}"


def row_key(row):
    """What identifies a row across runs: (check, target, device, backend, transform, dtype) of a
    report row's dict, a Row or a CheckResult."""
    get = row.get if isinstance(row, dict) else lambda name, default=None: getattr(row, name, default)
    return (get("check"), get("target"), get("device"), get("backend") or "default", get("transform") or "eager",
            get("dtype"))


@dataclass(frozen=True)
class Row:
    """One row of a run, named once at planning and passed whole to the worker, the result and
    the report: ``check`` (its name) on ``target`` (its import path) on ``device`` under
    ``backend`` and ``transform``, in ``dtype``, drawing ``examples`` examples from ``seed``."""

    check: str
    target: str
    device: str
    dtype: str
    backend: str = "default"
    transform: str = "eager"
    examples: int = 0
    seed: int = 0

    @property
    def place(self):
        return place(self.device, self.backend, self.transform)

    @property
    def key(self):
        return row_key(self)

    @property
    def id(self):
        """The row's name in a pytest run: ``check-target-place-dtype``."""
        return f"{self.check}-{self.target}-{self.place}-{self.dtype}"

    def result(self, status="passed", **values):
        """The row's verdict, ``status`` and ``values`` (CheckResult's other fields) set."""
        return CheckResult(self.check, self.target, self.device, self.dtype, status, backend=self.backend,
                           transform=self.transform, **values)


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
    traceback: str = None
    backend: str = "default"
    #: the transform the target's forward ran under (``transforms``)
    transform: str = "eager"
    #: the torch flags in force while the row ran (CUDA rows), and the GPU it ran on
    flags: dict = None
    #: the known-differences entry that matched the row
    known: str = None
    #: whether any example compared a value with a tolerance (False: a pass/fail-only check,
    #: whose worst_ratio is no headroom; reports from before this field read as True)
    compared: bool = True
    #: the standalone script written for a failed row (``reproduce``), when asked for
    reproducer: str = None
    #: why no reproducer was written for a failed row when one was asked for
    no_reproducer: str = None
    #: draws the target refused to build (rejected like Hypothesis' ``assume``: the row is
    #: judged on the examples that ran), and the first refusal
    refused: int = 0
    refused_reason: str = None
    #: the examples the row wanted (its max_examples): fewer than THIN_SHARE of them ran is
    #: thin evidence
    wanted: int = 0
    #: how a failed row failed (``errors.SYMPTOMS``: raises, deviates, other), which a known
    #: difference may select on
    symptom: str = None
    #: the parity check whose failure this failed row likely follows from (``messages.root_causes``)
    consequence_of: str = None
    #: where the failing example's first NaN or inf came from (``checks.support.nonfinite``)
    non_finite: str = None
    #: where a failure starts along a size of the shrunk example (``run.thresholds``): "passes at
    #: K = 64, fails from K = 65"
    threshold: str = None
    family: str = field(default="", repr=False)

    @property
    def place(self):
        return place(self.device, self.backend, self.transform)

    @property
    def thin(self):
        """Whether refusals starved the row: it passed on fewer than THIN_SHARE of the examples
        it wanted."""
        return self.status == "passed" and bool(self.refused) and self.examples < THIN_SHARE * self.wanted

    def as_dict(self):
        row = asdict(self)
        row["worst_ratio"] = None if math.isinf(self.worst_ratio) else self.worst_ratio
        row["thin"] = self.thin
        return row

    @classmethod
    def from_dict(cls, row):
        """The result ``as_dict`` wrote (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in known}
        if values.get("worst_ratio") is None:
            values["worst_ratio"] = float("inf") if values.get("status") in ("failed", "known") else 0.0
        return cls(**values)


def count_statuses(statuses):
    """status -> how many of ``statuses``, every status present."""
    counts = {status: 0 for status in STATUSES}
    for status in statuses:
        counts[status] += 1
    return counts


def row_counts(results, planned, interrupted=False):
    """The rows of a run, counted one way for the closing line and the report: ``planned``,
    ``finished``, ``skipped``, ``ran`` (finished, not skipped) and ``to_run`` (planned, not
    skipped), and ``unfinished``: whether it stopped before its plan was through (interrupted,
    or fewer results than rows planned)."""
    planned_rows = planned or 0
    skipped = sum(r.status == "skipped" for r in results)
    return {"planned": planned_rows, "finished": len(results), "skipped": skipped, "ran": len(results) - skipped,
            "to_run": planned_rows - skipped,
            "unfinished": interrupted or (planned is not None and planned != len(results))}
