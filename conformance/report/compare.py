"""``rnn-conformance compare OLD.json NEW.json``: the upgrade gate between two reports.

Rows are matched by check, target, device, dtype, CUDA backend and transform (a report from
before transforms existed ran eager).  What it says, in this
order: whether the two reports can be compared at all (some row in common, the same
targets), new failures (passed before, failing now), headroom regressions (a passed row
whose worst error / tolerance grew past ``factor`` times and above ``floor``), new rows that
fail, rows lost (absent now, or passed before and unsupported or skipped now), rows fixed,
still failing, other changes of the unsupported or skipped state, rows added, and the
environment difference; then how many rows it compared and the largest headroom change.
Two runs are like for like only when they drew the same examples (same seed, profile and
example count): compare warns loudly when they did not.  The gate fails on anything but
fixed, still failing, accepted, added and passing rows (lost rows pass with ``allow_gone``).

Imports neither torch nor numpy: a CI step that only compares needs neither.
"""
import json
import math
from dataclasses import dataclass, field

from ..errors import UsageError
from .record import FAILING, NOT_RUN, PASSING, SCHEMA, place, row_key

#: A passed row regresses in headroom when its worst error / tolerance grew more than
#: FACTOR-fold (two bits of accuracy lost on the same examples) and is now above FLOOR (a row
#: still within a quarter of its tolerance keeps a 4x margin, whatever it was before).  Same
#: seed, same examples: torch 2.13 and 2.14 on the CPU gave identical ratios on all 316 rows.
FACTOR, FLOOR = 4.0, 0.25
#: The environment entries whose difference compare prints.
ENVIRONMENT = ("torch", "cuda", "cudnn", "gpu", "numpy", "hypothesis", "python", "rnn_conformance")


@dataclass
class Change:
    """One row as it was and as it is (either side None for a row added or gone)."""

    key: tuple
    old: dict = None
    new: dict = None

    @property
    def name(self):
        check, target, device, backend, transform, dtype = self.key
        return f"{check}  {target}  {place(device, backend, transform)}  {dtype}"


@dataclass
class Comparison:
    """What changed between two reports, section by section (each a list of Change)."""

    new_failures: list = field(default_factory=list)
    headroom_regressions: list = field(default_factory=list)
    added_failing: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    fixed: list = field(default_factory=list)
    still_failing: list = field(default_factory=list)
    newly_known: list = field(default_factory=list)
    availability_changed: list = field(default_factory=list)
    added: list = field(default_factory=list)
    environment: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    #: why the two reports cannot gate one another (no row in common, other targets)
    not_comparable: list = field(default_factory=list)
    #: rows present in both reports, and the one whose headroom changed most (a Change)
    compared: int = 0
    largest_change: object = None
    factor: float = FACTOR
    floor: float = FLOOR
    allow_gone: bool = False

    @property
    def regressed(self):
        return bool(self.new_failures or self.headroom_regressions)

    @property
    def failed(self):
        """Whether the gate fails: a regression, a new row that fails, reports that cannot be
        compared, or rows lost (unless allowed)."""
        return bool(self.regressed or self.added_failing or self.not_comparable
                    or (self.lost and not self.allow_gone))


