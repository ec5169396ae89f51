"""The one builder of everything a user reads about a run, for the CLI and the pytest plugin alike:
the run's header line, the check list, failure and error messages, the compact
summary and the full table, the closing lines, the progress line.  The JSON report is
``document``'s, the JUnit XML ``junit``'s.

Imports neither torch nor Hypothesis at the top: the plugin loads it in every session.
"""
import re
import sys
import time

from ..config import COPYING_HOOK
from .record import FAILING, count_statuses, row_counts


#: What a row's cell in the compact summary says, by status (passed rows show their headroom).
CELL = {"failed": "FAIL", "known": "known", "stale": "STALE", "error": "ERROR", "unsupported": "unsup",
        "skipped": "skip"}
#: Seconds between progress lines when the output is not a terminal.
PROGRESS_EVERY = 30.0
#: How every line the suite prints on its own names it.
PROGRAM = "rnn-conformance"


def header(planned, seed, targets, skipped=0):
    """The first line of a run: how many rows (check x target x device x dtype) it planned, to
    run and skipped (``rows_said``), the seed, the targets."""
    return f"{PROGRAM}: {rows_said(planned, skipped)}, seed {seed}, targets {', '.join(t.impl for t in targets)}"


def rows_said(planned, skipped, finished=None):
    """The run's rows, said one way everywhere: '1040 rows planned: 520 to run, 520 skipped', with
    how many of those to run finished when ``finished`` is given (an interrupted run)."""
    if finished is None:
        return _rows(planned) + (f" planned: {planned - skipped} to run, {skipped} skipped" if skipped else "")
    said = f"{finished} of {_rows(planned - skipped)} to run finished"
    return said + (f" ({skipped} skipped, {planned} planned)" if skipped else "")


#: Width the check list wraps each check's description to.
LIST_WIDTH = 100


def check_list(checks):
    """``--list``: one line per check (family, name, the kinds it applies to, what it needs from
    a target) in aligned columns, then what it checks, wrapped and indented below it."""
    import textwrap
    from ..config import CELL_KINDS, LAYER_KINDS
    every = {tuple(LAYER_KINDS): "every layer kind", tuple(CELL_KINDS): "every cell kind"}
    kinds = [every.get(tuple(c.kinds), "/".join(c.kinds)) for c in checks]
    widths = [max(len(c.family) for c in checks), max(len(c.name) for c in checks), max(map(len, kinds))]
    lines = []
    for check, kind in zip(checks, kinds):
        needs = f"  needs {', '.join(check.requires)}" if check.requires else ""
        head = f"{check.family:{widths[0]}s}  {check.name:{widths[1]}s}  {kind:{widths[2]}s}"
        if len(head + needs) > LIST_WIDTH + 30:  # too long for one line: what it needs goes below
            lines += [head.rstrip(), f"    {needs.strip()}"]
        else:
            lines.append((head + needs).rstrip())
        lines += textwrap.wrap(check.doc, LIST_WIDTH, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines)


def failure_message(result, failure):
    """Check, target, where it ran (device, backend, transform), dtype, the shrunk
    configuration, the worst element (or what went wrong), and the replay command."""
    lines = [f"FAILED {result.check}  target={result.target}  device={result.place}  dtype={result.dtype}",
             f"  configuration: {failure.config}"]
    if failure.comparison is not None:
        lines.append(f"  worst element: {failure.comparison.describe()}")
        if result.non_finite:
            lines.append(f"  non-finite: {result.non_finite}")
    else:
        lines.append(f"  what went wrong: {failure.summary}")
    if result.threshold:
        lines.append(f"  size: {result.threshold}")
    lines.append(f"  replay: {result.replay}")
    return "\n".join(lines)


def reproducer_line(result):
    """Where a failed row's standalone script is, or why it has none."""
    if result.reproducer:
        return f"  reproducer: python {result.reproducer}  (torch and numpy only; exits 1 while this fails)"
    return f"  no standalone reproducer: {result.no_reproducer}"


