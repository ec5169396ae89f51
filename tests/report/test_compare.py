"""The upgrade gate: compare two reports (what is a regression, what cannot gate, what it prints)."""
import copy
import json
import subprocess
import sys

import pytest

from conformance.report.compare import compare_reports, markdown

from tests import REPO
from tests.commands import SMALL, cli, write


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A real report of torch.nn.GRU (4 passed rows) to edit."""
    path = tmp_path_factory.mktemp("reports") / "old.json"
    done = cli("--impl", "torch.nn.GRU", *SMALL, "--seed", "4", "--report", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(path.read_text())


def compare(*args):
    return cli("compare", *args)


# --- compare ----------------------------------------------------------------------------------

def test_compare_of_a_run_with_itself_is_no_regression(report, tmp_path):
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no regression" in done.stdout and "WARNING" not in done.stdout and "environment: the same" in done.stdout


def test_compare_names_a_new_failure_and_exits_1(report, tmp_path):
    new = copy.deepcopy(report)
    row = new["checks"][1]
    row.update(status="failed", worst_ratio=3.2e5, message="FAILED ...")
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", new))
    assert done.returncode == 1
    section = done.stdout.split("new failures (passed before, failing now): 1")[1].splitlines()[1]
    assert section.split() == [row["check"], "torch.nn.GRU", row["device"], row["dtype"], "passed",
                               f"{report['checks'][1]['worst_ratio']:.3g}", "->", "failed", "3.2e+05"]
    assert "GATE FAILED: 1 new failure" in done.stdout
    assert f"compared {len(report['checks'])} rows in common" in done.stdout


def test_compare_flags_a_headroom_jump_but_not_ordinary_wander(report, tmp_path):
    base = copy.deepcopy(report)
    for row in base["checks"]:
        row["worst_ratio"] = 0.1
    jumped, wandered = copy.deepcopy(base), copy.deepcopy(base)
    jumped["checks"][0]["worst_ratio"] = 0.45     # 4.5x and above 0.25
    wandered["checks"][0]["worst_ratio"] = 0.35   # 3.5x: below the default factor
    wandered["checks"][1]["worst_ratio"] = 0.2    # 2x and below the floor
    old = write(tmp_path, "old.json", base)
    done = compare(old, write(tmp_path, "jumped.json", jumped))
    assert done.returncode == 1 and "headroom regressions (worst error/tolerance grew more than 4x" in done.stdout
    assert base["checks"][0]["check"] in done.stdout and "passed 0.1 -> passed 0.45" in done.stdout
    assert compare(old, write(tmp_path, "wandered.json", wandered)).returncode == 0
    assert compare(old, str(tmp_path / "wandered.json"), "--headroom-factor", "3").returncode == 1


def test_compare_lists_fixed_still_failing_lost_and_added(report, tmp_path):
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    old["checks"][0]["status"] = "failed"
    old["checks"][1]["status"] = new["checks"][1]["status"] = "failed"
    new["checks"][2].update(status="unsupported", reason="float32: declared unsupported")
    gone = new["checks"].pop(3)
    new["checks"].append(dict(gone, dtype="bfloat16"))
    comparison = compare_reports(old, new)
    assert [len(getattr(comparison, name)) for name in ("new_failures", "headroom_regressions", "fixed",
                                                         "still_failing", "lost", "availability_changed",
                                                         "added", "added_failing")] == [0, 0, 1, 1, 2, 0, 1, 0]
    assert comparison.failed and markdown(comparison, "o", "n").startswith(
        "## rnn-conformance: GATE FAILED: 2 rows lost (--allow-gone accepts them)")
    allowed = compare_reports(old, new, allow_gone=True)
    text = markdown(allowed, "old.json", "new.json")
    assert not allowed.failed and text.startswith("## rnn-conformance: no regression")
    assert "### fixed (failing before, passing now): 1" in text and "| --- |" in text
    assert "rows lost (absent now, or passed before and unsupported or skipped now) (allowed: --allow-gone): 2" in text


def test_compare_fails_the_gate_when_the_new_run_lost_rows(report, tmp_path):
    """A new report that silently lost half the old one's rows is no pass, unless allowed."""
    half = dict(report, checks=report["checks"][:2])
    old, new = write(tmp_path, "old.json", report), write(tmp_path, "half.json", half)
    done = compare(old, new)
    assert done.returncode == 1 and "GATE FAILED: 2 rows lost" in done.stdout
    assert "compared 2 rows in common" in done.stdout
    assert compare(old, new, "--allow-gone").returncode == 0


def test_compare_fails_the_gate_on_a_new_row_that_fails(report, tmp_path):
    new = copy.deepcopy(report)
    new["checks"].append(dict(report["checks"][0], dtype="float16", status="failed", worst_ratio=None,
                              message="FAILED forward_matches_oracle ... worst element: output[0]",
                              replay="rnn-conformance --impl torch.nn.GRU --dtypes float16"))
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", new), "--markdown")
    assert done.returncode == 1 and "GATE FAILED: 1 new row that fails" in done.stdout
    assert "worst element: output[0]" in done.stdout and "`rnn-conformance --impl torch.nn.GRU --dtypes float16`" in done.stdout


