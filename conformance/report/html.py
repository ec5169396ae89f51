"""The HTML pages of a run (``--html``) and of a comparison (``compare --html``): one
self-contained file each (inline CSS, SVG and a few lines of script; nothing fetched), made
from the JSON report alone, so that what a page shows is what the report holds.

A run's page: the run's environment, settings and declarations; the headroom map, one
collapsible table per family, rows check x target, columns device / backend / transform /
dtype, each cell coloured by its worst error / tolerance on a log scale, its status written in
it (legible in grey-scale: text and border differ, not only the colour); a filter for failed
rows and thin headroom; then every failure with its message, configuration, replay command and
reproducer.  A comparison's page: the same map coloured by the change of headroom, a log-log
scatter of old against new worst ratio (the diagonal drawn, new failures and regressions marked
and labelled), and the tables ``compare`` prints.
"""
import html
import math
from types import SimpleNamespace

from .messages import consequence_heading, declaration_words, grouped_failures, in_one_line
from .record import FAILING, PASSING, place, row_key

#: Statuses in the order a cell shows the worst of several; each with the word written in its cell.
STATUS_WORDS = {"failed": "FAIL", "error": "ERROR", "stale": "STALE", "known": "known", "passed": "",
                "unsupported": "unsup", "skipped": "skip"}