def reproducer_lines(results, directory):
    """(lines saying how many failed, error or known rows got a standalone script, naming the
    scripts of the root causes (the first row of each story, ``grouped_failures``: its
    consequences' scripts lie beside it) and why a row has none, then how many other rows there
    were; whether every such row has one)."""
    rows = [r for r in results if r.status in FAILING + ("known",)]
    lines = [f"standalone reproducers in {directory}: {sum(bool(r.reproducer) for r in rows)} of {_rows(len(rows))}"]
    heads = {id(group[0]) for group in grouped_failures(rows)[0]} | {id(r) for r in rows if r.status == "known"}
    named = [r for r in rows if id(r) in heads or not r.reproducer]  # a head's script, and every row without one
    for r in named:
        where = f"{r.check} {r.target} {r.place} {r.dtype}"
        why = r.no_reproducer or f"{r.reason or r.status}; its replay command reproduces it"
        lines.append(f"  {where}: python {r.reproducer}" if r.reproducer else f"  {where}: none ({why})")
    if len(named) < len(rows):
        lines.append(f"  the other {_rows(len(rows) - len(named))}' scripts lie beside them (the report names each "
                     f"row's)")
    others = [r for r in results if r.status in ("passed", "stale", "skipped", "unsupported")]
    if others:
        counts = count_statuses(r.status for r in others)
        lines.append(f"  no script for the {_rows(len(others))} that did not fail ("
                     + ", ".join(f"{n} {status}" for status, n in counts.items() if n) + ")")
    return lines, bool(rows) and all(r.reproducer for r in rows) and not others


def failure_head(result):
    """One line for a failed or error row, printed the moment it finishes: what failed where,
    and its worst element or what went wrong (the whole story comes after the table)."""
    return (f"{result.status.upper()} {result.check}  {result.place} {result.dtype}  {result.target}: "
            f"{in_one_line(result)}")


#: What a failure message says of a comparison of two runs within a bound: one computed from
#: the oracle's values, which a target that fails parity does not compute.
BOUND_FROM_ORACLE = "(difference/tolerance "


def root_causes(results, against_torch, roles):
    """Marks the failed rows that the first failed row of a ``root`` family (``roles``: family ->
    its role, ``checks.registry.ROLES``) at the same target and place (the root cause, in plan
    order) likely explains, with ``consequence_of`` naming its check: the other rows of root
    families that compare values (the same deviation seen by another check), the failed
    comparisons of the ``follows`` families (through the wrong values), and the ``relation``
    rows whose tolerance rests on the oracle's values (not one of the checks ``against_torch``,
    whose other side is torch's own module).  Then the structural failures that no value
    explains: the rows of other checks that went wrong the same way as an earlier one at the
    same target and place (``failure_signature``: a returned value of the wrong shape fails
    every check that calls the target, 26 rows for one line of a library) follow from it.
    Returns the rows so marked."""
    roots = {}
    for r in results:
        if r.status == "failed" and roles.get(r.family) == "root":
            roots.setdefault((r.target, r.place), r.check)
    marked = []
    for r in results:
        root = roots.get((r.target, r.place))
        if root and r.status == "failed" and r.check != root and _follows(r, against_torch, roles.get(r.family)):
            r.consequence_of = root
            marked.append(r)
    first = {}
    for r in results:
        signature = failure_signature(r) if r.status == "failed" and not getattr(r, "consequence_of", None) else None
        if signature is None:
            continue
        earlier = first.setdefault((r.target, r.place, signature), r)
        if earlier.check != r.check and not getattr(earlier, "consequence_of", None):
            r.consequence_of = earlier.check
            marked.append(r)
    return marked


