"""The HTML pages (``--html``, ``compare --html``) as a person would see them: the page parses,
every row of the report is in it with the report's status and number, the failures carry their
message, configuration and replay command; and a real headless browser draws the map (a
screenshot of the expected size, with the map's colours in it).  Without a browser the browser
tests skip, saying which to install."""
import copy
import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.report.compare import compare_reports, text
from conformance.report.html import compare_page, headroom_colour, run_page

from tests import REPO  # noqa: E402

ROOT = Path(REPO)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def bug_run(tmp_path_factory):
    """A real run of a planted bug (failed rows) and its report and page."""
    folder = tmp_path_factory.mktemp("html")
    report, page = folder / "report.json", folder / "run.html"
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "tests.planted.bugs:LSTMGateOrderIFOG",
                           "--checks", "parity,batch_permutation_permutes_results,contract", "--devices", "cpu",
                           "--dtypes", "float64,float32",
                           "--profile", "quick", "--seed", "2", "--report", str(report), "--html", str(page)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"html: {page}" in done.stdout
    return json.loads(report.read_text()), page.read_text()


class Cells(HTMLParser):
    """Every map cell (its attributes), every map row's header text, and the page's text."""

    def __init__(self):
        super().__init__()
        self.cells, self.rows, self.text, self.tags, self._row, self._cell = [], [], [], [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "td" and "data-status" in attrs:
            self.cells.append(attrs)
            self._cell = attrs
            attrs["text"] = ""
        if tag == "th" and attrs.get("class") == "row":
            self._row = []

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        if tag == "th" and self._row is not None:
            self.rows.append("".join(self._row).strip())
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell["text"] += data
        if self._row is not None:
            self._row.append(data)


def parsed(page):
    parser = Cells()
    parser.feed(page)
    parser.close()
    return parser


def test_every_row_of_the_report_is_in_the_page_with_its_status_and_number(bug_run):
    report, page = bug_run
    assert page.startswith("<!DOCTYPE html>") and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    cells = parsed(page).cells
    assert len(cells) == len(report["checks"])
    by_title = {}
    for cell in cells:
        check, target, column, status = [part.strip() for part in cell["title"].split("|")[:4]]
        by_title[(check, target, tuple(column.split()))] = cell
    for row in report["checks"]:
        cell = by_title[(row["check"], row["target"], (row["device"], row.get("backend", "default"),
                                                      row.get("transform", "eager"), row["dtype"]))]
        assert cell["data-status"] == row["status"] and cell["class"] == row["status"]
        ratio = row.get("worst_ratio")
        assert (cell["data-ratio"] == "" if ratio is None else float(cell["data-ratio"]) == ratio)


def test_the_page_leads_with_the_run_and_lists_every_failure_in_full(bug_run):
    report, page = bug_run
    text_of_page = "".join(parsed(page).text)
    for fact in (f"torch {report['environment']['torch']}", "seed 2", "tests.planted.bugs:LSTMGateOrderIFOG"):
        assert fact in text_of_page
    failing = [r for r in report["checks"] if r["status"] == "failed"]
    assert failing and f"Failures ({len(failing)})" in text_of_page
    groups = {}
    for row in failing:  # grouped as the terminal groups them: by target and shrunk configuration
        groups.setdefault((row["target"], row["counterexample"]), []).append(row)
    assert len(groups) < len(failing)  # the float64 and float32 rows of a check fail on one configuration
    for first, *others in groups.values():
        assert first["replay"] in text_of_page and first["counterexample"] in text_of_page
        assert first["message"].splitlines()[0] in text_of_page
        for row in others:
            assert f"{row['check']} {row['device']} default eager {row['dtype']}: " in text_of_page
            assert row["message"].splitlines()[0] not in text_of_page
    assert text_of_page.index("Headroom map") < text_of_page.index("Failures")


def test_statuses_are_told_apart_without_colour(bug_run):
    """Each status writes its word in the cell (FAIL, ERROR, known, STALE, unsup, skip), so a
    grey-scale print still says it; passed cells write their ratio, darker as it grows."""
    report, page = bug_run
    failed = sum(r["status"] == "failed" for r in report["checks"])
    assert failed and len(re.findall(r'<td class="failed" data-status="failed"[^>]*>FAIL</td>', page)) == failed
    lightness = [int(headroom_colour(r).split(",")[2].rstrip("%)")) for r in (1e-4, 1e-2, 0.5, 1.0)]
    assert lightness == sorted(lightness, reverse=True) and lightness[0] - lightness[-1] >= 40
    statuses = {"passed": "0.1", "failed": "FAIL", "error": "ERROR", "known": "known", "stale": "STALE",
                "unsupported": "unsup", "skipped": "skip"}
    rows = [{"check": "forward_matches_oracle", "target": "pkg:LSTM", "device": "cpu", "dtype": dtype,
             "status": status, "worst_ratio": 0.1 if status == "passed" else None, "examples": 3,
             "message": f"{status.upper()} forward_matches_oracle", "reason": status}
            for dtype, status in zip(("float64", "float32", "bfloat16", "float16", "x1", "x2", "x3"), statuses)]
    every = run_page({"checks": rows, "summary": {status: 1 for status in statuses}})
    cells = parsed(every).cells
    assert len(cells) == len(rows)
    for cell, (status, word) in zip(cells, statuses.items()):  # each status writes its own word in its cell
        assert cell.get("data-status") == status and cell["text"] == word, (cell, status)


def test_the_filter_knows_which_rows_failed_or_run_thin(bug_run):
    """The filter hides map rows by class: has-failed on every check x target with a failed
    cell, has-thin on those with a passed cell above 0.5; the script switches the body's class."""
    report, page = bug_run
    failing = {(r["check"], r["target"]) for r in report["checks"] if r["status"] in ("failed", "error")}
    assert page.count('class="map-row has-failed') == len(failing) > 0
    thin = copy.deepcopy(report)
    row = next(r for r in thin["checks"] if r["status"] == "passed")
    row["worst_ratio"] = 0.7
    assert run_page(thin).count("has-thin") == 1 + page.count("has-thin")
    assert "body.only-failed tr.map-row:not(.has-failed){display:none}" in page and "only-' + input.value" in page


def test_a_comparison_marks_and_labels_new_failures_and_regressions(bug_run):
    report, _ = bug_run
    old = copy.deepcopy(report)
    for row in old["checks"]:
        if row["status"] == "failed":
            row.update(status="passed", worst_ratio=0.2)
    passed = next(r for r in report["checks"] if r["status"] == "passed")
    new = copy.deepcopy(report)
    index = report["checks"].index(passed)
    old["checks"][index]["worst_ratio"] = 0.05
    new["checks"][index]["worst_ratio"] = 0.9  # 18x and above the floor: a headroom regression
    comparison = compare_reports(old, new)
    assert comparison.new_failures and comparison.headroom_regressions
    page = compare_page(comparison, old, new, "old.json", "new.json", text(comparison, "old.json", "new.json"))
    parser = parsed(page)
    assert len(parser.cells) == len(new["checks"])
    assert sum(c.get("data-regression") == "1" for c in parser.cells) == len(comparison.headroom_regressions)
    assert sum(c["text"] == "NEW FAIL" for c in parser.cells) == len(comparison.new_failures) > 0
    assert page.count('class="new-failure"') == len(comparison.new_failures)
    assert page.count('class="regression"') == len(comparison.headroom_regressions)
    assert 'class="diagonal"' in page and f"{passed['check']} {passed['dtype']}" in page
    assert "GATE FAILED" in "".join(parser.text)
    # the two reports in the order the command line names them (compare OLD NEW), title and heading alike
    assert "<title>rnn-conformance compare old.json → new.json</title>" in page
    assert "rnn-conformance compare: old.json → new.json" in "".join(parser.text)


def test_a_comparison_scatter_says_why_points_sit_on_its_left_edge(bug_run):
    """A row whose old worst ratio was 0 (the two runs agreed exactly) is drawn at the axis'
    low end: the page says so instead of leaving a column of points unexplained."""
    report, _ = bug_run
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    passed = [i for i, r in enumerate(report["checks"]) if r["status"] == "passed" and r.get("compared", True)]
    old["checks"][passed[0]]["worst_ratio"], new["checks"][passed[0]]["worst_ratio"] = 0.0, 0.3
    comparison = compare_reports(old, new)
    page = compare_page(comparison, old, new, "old.json", "new.json", text(comparison, "old.json", "new.json"))
    assert "1 point on the left edge: an old worst error / tolerance of 0" in page


def test_a_comparison_page_leads_with_its_warnings_and_keeps_its_scatter_readable(bug_run):
    """Seen: a y axis to 1e+305 whose labels piled into black bars, points squashed to an edge,
    labels over each other, '0' where the run said 'ok', the seed warning at the bottom."""
    report, _ = bug_run
    old = copy.deepcopy(report)
    old["run"]["seed"] = 99
    for row in old["checks"]:
        if row["status"] == "failed":
            row.update(status="passed", worst_ratio=0.2)
    new = copy.deepcopy(report)
    failed = [r for r in new["checks"] if r["status"] == "failed"]
    failed[0]["worst_ratio"], failed[1]["worst_ratio"] = 1.8e305, None  # an exact zero's failure has none
    comparison = compare_reports(old, new)
    page = compare_page(comparison, old, new, "old.json", "new.json", text(comparison, "old.json", "new.json"))
    parser = parsed(page)
    words = "".join(parser.text)
    assert words.index("Warning: the runs used different seeds") < words.index("Old against new")
    svg = page[page.index("<svg"):page.index("</svg>")]
    axis = [float(v) for v in re.findall(r'<text class="axis"[^>]*>([^<]+)</text>', svg)]
    assert axis and max(axis) <= 1e3 and len(axis) <= 2 * 8, axis
    labels = [(float(x), float(y)) for x, y in re.findall(r'<text x="([\d.]+)" y="([\d.]+)" fill="#(?:c00|8a4b00)">[^<]+'
                                                          r'</text>', svg)]
    assert 0 < len(labels) <= 12
    assert all(abs(a[1] - b[1]) >= 13 or abs(a[0] - b[0]) >= 40 for i, a in enumerate(labels) for b in labels[:i])
    ok_rows = [c for c, r in zip(parser.cells, new["checks"]) if r.get("compared") is False and r["status"] == "passed"]
    assert ok_rows and all(c["text"] == "ok" for c in ok_rows)


def test_the_run_page_says_declarations_in_words_counts_per_heading_and_puts_root_causes_first():
    rows = []
    for check, family, status, message in (
            ("forward_matches_oracle", "parity", "failed", "FAILED forward_matches_oracle ...\n  worst element: "
                                                         "output[0]: got 1, expected 0, error 1, tolerance 1e-7"),
            ("batch_split_matches_whole", "metamorphic", "failed", "FAILED batch_split_matches_whole ...\n  worst "
             "element: output[0]: rows 0:1 run apart 1, whole batch 1.0000001, difference 1e-7, tolerance 2e-8 "
             "(difference/tolerance 5)"),
            ("hx_none_equals_zeros", "metamorphic", "passed", None)):
        rows.append({"check": check, "family": family, "target": "pkg:LSTM", "device": "cpu", "dtype": "float32",
                     "status": status, "worst_ratio": 5.0 if status == "failed" else 0.0, "message": message,
                     "counterexample": f"config of {check}", "replay": f"replay {check}", "examples": 25,
                     "consequence_of": "forward_matches_oracle" if check == "batch_split_matches_whole" else None})
    report = {"checks": rows, "summary": {"passed": 1, "failed": 2},
              "declarations": {"pkg:LSTM": {"unsupported": {"packed": "declared by the target"},
                                            "activation_error": {"value": 5e-7, "source": "class attribute x"}}}}
    page = run_page(report)
    words = "".join(parsed(page).text)
    assert "pkg:LSTM declared by the target: unsupported packed" in words and "{'unsupported'" not in words
    assert "parity (1 check, 1 failed row)" in words and "metamorphic (2 checks, 1 failed row)" in words
    assert words.index("FAILED forward_matches_oracle") < words.index("likely the same bug as forward_matches_oracle")
    assert "batch_split_matches_whole cpu default eager float32: output[0]: rows 0:1" in words


def test_compare_writes_the_page_from_the_command_line(bug_run, tmp_path):
    report, _ = bug_run
    old = tmp_path / "old.json"
    old.write_text(json.dumps(report))
    page = tmp_path / "compare.html"
    done = subprocess.run([sys.executable, "-m", "conformance", "compare", str(old), str(old), "--html", str(page)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passes the gate" in page.read_text()
    bad = subprocess.run([sys.executable, "-m", "conformance", "compare", str(old), str(old), "--html",
                          str(old / "page.html")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


# --- a real browser ---------------------------------------------------------------------------

def _browser():
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None:
        pytest.skip("no headless browser here: install Debian's chromium (apt-get install chromium) to see the "
                    "page drawn")
    return found


def _screenshot(page_path, png, size=(1200, 900)):
    done = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", page_path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert png.exists(), done.stderr[-2000:]
    return _pixels(png.read_bytes())


def _pixels(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG, without a library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), header
    channels = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(b"".join(chunks)), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def _counts(report, tmp_path, name):
    """(pixels of headroom colour, black pixels) of the run page of ``report`` as chromium draws it."""
    path = tmp_path / f"{name}.html"
    path.write_text(run_page(report))
    width, height, rows = _screenshot(path, tmp_path / f"{name}.png")
    assert (width, height) == (1200, 900)
    warm = sum(1 for row in rows for r, g, b in row if r > 180 and 90 < g < 235 and b < 120)
    black = sum(1 for row in rows for r, g, b in row if r < 20 and g < 20 and b < 20)
    return warm, black


def test_a_browser_draws_the_map(bug_run, tmp_path):
    """Chromium's screenshots of the run's page, of the same page with every failure turned into
    a pass at 0.3, of the page without its failed rows, and of the page without rows (the
    legend alone): the map adds its black FAIL cells, and its headroom colours where the rows
    pass, each of the size of its cells.  (The run's passed rows have colours of their own,
    warm from a worst ratio of about 0.02 on: they are in all three pages but the empty one.)"""
    report, _ = bug_run
    failed = sum(r["status"] == "failed" for r in report["checks"])
    passing = copy.deepcopy(report)
    for row in passing["checks"]:
        if row["status"] == "failed":
            row.update(status="passed", worst_ratio=0.3)
    without = dict(report, checks=[r for r in report["checks"] if r["status"] != "failed"])
    warm_empty, black_empty = _counts(dict(report, checks=[]), tmp_path, "empty")
    warm_without, _ = _counts(without, tmp_path, "without")
    warm_failing, black_failing = _counts(report, tmp_path, "failing")
    warm_passing, _ = _counts(passing, tmp_path, "passing")
    cell = 64 * 22 // 2  # at least half of each cell's area is its colour
    assert black_failing - black_empty >= failed * cell // 2, "the FAIL cells are not drawn"
    assert warm_passing - warm_without >= failed * cell, "the headroom colours are not drawn"
    assert warm_failing - warm_without < cell  # a FAIL cell is not drawn in headroom colours