def load_report(path):
    """The report at ``path``; a UsageError of one line when it is not one this version reads."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON report ({exc})") from None
    if not isinstance(data, dict) or "schema" not in data or not isinstance(data.get("checks"), list):
        raise UsageError(f"{path}: not an rnn-conformance report (no schema and checks)")
    if data["schema"] != SCHEMA:
        raise UsageError(f"{path}: report schema {data['schema']!r}; this rnn-conformance reads {SCHEMA!r}")
    for index, row in enumerate(data["checks"]):
        if not isinstance(row, dict) or not all(k in row for k in ("check", "target", "device", "dtype", "status")):
            raise UsageError(f"{path}: checks[{index}] is not a report row (check, target, device, dtype, status)")
    return data


def compare_reports(old, new, factor=FACTOR, floor=FLOOR, allow_gone=False):
    """The Comparison of two reports, each a path or a loaded report (``load_report``)."""
    old, new = (load_report(r) if isinstance(r, str) else r for r in (old, new))
    result = Comparison(factor=factor, floor=floor, allow_gone=allow_gone)
    old_rows = {row_key(r): r for r in old["checks"]}
    new_rows = {row_key(r): r for r in new["checks"]}
    for key, row in new_rows.items():
        before = old_rows.get(key)
        if before is None:
            getattr(result, "added_failing" if row["status"] in FAILING else "added").append(Change(key, None, row))
            continue
        result.compared += 1
        section = _section(before, row, factor, floor)
        if section:
            getattr(result, section).append(Change(key, before, row))
    result.lost += [Change(key, row, None) for key, row in old_rows.items() if key not in new_rows]
    result.headroom_regressions.sort(key=lambda c: -_growth(c.old, c.new))
    both = [Change(key, old_rows[key], row) for key, row in new_rows.items()  # rows with a headroom on both sides
            if key in old_rows and all(r["status"] in PASSING and 0.0 < _ratio(r) < math.inf
                                       for r in (old_rows[key], row))]
    result.largest_change = max(both, key=lambda c: abs(math.log(_growth(c.old, c.new))), default=None)
    result.not_comparable = comparable(old, new, result.compared)
    result.environment = environment_difference(old, new)
    result.warnings = like_for_like(old, new)
    return result


def comparable(old, new, compared):
    """Why two reports cannot gate one another: no row in common, or other targets."""
    reasons = []
    targets = [(report.get("target") or {}).get("impl") for report in (old, new)]
    if targets[0] != targets[1]:
        reasons.append(f"the reports are of different targets ({targets[0]} and {targets[1]})")
    if not compared:
        reasons.append(f"no row in common ({len(old['checks'])} rows before, {len(new['checks'])} now): "
                       f"nothing was compared")
    return reasons


def _section(old, new, factor, floor):
    was, now = old["status"], new["status"]
    if was in PASSING and now in NOT_RUN:
        return "lost"
    if now in FAILING:
        return "new_failures" if was in PASSING else "still_failing" if was in FAILING + ("known",) else None
    if now == "known":
        return "newly_known" if was != "known" else None
    if now in PASSING:
        if was in FAILING + ("known",):
            return "fixed"
        if was in PASSING and _ratio(new) > floor and _ratio(new) > factor * _ratio(old):
            return "headroom_regressions"
        return None if was in PASSING else "availability_changed"
    return "availability_changed" if was != now else None


def _ratio(row):
    ratio = row.get("worst_ratio")
    return float("inf") if ratio is None else float(ratio)


def _growth(old, new):
    return max(_ratio(new), 1e-300) / max(_ratio(old), 1e-300)


def environment_difference(old, new):
    """name -> (old, new) for each environment entry that differs (TF32 flags included)."""
    differ = {}
    for side, report in (("old", old), ("new", new)):
        env = report.get("environment", {})
        flags = env.get("tf32") or {}
        for name in ENVIRONMENT:
            differ.setdefault(name, {})[side] = env.get(name)
        for name, value in flags.items():
            differ.setdefault(name, {})[side] = value
    return {name: (v.get("old"), v.get("new")) for name, v in differ.items() if v.get("old") != v.get("new")}


def like_for_like(old, new):
    """Warnings when the two runs did not draw the same examples, or did not finish."""
    warnings = []
    old_run, new_run = _run(old), _run(new)
    for name in SETTING_NAMES:
        if old_run.get(name) != new_run.get(name):
            warnings.append(f"the runs used different {SETTING_NAMES[name]} ({old_run.get(name)} and "
                            f"{new_run.get(name)}): they did not draw the same examples, so a row's change may be "
                            f"the examples', not torch's. Rerun both with the same --seed and --profile")
    old_suite, new_suite = ((r.get("environment") or {}).get("rnn_conformance") for r in (old, new))
    if old_suite and new_suite and old_suite != new_suite:
        warnings.append(f"the runs used different versions of rnn-conformance ({old_suite} and {new_suite}): its "
                        f"strategies and the literals its draws use may differ, so the same seed may have drawn "
                        f"other examples and a row's change may be the examples', not the target's")
    for side, report in (("old", old), ("new", new)):
        if report.get("interrupted"):
            done = report["interrupted"]
            ran, to_run = done.get("ran", done.get("finished")), done.get("to_run", done.get("planned"))
            warnings.append(f"the {side} run was interrupted ({ran} of {to_run} rows to run finished)")
    return warnings


#: The run settings that decide which examples are drawn, as a warning names them.
SETTING_NAMES = {"seed": "seeds", "profile": "profiles", "max_examples": "example counts (max examples)"}


def _run(report):
    """The run settings of a report (older reports have only the seed, in the environment)."""
    run = dict(report.get("run") or {})
    run.setdefault("seed", (report.get("environment") or {}).get("seed"))
    if "max_examples" not in run:
        counts = {r.get("replay", "").partition("--max-examples ")[2].split(" ")[0] for r in report["checks"]}
        run["max_examples"] = counts.pop() if len(counts) == 1 else None
    return run


SECTIONS = (
    ("new_failures", "new failures (passed before, failing now)"),
    ("headroom_regressions", "headroom regressions (worst error/tolerance grew more than {factor:g}x, now above "
                             "{floor:g})"),
    ("added_failing", "new rows that fail"),
    ("lost", "rows lost (absent now, or passed before and unsupported or skipped now){allowed}"),
    ("fixed", "fixed (failing before, passing now)"),
    ("still_failing", "still failing"),
    ("newly_known", "failing now, accepted by a known difference"),
    ("availability_changed", "unsupported or skipped, changed"),
    ("added", "rows added"),
)
#: Sections whose rows carry their failure message and replay command in the Markdown.
WITH_MESSAGES = ("new_failures", "added_failing")


def describe(change):
    """'passed 0.12 -> failed 3.4e+05' for a row that exists on both sides."""
    return f"{_state(change.old)} -> {_state(change.new)}"


def _state(row):
    if row is None:
        return "absent"
    ratio = row.get("worst_ratio")
    if row["status"] in PASSING + FAILING + ("known",) and ratio is not None and row.get("examples", 1):
        return f"{row['status']} {ratio:.3g}"
    reason = f" ({row['reason']})" if row["status"] in NOT_RUN and row.get("reason") else ""
    return row["status"] + reason


def _title(comparison, title):
    allowed = " (allowed: --allow-gone)" if comparison.allow_gone else ""
    return title.format(factor=comparison.factor, floor=comparison.floor, allowed=allowed)


def scope(comparison):
    """'compared 480 rows in common; largest headroom change among rows that passed on both
    sides: ...' (what the gate rests on; the failures come first where there are any)."""
    line = f"compared {comparison.compared} rows in common"
    failing = len(comparison.new_failures) + len(comparison.added_failing)
    if failing:
        line += f"; {_count(failing, 'row fails', 'rows fail')} now that did not before (above)"
    change = comparison.largest_change
    if change is not None and _growth(change.old, change.new) != 1.0:
        line += (f"; largest headroom change among rows that passed on both sides: {change.name}  "
                 f"{describe(change)} ({_growth(change.old, change.new):.3g}x)")
    elif change is not None:
        line += "; no passed row's worst error/tolerance changed"
    return line