#: A number in a failure's words: a size, an index, a value.
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def failure_signature(row):
    """What went wrong in a structural failure (a wrong shape, dtype or structure, a refusal),
    its numbers left out: two rows with the same signature failed the same way on different
    examples.  None for a value comparison (``root_causes`` places those by their checks)."""
    said = next((line for line in (row.message or "").splitlines() if line.startswith("  what went wrong: ")), None)
    return None if said is None else _NUMBER.sub("#", said.split(": ", 1)[1])


def _follows(row, against_torch, role):
    """Whether a failed row of ``role`` is of the kind a wrong forward value explains."""
    if role in ("root", "follows"):
        return getattr(row, "symptom", None) in (None, "deviates") and " worst element: " in (row.message or "")
    return role == "relation" and row.check not in against_torch and BOUND_FROM_ORACLE in (row.message or "")


def grouped_failures(results):
    """(groups, consequences) of the failed and error rows (objects with a row's attributes):
    groups, lists of the rows of one target and check, in the order they came (the first is
    shown in full); consequences, (target, root check) -> the rows ``root_causes`` marked as
    likely following from that check's failure."""
    groups, consequences = {}, {}
    for r in results:
        if getattr(r, "consequence_of", None):
            consequences.setdefault((r.target, r.consequence_of), []).append(r)
        elif r.status in FAILING:
            groups.setdefault((r.target, r.check, r.status), []).append(r)
    return list(groups.values()), consequences


def consequence_heading(target, root, following):
    """The line above the rows ``following`` that likely fail because ``root`` fails."""
    signatures = {failure_signature(r) for r in following}
    if len(signatures) == 1 and None not in signatures:
        return (f"the same failure as {root} on {target} ({_rows(len(following))} of other checks, each "
                f"calling the target: {signatures.pop()}; fix {root} first)")
    return (f"likely the same bug as {root} on {target} ({_rows(len(following))}: checks of the same values, "
            f"gradients through them, relations whose tolerance rests on the oracle's values; fix {root} first)")


def failure_groups(results):
    """The failed and error rows, one story per root cause: the first row of a target and check
    in full, the places and dtypes where that check failed too on one line, then the checks
    that likely fail because of it (``root_causes``), one line per check."""
    groups, consequences = grouped_failures(results)
    lines = []
    for rows in groups:
        lines.append(rows[0].message)
        if len(rows) > 1:
            lines.append("  also failed " + ", ".join(f"{_where(r, rows[0])}{_ratio(r)}" for r in rows[1:]))
        for (target, root), following in consequences.items():
            if (target, root) == (rows[0].target, rows[0].check):
                lines.append(consequence_heading(target, root, following) + ":")
                lines += [f"    {check}  {where}: {said}" for check, where, said in _by_check(following)]
    return lines


def _where(row, first):
    """A row's dtype, with its place when it differs from ``first``'s."""
    return row.dtype if row.place == first.place else f"{row.place} {row.dtype}"


def _ratio(row):
    """A failed comparison's worst ratio (a structural failure has none: the ratio its row holds is
    that of the examples that passed before it)."""
    compared = failure_signature(row) is None
    return f" ({row.worst_ratio:.3g}x)" if row.status == "failed" and compared and 0 < row.worst_ratio < float("inf") else ""


def _by_check(rows):
    """(check, its places and dtypes, the first row's failure in one line) per check of ``rows``."""
    checks = {}
    for r in rows:
        checks.setdefault(r.check, []).append(r)
    for check, same in checks.items():
        places = list(dict.fromkeys(r.place for r in same))
        where = "; ".join(f"{p} " + ", ".join(r.dtype for r in same if r.place == p) for p in places)
        yield check, where, in_one_line(same[0])


def in_one_line(result):
    """What went wrong in a failed row, in one line: its worst element, or what happened."""
    for line in (result.message or "").splitlines():
        if line.startswith(("  worst element: ", "  what went wrong: ")):
            return line.split(": ", 1)[1]
    return result.reason or result.status