@pytest.mark.parametrize("change, says", [
    (lambda r: r["target"].update(impl="mypkg:MyGRU"), "different targets (torch.nn.GRU and mypkg:MyGRU)"),
    (lambda r: [row.update(target="mypkg:MyGRU") for row in r["checks"]], "no row in common (4 rows before, 4 now)"),
])
def test_compare_of_reports_that_cannot_gate_each_other_fails(report, tmp_path, change, says):
    other = copy.deepcopy(report)
    change(other)
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", other), "--allow-gone")
    assert done.returncode == 1 and f"NOT COMPARABLE: the reports are of {says}" in done.stdout or (
        done.returncode == 1 and f"NOT COMPARABLE: {says}" in done.stdout), done.stdout
    assert "GATE FAILED: the reports cannot be compared" in done.stdout


def test_compare_into_a_closed_pipe_ends_quietly(report, tmp_path):
    a, b = write(tmp_path, "a.json", report), write(tmp_path, "b.json", dict(report, checks=[]))
    done = subprocess.run(f"{sys.executable} -m conformance compare {a} {b} | head -1", shell=True, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("rnn-conformance compare:") and done.stderr == ""


def test_compare_warns_loudly_when_the_runs_drew_different_examples(report, tmp_path):
    other = copy.deepcopy(report)
    other["run"]["seed"] = other["environment"]["seed"] = 99
    other["run"]["profile"] = "default"
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", other))
    assert done.returncode == 0
    warnings = [line for line in done.stdout.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 2 and "different seeds (4 and 99)" in warnings[0] and "profiles" in warnings[1]
    other["run"]["profile"], other["run"]["max_examples"] = report["run"]["profile"], 3
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "c.json", other))
    assert f"different example counts (max examples) ({report['run']['max_examples']} and 3)" in done.stdout


def test_compare_prints_the_environment_difference(report, tmp_path):
    other = copy.deepcopy(report)
    other["environment"].update(torch="9.9.9", cuda="99.1", tf32={"cudnn.allow_tf32": True})
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", other), "--markdown")
    assert done.returncode == 0
    assert f"| torch | {report['environment']['torch']} | 9.9.9 |" in done.stdout
    assert "| cudnn.allow_tf32 |" in done.stdout and f"| cuda | {report['environment']['cuda']} | 99.1 |" in done.stdout


def test_compare_matches_rows_by_backend(report):
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    for data, backend in ((old, "cudnn"), (new, "native")):
        for row in data["checks"]:
            row.update(device="cuda", backend=backend)
    comparison = compare_reports(old, new)
    assert len(comparison.added) == len(comparison.lost) == 4 and "cuda/native" in comparison.added[0].name
    assert comparison.compared == 0 and comparison.failed


@pytest.mark.parametrize("content, says", [
    ("not json", "not a JSON report"),
    ('{"a": 1}', "not an rnn-conformance report"),
    ('{"schema": "rnn-conformance/2", "checks": []}', "report schema 'rnn-conformance/2'; this rnn-conformance "
                                                       "reads 'rnn-conformance/1'"),
    ('{"schema": "rnn-conformance/1", "checks": [{"check": "x"}]}', "checks[0] is not a report row"),
])
def test_compare_of_something_that_is_not_a_report_is_one_line_and_exit_2(report, tmp_path, content, says):
    done = compare(write(tmp_path, "good.json", report), write(tmp_path, "bad.json", content))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr and "bad.json" in done.stderr


def test_compare_of_a_missing_file_or_bad_threshold_is_exit_2(report, tmp_path):
    good = write(tmp_path, "good.json", report)
    assert compare(good, str(tmp_path / "missing.json")).returncode == 2
    done = compare(good, good, "--headroom-factor", "-1")
    assert done.returncode == 2 and "--headroom-factor '-1': expected a positive number" in done.stderr


def test_the_markdown_of_one_bug_tells_it_once(report, tmp_path):
    """Issue 39's gate summary of one bug: every replay command twice (the message ends with it),
    every failed row's message in full, and 'largest headroom change' naming a passed row
    while rows newly failed.  Now: the root cause's message once, its replay once, the rows
    that follow from it in the table only, and the new failures named before the headroom."""
    new = copy.deepcopy(report)
    root = new["checks"][0]
    same_check = next(r for r in new["checks"][1:] if r["check"] == root["check"])
    follower = next(r for r in new["checks"][1:] if r["check"] != root["check"])
    for row, extra in ((root, {}), (follower, {"consequence_of": root["check"]}), (same_check, {})):
        row.update(status="failed", worst_ratio=3.2e5, replay=f"rnn-conformance --checks {row['check']}",
                   message=f"FAILED {row['check']}\n  worst element: x\n  replay: rnn-conformance --checks "
                           f"{row['check']}", **extra)
    text = markdown(compare_reports(report, new), "old.json", "new.json")
    assert text.count(f"replay: rnn-conformance --checks {root['check']}") == 1
    assert text.count("<details>") == 1 and "(1 of 3)" in text
    scope = next(line for line in text.splitlines() if line.startswith("compared "))
    assert "3 rows fail now that did not before" in scope
    assert "largest headroom change" not in scope or "among rows that passed on both sides" in scope