def text(comparison, old_path, new_path, limit=20):
    """The comparison for a terminal."""
    lines = [f"rnn-conformance compare: {old_path} -> {new_path}"]
    lines += [f"NOT COMPARABLE: {reason}" for reason in comparison.not_comparable]
    lines += [f"WARNING: {w}" for w in comparison.warnings]
    for name, title in SECTIONS:
        changes = getattr(comparison, name)
        if not changes:
            continue
        lines += ["", f"{_title(comparison, title)}: {len(changes)}"]
        lines += [f"  {c.name}  {describe(c)}" for c in changes[:limit]]
        lines += [f"  ... and {len(changes) - limit} more"] if len(changes) > limit else []
    lines += ["", "environment:" if comparison.environment else "environment: the same"]
    lines += [f"  {name}: {old} -> {new}" for name, (old, new) in comparison.environment.items()]
    lines += ["", scope(comparison), verdict(comparison)]
    return "\n".join(lines)


def markdown(comparison, old_path, new_path, limit=50):
    """The comparison as GitHub-flavoured Markdown, for a CI step summary; each new failure
    with its message and replay command."""
    lines = [f"## rnn-conformance: {verdict(comparison)}", "", f"`{old_path}` → `{new_path}`", "",
             scope(comparison), ""]
    lines += [f"> **Not comparable:** {reason}" for reason in comparison.not_comparable]
    lines += [f"> **Warning:** {w}" for w in comparison.warnings]
    lines += [""] if comparison.warnings or comparison.not_comparable else []
    for name, title in SECTIONS:
        changes = getattr(comparison, name)
        if not changes:
            continue
        lines += [f"### {_title(comparison, title)}: {len(changes)}", "",
                  "| check | target | device | dtype | before -> now |", "| --- | --- | --- | --- | --- |"]
        for c in changes[:limit]:
            check, target, device, backend, transform, dtype = c.key
            lines.append(f"| `{check}` | `{target}` | {place(device, backend, transform)} | {dtype} | {describe(c)} |")
        lines += [f"| ... and {len(changes) - limit} more | | | | |"] if len(changes) > limit else []
        lines.append("")
        if name in WITH_MESSAGES:
            heads = story_heads(changes)
            if len(heads) < len(changes):
                lines += [f"In full: the first row of each check that failed on its own ({len(heads)} of "
                          f"{len(changes)}); the others failed in the same checks or likely follow from them "
                          f"(the run's `consequence_of`).", ""]
            lines += [line for c in heads[:limit] for line in _failure_details(c)]
    if comparison.environment:
        lines += ["### environment", "", "| | before | now |", "| --- | --- | --- |"]
        lines += [f"| {name} | {old} | {new} |" for name, (old, new) in comparison.environment.items()]
    else:
        lines.append("environment: the same")
    return "\n".join(lines) + "\n"