def error_message(result):
    """An ``error`` row: the suite's own exception, where to find its traceback, how to replay."""
    lines = [f"ERROR {result.check}  target={result.target}  device={result.place}  dtype={result.dtype}",
             f"  {result.reason}: a bug of rnn-conformance, please report it (traceback in the report)"]
    if result.counterexample:
        lines.append(f"  configuration: {result.counterexample}")
    lines.append(f"  replay: {result.replay}")
    return "\n".join(lines)


def _cell(result):
    if result.status == "passed":
        cell = f"{result.worst_ratio:.2g}" if result.examples and result.compared else "ok"
        return f"{cell} thin" if result.thin else cell
    return CELL[result.status]


def summary(results):
    """One line per check and target; a column per device and dtype that ran (a device skipped
    throughout gets no column: the closing lines say why once).  Passed cells show the worst
    error / tolerance."""
    ran = [r for r in results if r.status != "skipped"]
    columns = list(dict.fromkeys((r.place, r.dtype) for r in ran))
    if not columns:
        return "(no check ran)"
    lines, cells = {}, {}
    for r in ran:  # a check none of whose rows ran (an interrupted run) gets no line of dashes
        lines.setdefault((r.check, r.target), None)
        cells[(r.check, r.target, r.place, r.dtype)] = _cell(r)
    headers = ["check", "target"] + [f"{d} {t}" for d, t in columns]
    rows = [[check, target] + [cells.get((check, target, d, t), "-") for d, t in columns] for check, target in lines]
    return _aligned(headers, rows)


def table(results):
    """The full table (``--verbose``): one line per check x target x device x dtype."""
    headers = ["check", "target", "device", "dtype", "status", "examples", "refused", "worst err/tol", "seconds"]
    rows = [[r.check, r.target, r.place, r.dtype, r.status.upper() if r.status in FAILING else r.status,
             str(r.examples), str(r.refused),
             f"{r.worst_ratio:.3g}" if (r.examples and r.compared) or r.status in ("failed", "known") else "-",
             f"{r.seconds:.1f}"] for r in results]
    return _aligned(headers, rows)


def _aligned(headers, rows):
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(row) for row in rows])


def counts_line(counts, seed, versions):
    """'304 passed, 0 failed, 0 error, 0 unsupported, 304 skipped  (seed 5, torch ..., python ...)';
    known and stale rows are counted when there are any."""
    shown = [f"{n} {status}" for status, n in counts.items() if n or status not in ("known", "stale")]
    return ", ".join(shown) + f"  (seed {seed}, {versions})"


def closing_lines(results, targets, counts, seed, versions, planned=None, failures=True, unmatched=(), stopped=None,
                  interrupted=False):
    """Failures and errors in full (unless ``failures`` is False: pytest shows its own), what
    each target declared or could not build, unsupported rows grouped by reason, known
    differences by entry (stale ones and entries that matched nothing warned about), skipped
    devices once each, and the totals line."""
    lines = failure_groups(results) if failures else []
    for target in targets:
        lines += _declaration_lines(target)
    lines += [f"warning: {impl}: {why}" for impl, why in not_compared(targets).items()]
    for (target, reason), rows in _grouped(results, "unsupported", lambda r: (r.target, r.reason)).items():
        lines.append(f"unsupported ({_rows(len(rows))}) {target}: {reason} [{_checks(rows)}]")
    lines += refusal_lines(results)
    for (entry, reason), rows in _grouped(results, "known", lambda r: (r.known, r.reason)).items():
        lines.append(f"known ({_rows(len(rows))}): {reason.removeprefix(f'known difference [{entry}]: ')} "
                     f"[{entry}: {_checks(rows)}]")
    for entry, rows in _grouped(results, "stale", lambda r: r.known).items():
        lines.append(f"STALE known difference [{entry}]: {_rows(len(rows))} it expects to fail passed "
                     f"[{_checks(rows)}]; remove or narrow the entry")
    lines += [f"warning: known difference [{entry}] matches no row of this run" for entry in unmatched]
    skipped = _grouped(results, "skipped", lambda r: (r.device, r.reason))
    lines += [f"skipped {_rows(len(rows))} on {device}: {why}" for (device, why), rows in skipped.items()]
    lines += [f"warning: every row of {target} is unsupported ({_rows(n)}): nothing of it was checked"
              for target, n in _all_unsupported(results).items()]
    rows = row_counts(results, planned, interrupted)
    finished = rows_said(rows["planned"], rows["skipped"], rows["ran"])
    if rows["unfinished"] and stopped:
        lines.append(f"stopped after {_rows(stopped).replace('row', 'failed row')} (--maxfail {stopped}): "
                     f"{finished}; the others did not run")
    elif rows["unfinished"]:
        lines.append(f"interrupted: {finished if planned else 'before any row was planned'}"
                     + ("; the others did not run" if planned else ""))
    if nothing_checked(counts) and not rows["unfinished"]:
        lines.append(NOTHING_CHECKED)
    lines.append(counts_line(counts, seed, versions))
    return lines