#: Worst ratios below this are drawn as this (the colour scale's left end): 1e-4 of the tolerance.
LOW = 1e-4
#: A passed row above this has thin headroom (the filter's threshold).
THIN = 0.5

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#111;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 6px}
table.facts td{padding:1px 10px 1px 0;vertical-align:top} table.facts td:first-child{color:#555}
.summary span{display:inline-block;margin-right:14px;font-weight:600}
details.family{margin:6px 0;border:1px solid #ccc;border-radius:4px}
details.family>summary{cursor:pointer;padding:4px 8px;background:#f3f3f3;font-weight:600}
table.map{border-collapse:collapse;margin:4px 8px 8px;table-layout:fixed}
table.map th{font-weight:normal;font-size:11px;color:#333;padding:2px 4px;text-align:center;white-space:nowrap}
table.map th.row{text-align:left;font-size:12px;white-space:nowrap;width:430px;overflow:hidden;text-overflow:ellipsis}
table.map td{width:64px;height:22px;text-align:center;font-size:11px;border:1px solid #fff;padding:0}
td.failed{background:#000!important;color:#fff;font-weight:700;outline:2px solid #c00;outline-offset:-3px}
td.error{background:#5b2a86!important;color:#fff;font-weight:700;border:2px dashed #fff!important}
td.known{background:repeating-linear-gradient(45deg,#ddd,#ddd 4px,#aaa 4px,#aaa 8px)!important;color:#000}
td.stale{background:#fff!important;color:#000;border:2px dotted #000!important;font-weight:700}
td.unsupported{background:repeating-linear-gradient(-45deg,#f4f4f4,#f4f4f4 3px,#e2e2e2 3px,#e2e2e2 6px)!important;
  color:#666}
td.skipped{background:#fff!important;color:#999;border:1px solid #eee!important}
td.none{background:#fff}
td[data-regression]{outline:2px solid #c00;outline-offset:-3px}
.legend span{display:inline-block;width:64px;height:20px;line-height:20px;text-align:center;font-size:11px;
  margin-right:4px;border:1px solid #ccc;vertical-align:middle}
.filter{margin:8px 0} .filter label{margin-right:12px}
body.only-failed tr.map-row:not(.has-failed){display:none}
body.only-thin tr.map-row:not(.has-failed):not(.has-thin){display:none}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px;white-space:pre-wrap}
details.failure{margin:6px 0} details.failure>summary{cursor:pointer;font-weight:600}
svg text{font:11px system-ui,sans-serif}
p.note{color:#555;margin:2px 0} p.warning{background:#fff4d6;border:1px solid #e0b000;padding:6px 10px;margin:8px 0}
"""

_SCRIPT = """
for (const input of document.querySelectorAll('input[name=filter]')) {
  input.addEventListener('change', () => {
    document.body.classList.remove('only-failed', 'only-thin');
    if (input.value !== 'all') document.body.classList.add('only-' + input.value);
  });
}
"""


def _e(value):
    return html.escape(str(value), quote=True)


def _page(title, body):
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n{body}\n<script>{_SCRIPT}</script></body></html>\n")


def column_of(row):
    """(device, backend, transform, dtype) of a report row."""
    return (row["device"], row.get("backend") or "default", row.get("transform") or "eager", row["dtype"])


def _column_label(column):
    device, backend, transform, dtype = column
    return f"{_e(place(device, backend, transform))}<br>{_e(dtype)}"


def headroom_colour(ratio):
    """The colour of a passed cell: light green for a ratio far below 1, through yellow, to a
    dark orange at 1; the lightness falls with the ratio (readable in grey-scale)."""
    if ratio is None or ratio <= 0.0:
        return "hsl(120,45%,94%)"
    position = min(max((math.log10(max(ratio, LOW)) - math.log10(LOW)) / -math.log10(LOW), 0.0), 1.0)
    return f"hsl({120 - 95 * position:.0f},{45 + 40 * position:.0f}%,{94 - 52 * position:.0f}%)"


def change_colour(old, new):
    """The colour of a cell in a comparison: white for no change, red growing with the ratio's
    growth (log scale, 100-fold is full), blue for shrinking."""
    if not old or not new or old <= 0.0 or new <= 0.0:
        return "#fff"
    change = max(min(math.log10(new / old) / 2.0, 1.0), -1.0)
    hue = 0 if change > 0 else 215
    return f"hsl({hue},{70 * abs(change):.0f}%,{97 - 45 * abs(change):.0f}%)"


def _ratio_text(ratio):
    if ratio is None:
        return ""
    return "0" if ratio == 0 else f"{ratio:.2g}"


def _cell(row):
    """<td> of one row: class = status, text = word or ratio, title = the details."""
    status, ratio = row["status"], row.get("worst_ratio")
    word = STATUS_WORDS.get(status, status)
    text = word or ("ok" if row.get("compared") is False else _ratio_text(ratio))
    text += " thin" if row.get("thin") else ""
    title = (f"{row['check']} | {row['target']} | {' '.join(column_of(row))} | {status}"
             + ("" if ratio is None else f" | worst error/tolerance {ratio:.3g}")
             + (f" | {row.get('examples')} examples" if row.get("examples") is not None else "")
             + (f" | {row['refused']} draws refused" if row.get("refused") else "")
             + (" | thin evidence: fewer than a quarter of the wanted examples ran" if row.get("thin") else "")
             + (f" | likely a consequence of {row['consequence_of']} failing" if row.get("consequence_of") else "")
             + (f" | {row['reason']}" if row.get("reason") else ""))
    style = f' style="background:{headroom_colour(ratio)}"' if status == "passed" else ""
    return (f'<td class="{_e(status)}" data-status="{_e(status)}" data-ratio="{"" if ratio is None else ratio}"'
            f'{style} title="{_e(title)}">{_e(text)}</td>')


def _family_of(row):
    """A row's family; a report written before rows had one groups them all as "checks"."""
    return row.get("family") or "checks"


def headroom_map(rows, cell=_cell, row_classes=None):
    """The map: one <details> per family (in the order rows come), a table each, rows check x
    target, columns every (device, backend, transform, dtype) the rows have."""
    columns = list(dict.fromkeys(column_of(r) for r in rows))
    grouped = {}
    for row in rows:
        lines = grouped.setdefault(_family_of(row), {})
        lines.setdefault((row["check"], row["target"]), {})[column_of(row)] = row
    head = "".join(f"<th>{_column_label(c)}</th>" for c in columns)
    parts = []
    for family, lines in grouped.items():
        failing = sum(r["status"] in FAILING for cells in lines.values() for r in cells.values())
        body = []
        for (check, target), cells in lines.items():
            classes = (row_classes or _row_classes)(list(cells.values()))
            tds = "".join(cell(cells[c]) if c in cells else '<td class="none"></td>' for c in columns)
            body.append(f'<tr class="map-row {classes}"><th class="row" title="{_e(target)}">{_e(check)}'
                        f' <span style="color:#777">{_e(target)}</span></th>{tds}</tr>')
        checks, targets = len({c for c, _ in lines}), len({t for _, t in lines})
        counted = [_count(range(checks), "check") + (f" on {_count(range(targets), 'target')}" if targets > 1 else "")]
        counted += [_count(range(failing), "failed row")] if failing else []
        summary = f"{_e(family)} ({', '.join(counted)})"
        parts.append(f'<details class="family" open><summary>{summary}</summary><table class="map">'
                     f'<tr><th class="row">check / target</th>{head}</tr>{"".join(body)}</table></details>')
    return "\n".join(parts)


def _row_classes(cells):
    failed = any(r["status"] in ("failed", "error", "stale") for r in cells)
    return ("has-failed " if failed else "") + ("has-thin" if any(map(_thin, cells)) else "")


def _thin(row):
    """A passed row with thin headroom (worst ratio above THIN) or thin evidence (refused draws
    left fewer than a quarter of its examples)."""
    return row["status"] == "passed" and ((row.get("worst_ratio") or 0.0) > THIN or bool(row.get("thin")))


def _legend():
    scale = "".join(f'<span style="background:{headroom_colour(r)}">{r:g}</span>'
                    for r in (1e-4, 1e-3, 0.01, 0.1, 0.5, 1))
    statuses = "".join(f'<table style="display:inline-table;border-collapse:collapse"><tr><td class="{s}" '
                       f'style="width:64px;height:20px;text-align:center;font-size:11px">{STATUS_WORDS[s] or s}</td>'
                       f'</tr></table> ' for s in ("failed", "error", "known", "stale", "unsupported", "skipped"))
    return (f'<div class="legend">worst error / tolerance (log scale): {scale}</div>'
            f'<div class="legend" style="margin-top:4px">status: {statuses}</div>')


def _facts(pairs):
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in pairs if v not in (None, "", [], {}))
    return f'<table class="facts">{rows}</table>'


def _plain(value):
    """A report value as a person reads it: lists joined, mappings as key=value."""
    if isinstance(value, (list, tuple)):
        return "/".join(str(v) for v in value)
    if isinstance(value, dict):
        return "(" + " ".join(f"{k}={v}" for k, v in value.items()) + ")"
    return str(value)


def _summary(counts):
    spans = "".join(f"<span>{n} {_e(status)}</span>" for status, n in counts.items())
    return f'<div class="summary">{spans}</div>'


def _failures(rows):
    """Every failure, grouped as the terminal groups them (``messages.grouped_failures``): root
    causes first, each group's first row in full and the others of its target and check one line
    each, then the likely consequences of a failed parity or packing check."""
    failing = [r for r in rows if r["status"] in FAILING]
    if not failing:
        return "<h2>Failures</h2><p>none</p>"
    keys = ("check", "target", "device", "dtype", "status", "counterexample", "message", "reason", "consequence_of")
    shown = [SimpleNamespace(row=r, backend=r.get("backend") or "default", transform=r.get("transform") or "eager",
                             **{k: r.get(k) for k in keys}) for r in failing]
    groups, consequences = grouped_failures(shown)
    items = []
    for group in groups:
        row = group[0].row
        facts = _facts([("configuration", row.get("counterexample")), ("replay", row.get("replay")),
                        ("reproducer", row.get("reproducer") or row.get("no_reproducer"))])
        others = "".join(f"<li>{_e(r.check)} {_e(' '.join(column_of(r.row)))}: {_e(in_one_line(r))}</li>"
                         for r in group[1:])
        also = (f"<p>{_count(group[1:], 'more row')} of {_e(row['target'])} failed this check:</p>"
                f"<ul>{others}</ul>") if others else ""
        items.append(f'<details class="failure" open><summary>{_e(row["status"].upper())} {_e(row["check"])} '
                     f'{_e(row["target"])} {_e(" ".join(column_of(row)))}</summary>{facts}'
                     f'<pre>{_e(row.get("message") or row.get("reason") or "")}</pre>{also}</details>')
    for (target, root), group in consequences.items():
        listed = "".join(f"<li>{_e(r.check)} {_e(' '.join(column_of(r.row)))}: {_e(in_one_line(r))}</li>" for r in group)
        items.append(f'<details class="failure consequences" open><summary>'
                     f'{_e(consequence_heading(target, root, group))}</summary><ul>{listed}</ul></details>')
    return f"<h2>Failures ({len(failing)})</h2>" + "".join(items)


def _filter():
    return ('<div class="filter">show: <label><input type="radio" name="filter" value="all" checked> every row'
            '</label><label><input type="radio" name="filter" value="failed"> failed only</label><label>'
            f'<input type="radio" name="filter" value="thin"> failed or thin (headroom &gt; {THIN:g}, or evidence)'
            '</label></div>')


def run_page(report):
    """The HTML page of one run's report (``messages.report``'s dict)."""
    rows, environment, run = report["checks"], report.get("environment", {}), report.get("run", {})
    counts = report.get("summary", {})
    declarations = "; ".join(line for impl, value in (report.get("declarations") or {}).items()
                             for line in declaration_words(impl, value))
    unsupported = "; ".join(f"{impl}: {', '.join(features)}" for impl, features in
                            (report.get("unsupported_features") or {}).items())
    target = report.get("target", {})
    impls = [i for i in str(target.get("impl", "")).split(",") if i]
    header = (f"<h1>rnn-conformance: {_e(impls[0] if len(impls) == 1 else f'{len(impls)} targets')}</h1>"
              + _summary({k: v for k, v in counts.items() if isinstance(v, int)})
              + _facts([("targets", ", ".join(impls)), ("kind", target.get("kind").replace(",", ", ")
                                                          if target.get("kind") else None),
                        ("variant", target.get("variant")),
                        ("environment", ", ".join(f"{k} {_plain(v)}" for k, v in environment.items() if v)),
                        ("settings", ", ".join(f"{k} {_plain(v)}" for k, v in run.items() if v not in (None, []))),
                        ("declarations", declarations), ("unsupported features", unsupported)]))
    body = header + "<h2>Headroom map</h2>" + _legend() + _filter() + headroom_map(rows) + _failures(rows)
    return _page(f"rnn-conformance {target.get('impl', '')}", body)


# --- a comparison (``compare OLD NEW --html``) ------------------------------------------------------

def _compare_cell(marks):
    """<td> of a row in both reports (or one): coloured by the change of its worst ratio."""
    def cell(row):
        old, mark = row.get("_old"), marks.get(id(row))
        status, ratio = row["status"], row.get("worst_ratio")
        before = None if old is None else old.get("worst_ratio")
        if mark == "new failure" or (status in FAILING and (old is None or old["status"] != status)):
            css, text = status, "NEW " + STATUS_WORDS.get(status, status)
        elif status not in PASSING or (old is not None and old["status"] not in PASSING):
            css, text = status, (STATUS_WORDS.get(status) or status) if old is None or old["status"] == status \
                else f"{old['status'][:5]}\u2192{status[:5]}"
        elif row.get("compared") is False:  # a pass/fail-only check: the run said ok, so does the page
            css, text = "passed", "ok" if old is not None else "new ok"
        else:
            css = "passed"
            same = old is not None and _ratio_text(before) == _ratio_text(ratio)
            text = ("new " + _ratio_text(ratio) if old is None else _ratio_text(ratio) if same
                    else f"{_ratio_text(before)}\u2192{_ratio_text(ratio)}")
        title = (f"{row['check']} | {row['target']} | {' '.join(column_of(row))} | "
                 f"{'(not in the old report)' if old is None else old['status'] + ' ' + _ratio_text(before)} -> "
                 f"{status} {_ratio_text(ratio)}" + (f" | {mark}" if mark else ""))
        style = f' style="background:{change_colour(before, ratio)}"' if css == "passed" else ""
        regression = ' data-regression="1"' if mark == "regression" else ""
        return (f'<td class="{_e(css)}" data-status="{_e(status)}" data-ratio="{"" if ratio is None else ratio}"'
                f'{regression}{style} title="{_e(title)}">{_e(text)}</td>')
    return cell


#: The scatter's axes end here: a failed row's ratio (1e+14, or none for an exact zero) is
#: drawn at the edge, as "beyond", instead of stretching the axes and squashing every point.
HIGH = 1e3
#: The most decades labelled on an axis, and the most points labelled by name.
AXIS_LABELS, POINT_LABELS = 8, 12


def _scatter(points, width=640, height=440):
    """A log-log SVG of (old ratio, new ratio, mark, label) points: the axes from LOW to at most
    HIGH (a point beyond drawn at the edge), at most AXIS_LABELS decades labelled, the diagonal
    drawn, marked points labelled (at most POINT_LABELS, none over another)."""
    values = [v for x, y, _, _ in points for v in (x, y) if v is not None and v > 0]
    high = min(max(values + [1.0]) * 1.5, HIGH)
    low = max(min(values + [LOW]), LOW)
    margin = 60
    span = math.log10(high) - math.log10(low)

    def at(value, size, flip=False):
        position = (math.log10(min(max(value or low, low), high)) - math.log10(low)) / span
        return margin + (1 - position if flip else position) * (size - 2 * margin)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="old against new worst error/tolerance per row">',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff" stroke="#ccc"/>']
    decades = list(range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1))
    step = max(1, math.ceil(len(decades) / AXIS_LABELS))
    for decade in decades[::step]:
        value = 10.0 ** decade
        x, y = at(value, width), at(value, height, flip=True)
        parts.append(f'<line x1="{x:.1f}" y1="{margin}" x2="{x:.1f}" y2="{height - margin}" stroke="#eee"/>'
                     f'<line x1="{margin}" y1="{y:.1f}" x2="{width - margin}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text class="axis" x="{x:.1f}" y="{height - margin + 14}" text-anchor="middle">{value:g}</text>'
                     f'<text class="axis" x="{margin - 4}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    parts.append(f'<line class="diagonal" x1="{at(low, width):.1f}" y1="{at(low, height, True):.1f}" '
                 f'x2="{at(high, width):.1f}" y2="{at(high, height, True):.1f}" stroke="#888" stroke-dasharray="4 3"/>')
    one_y = at(1.0, height, True)
    parts.append(f'<line x1="{margin}" y1="{one_y:.1f}" x2="{width - margin}" y2="{one_y:.1f}" stroke="#c00" '
                 f'stroke-width="0.8"/><text x="{width - margin}" y="{one_y - 4:.1f}" text-anchor="end" '
                 f'fill="#c00">tolerance</text>')
    labelled, unlabelled = [], 0
    for old, new, mark, label in sorted(points, key=lambda p: p[2] is not None):
        x, y = at(old, width), at(new, height, True)
        free = mark is not None and len(labelled) < POINT_LABELS and all(
            abs(y - ly) >= 13 or abs(x - lx) >= 7 * len(label) for lx, ly in labelled)
        unlabelled += mark is not None and not free
        if free:
            labelled.append((x, y))
        if mark == "new failure":
            text = f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" fill="#c00">{_e(label)}</text>' if free else ""
            parts.append(f'<g class="new-failure"><path d="M{x - 5:.1f},{y - 5:.1f}L{x + 5:.1f},{y + 5:.1f}'
                         f'M{x - 5:.1f},{y + 5:.1f}L{x + 5:.1f},{y - 5:.1f}" stroke="#c00" stroke-width="2.5"/>'
                         f'{text}</g>')
        elif mark == "regression":
            text = f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" fill="#8a4b00">{_e(label)}</text>' if free else ""
            parts.append(f'<g class="regression"><path d="M{x:.1f},{y - 6:.1f}L{x + 5:.1f},{y + 4:.1f}'
                         f'L{x - 5:.1f},{y + 4:.1f}Z" fill="#e67e00" stroke="#000" stroke-width="0.8"/>{text}</g>')
        else:
            parts.append(f'<circle class="row" cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#777" fill-opacity="0.6"/>')
    parts.append(f'<text x="{width / 2:.0f}" y="{height - 10}" text-anchor="middle">old worst error / tolerance'
                 f'</text><text x="14" y="{height / 2:.0f}" text-anchor="middle" transform="rotate(-90 14 '
                 f'{height / 2:.0f})">new worst error / tolerance</text></svg>')
    at_floor = sum(1 for x, _, _, _ in points if not x or x < low)
    notes = ([f"a point drawn on the top or right edge is beyond {high:g}"] if max(values + [0.0]) > high else []) + (
        [f"{at_floor} point{'s' if at_floor != 1 else ''} on the left edge: an old worst error / tolerance of 0 "
         f"(the two sides agreed exactly) or below {low:g}"] if at_floor else []) + (
        [f"{unlabelled} marked points not labelled (the tables below name them)"] if unlabelled else [])
    return "".join(parts) + "".join(f'<p class="note">{_e(note)}</p>' for note in notes)


def _count(items, word):
    return f"{len(items)} {word}" + ("" if len(items) == 1 else "s")


def compare_page(comparison, old, new, old_path, new_path, tables):
    """The HTML page of a comparison (``compare.compare_reports``) of reports ``old`` and
    ``new``, with ``tables`` (the text ``compare`` prints)."""

    old_rows = {row_key(r): r for r in old["checks"]}
    marks = {}
    rows = []
    for row in new["checks"]:
        shown = dict(row, _old=old_rows.get(row_key(row)))
        rows.append(shown)
    by_key = {row_key(r): r for r in rows}
    for name, changes in (("new failure", comparison.new_failures), ("regression", comparison.headroom_regressions)):
        for change in changes:
            if change.key in by_key:
                marks[id(by_key[change.key])] = name
    points = []
    for row in rows:
        before = row["_old"]
        if before is None:
            continue
        mark = marks.get(id(row))
        old_ratio, new_ratio = before.get("worst_ratio"), row.get("worst_ratio")
        if new_ratio is None and row["status"] in FAILING:
            new_ratio = None if old_ratio is None else max(old_ratio, 1.0) * 1.2
        if old_ratio is None or new_ratio is None or (old_ratio <= 0 and new_ratio <= 0 and mark is None):
            continue
        points.append((old_ratio, new_ratio, mark, f"{row['check']} {row['dtype']}"))
    classes = lambda cells: ("has-failed " if any(id(c) in marks or c["status"] in FAILING
                                                  for c in cells) else "") + ("has-thin" if any(map(_thin, cells)) else "")
    verdict = "FAILS the gate" if comparison.failed else "passes the gate"
    header = (f"<h1>rnn-conformance compare: {_e(old_path)} → {_e(new_path)}</h1>"
              f'<div class="summary"><span>{verdict}</span><span>{_count(comparison.new_failures, "new failure")}'
              f"</span><span>{_count(comparison.headroom_regressions, 'headroom regression')}</span>"
              f"<span>{comparison.compared} rows compared</span></div>"
              + "".join(f'<p class="warning"><strong>Warning:</strong> {_e(w)}</p>' for w in comparison.warnings)
              + _facts([(f"{name}", f"{before} -> {after}") for name, (before, after) in
                        comparison.environment.items()]))
    legend = ('<div class="legend">change of worst error / tolerance (new / old): '
              + "".join(f'<span style="background:{change_colour(1.0, f)}">x{f:g}</span>'
                        for f in (0.01, 0.1, 1.0, 10.0, 100.0)) + "</div>")
    body = (header + "<h2>Old against new, per row</h2>" + _scatter(points)
            + "<h2>Headroom map: the change</h2>" + legend + _filter()
            + headroom_map(rows, cell=_compare_cell(marks), row_classes=classes)
            + f"<h2>What compare prints</h2><pre>{_e(tables)}</pre>")
    return _page(f"rnn-conformance compare {old_path} → {new_path}", body)