def _failure_details(change):
    """A collapsed block with a failing row's message (which ends with its replay command)."""
    row = change.new
    body = row.get("message") or row.get("reason") or row["status"]
    replay = row.get("replay")
    lines = ["<details><summary><code>" + change.name.replace("  ", " ") + "</code></summary>", "", "```", body]
    lines += ["```", ""] + ([f"replay: `{replay}`", ""] if replay and replay not in body else []) + ["</details>", ""]
    return lines


def story_heads(changes):
    """The changes whose failure is told in full: the first of each target and check, and not a
    row that the run marked as likely following from another's failure (``consequence_of``):
    those stand in the table, one line each."""
    seen, heads = set(), []
    for change in changes:
        row = change.new
        key = (row["target"], row["check"])
        if row.get("consequence_of") or key in seen:
            continue
        seen.add(key)
        heads.append(change)
    return heads


def verdict(comparison):
    reasons = []
    if comparison.not_comparable:
        reasons.append("the reports cannot be compared")
    if comparison.new_failures:
        reasons.append(_count(len(comparison.new_failures), "new failure"))
    if comparison.headroom_regressions:
        reasons.append(_count(len(comparison.headroom_regressions), "headroom regression"))
    if comparison.added_failing:
        reasons.append(_count(len(comparison.added_failing), "new row that fails", "new rows that fail"))
    if comparison.lost and not comparison.allow_gone:
        reasons.append(_count(len(comparison.lost), "row lost", "rows lost") + " (--allow-gone accepts them)")
    if reasons:
        return "GATE FAILED: " + ", ".join(reasons)
    return "no regression" + (" (but see the warnings above)" if comparison.warnings else "")


def _count(n, one, many=None):
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"