def refusal_lines(results):
    """Per target, the draws its constructor refused in rows judged on the examples that ran
    (``refusals``: how many, in how many rows, the first refusal), then the rows those refusals
    starved (thin evidence: fewer than a quarter of the wanted examples ran)."""
    lines = [f"refused draws of {target}: {entry['draws']} in {_rows(entry['rows'])}, each row judged on the examples "
             f"that ran; first: {entry['first']}" for target, entry in refusals(results).items()]
    for target, rows in _grouped([r for r in results if r.thin], None, lambda r: r.target).items():
        shown = ", ".join(f"{r.check} {r.place} {r.dtype} ({r.examples} of {r.wanted})" for r in rows[:4])
        more = f" and {len(rows) - 4} more" if len(rows) > 4 else ""
        lines.append(f"thin evidence ({_rows(len(rows))}) {target}: refused draws left fewer than a quarter of the "
                     f"wanted examples: {shown}{more}")
    return lines


#: The exit code of a run that checked nothing (pytest's for "no tests ran").
EXIT_NOTHING_CHECKED = 5
NOTHING_CHECKED = (f"nothing was checked: no row passed or failed (every one was unsupported, skipped or known), "
                   f"which is not a success (exit {EXIT_NOTHING_CHECKED})")


def nothing_checked(counts):
    """Whether no row passed or failed (``summarize``'s counts): every row was unsupported,
    skipped or known (a row the suite itself could not run is an error, said otherwise)."""
    return not any(counts[status] for status in ("passed", "failed", "stale", "error"))


def _all_unsupported(results):
    """target -> its row count, for each target every row of which is unsupported."""
    rows = {}
    for r in results:
        rows.setdefault(r.target, []).append(r.status)
    return {target: len(statuses) for target, statuses in rows.items() if set(statuses) == {"unsupported"}}


def _rows(n):
    return f"{n} row" if n == 1 else f"{n} rows"


def _grouped(results, status, key):
    """key -> the rows of ``results`` with ``status`` (every row when None)."""
    grouped = {}
    for r in results:
        if status is None or r.status == status:
            grouped.setdefault(key(r), []).append(r)
    return grouped


def _checks(rows):
    """The checks of ``rows``, the first four named."""
    checks = list(dict.fromkeys(r.check for r in rows))
    return ", ".join(checks[:4]) + (f" and {len(checks) - 4} more" if len(checks) > 4 else "")


#: What a run says (and the report keeps) of a target whose weight gradients were not compared.
NOT_COMPARED = ("weight gradients not compared: its parameters have their own names and it loads torch's "
                "weights by copying them (load_torch_state_dict); give it rnn_conformance_from_torch(state_dict), "
                "returning its own parameters computed from torch-named tensors with differentiable torch "
                "operations, and they are compared (README, 'Weight gradients')")


def not_compared(targets):
    """impl -> why its weight gradients were not compared, for each such target (those whose
    names are their own and load torch's weights only by copying)."""
    return {t.impl: NOT_COMPARED for t in targets if getattr(t, "naming", None) == COPYING_HOOK}


def _declaration_lines(target):
    lines = [f"unsupported feature of {target.impl}: {feature} ({reason})"
             for feature, reason in target.unsupported.items() if feature not in target.declarations.get("unsupported", {})]
    return lines + declaration_words(target.impl, target.declarations)


def declaration_words(impl, declarations):
    """What ``impl`` declared (a report's ``declarations`` entry), one line per source, in words."""
    by_source = {}
    for name, source in (declarations.get("unsupported") or {}).items():
        by_source.setdefault(source, []).append(name)
    lines = [f"{impl} {source}: unsupported {', '.join(names)}" for source, names in by_source.items()]
    activation = declarations.get("activation_error")
    if activation:
        lines.append(f"{impl} declares sigmoid/tanh accurate to {activation['value']:g} absolute "
                     f"({activation['source']}): charged in every bound")
    scan = declarations.get("scan_error")
    if scan and scan.get("chunked"):
        lines.append(f"{impl} declares its chunked form accurate to {scan['value']:g} roundoffs per unit of a "
                     f"chunk's range ({scan['source']}): charged in every bound, growing with the chunk's tokens "
                     f"and decay")
    elif scan:
        lines.append(f"{impl} declares a scan accurate to {scan['value']:g} roundoffs per step "
                     f"({scan['source']}): charged in every bound, growing with the steps")
    return lines


class Progress:
    """Rows done of the total (the rows to run: skipped ones are not), failures so far, time
    spent and left: rewritten in place on a terminal, one line every PROGRESS_EVERY seconds
    otherwise."""

    def __init__(self, total, stream=None):
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.started = self.last = time.monotonic()

    def waiting(self):
        """Called while no row finishes: a line every PROGRESS_EVERY seconds off a terminal."""
        now = time.monotonic()
        if not self.tty and now - self.last >= PROGRESS_EVERY:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def say(self, text):
        """Prints ``text`` above the progress line."""
        if self.tty:
            self.stream.write("\r" + " " * (len(self.line(time.monotonic())) + 4) + "\r")
        print(text, file=self.stream, flush=True)

    def update(self, result):
        if result.status == "skipped":  # decided before anything runs: not in the total (the rows to run)
            return
        self.done += 1
        self.failed += result.status in FAILING
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.line(now) + " " * 4)
            self.stream.flush()
        elif now - self.last >= PROGRESS_EVERY:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now):
        spent = now - self.started
        left = spent / self.done * (self.total - self.done) if self.done else 0.0
        return (f"  {self.done}/{self.total} rows  {self.failed} failed  {_clock(spent)} spent"
                f"  ~{_clock(left)} left")

    def finish(self):
        if self.tty:
            self.stream.write("\r" + " " * (len(self.line(time.monotonic())) + 4) + "\r")
            self.stream.flush()


def _clock(seconds):
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    return f"{minutes}:{seconds:02d}"


def summarize(results):
    """status -> how many of ``results`` have it (every status, 0 included)."""
    return count_statuses(result.status for result in results)


def refusals(results):
    """impl -> the draws its constructor refused in rows judged on what ran (``draws``, in
    ``rows``, the ``first`` refusal), and the rows they starved (``thin``: their place), for
    each target that refused any."""
    found = {}
    for r in results:
        if r.refused and r.status != "unsupported":
            entry = found.setdefault(r.target, {"draws": 0, "rows": 0, "first": r.refused_reason, "thin": []})
            entry["draws"] += r.refused
            entry["rows"] += 1
            if r.thin:
                entry["thin"].append(f"{r.check} {r.place} {r.dtype}")
    return found
