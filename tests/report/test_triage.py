"""Acting on failures: --maxfail and -x stop a run with its report written, each failure is printed
the moment it happens, --rerun-failed reruns a report's failed rows alone, rows that failed on one
configuration are grouped, and the progress line keeps coming while rows run."""
import io
import json
import os
import subprocess
import sys
import time

import pytest

from conformance.report import messages
from conformance.report.record import CheckResult
from tests import REPO
from tests.commands import cli
from tests.run.test_pytest_plugin import pytest_run

#: A planted bug every parity check rejects, run on enough rows that stopping early shows.
BUG = ["--impl", "tests.planted.bugs:LSTMGateOrderIFOG", "--devices", "cpu", "--dtypes", "float64,float32",
       "--seed", "1"]


@pytest.mark.parametrize("stop", [["--maxfail", "1"], ["-x"]])
def test_maxfail_stops_at_the_first_failure_with_the_report_written(stop, tmp_path):
    report = tmp_path / "report.json"
    started = time.monotonic()
    done = cli(*BUG, *stop, "--report", str(report))
    seconds = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["summary"]["failed"] == 1 and data["interrupted"]["finished"] < data["interrupted"]["planned"]
    assert data["interrupted"]["maxfail"] == 1
    assert f"stopped after 1 failed row (--maxfail 1): {data['interrupted']['finished']} of " in done.stdout
    assert seconds < 60, seconds  # the whole plan takes minutes; a stop leaves the rest unrun


def test_each_failure_is_printed_when_it_happens_and_grouped_at_the_end():
    done = cli(*BUG, "--checks", "forward_matches_oracle,small_shapes_match_oracle", "--max-examples", "10")
    assert done.returncode == 1
    table = done.stdout.index("check ")
    first = done.stdout.index("FAILED ")
    assert first < table  # printed as it happened, ahead of the summary table
    streamed = done.stdout[first:table].splitlines()
    assert len(streamed) == 2 and ": c_n[" in streamed[0]  # a line for the first failure of each check, no more
    closing = done.stdout[table:]
    assert closing.count("FAILED ") == 1, closing  # one bug: the root cause in full ...
    assert "  also failed float32 (" in closing
    assert "likely the same bug as forward_matches_oracle on tests.planted.bugs:LSTMGateOrderIFOG (2 rows:" in closing
    assert "    small_shapes_match_oracle  cpu float64, float32: c_n[0, 0, 0]: got " in closing  # ... a line per check


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_rerun_failed_runs_only_the_failed_rows_with_the_reports_seed(tmp_path):
    report, again = tmp_path / "report.json", tmp_path / "again.json"
    assert cli(*BUG, "--checks", "parity,contract", "--max-examples", "10", "--report", str(report)).returncode == 1
    first = json.loads(report.read_text())
    failed = [r for r in first["checks"] if r["status"] == "failed"]
    assert failed and len(failed) < len(first["checks"])
    done = cli("--rerun-failed", str(report), "--report", str(again))
    assert done.returncode == 1, done.stdout + done.stderr
    rerun = json.loads(again.read_text())
    assert rerun["run"]["seed"] == first["run"]["seed"] == 1
    assert [(r["check"], r["dtype"], r["status"], r["counterexample"]) for r in rerun["checks"]] == [
        (r["check"], r["dtype"], r["status"], r["counterexample"]) for r in failed]


def test_rerun_failed_of_a_report_that_is_not_one_is_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    done = cli("--rerun-failed", str(bad))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and str(bad) in done.stderr


def test_the_progress_line_keeps_coming_while_no_row_finishes(monkeypatch):
    log, now = io.StringIO(), [100.0]
    monkeypatch.setattr(messages.time, "monotonic", lambda: now[0])
    progress = messages.Progress(4, log)
    progress.update(CheckResult("c", "t", "cpu", "float64", "passed"))
    for _ in range(3):  # a row that takes minutes: the line still comes every PROGRESS_EVERY seconds
        now[0] += messages.PROGRESS_EVERY
        progress.waiting()
    assert log.getvalue().count("  1/4 rows  0 failed") == 3, log.getvalue()


def test_under_pytest_the_command_lines_stop_options_are_pytests_own():
    done = pytest_run("--rnn-maxfail", "1")
    assert done.returncode == 4 and "unrecognized arguments: --rnn-maxfail" in done.stderr
    env = {**os.environ, "RNN_CONFORMANCE_MAXFAIL": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "conformance",
                           "--rnn-impl", "torch.nn.GRU", "--rnn-devices", "cpu"], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "RNN_CONFORMANCE_MAXFAIL belongs to the command line; under pytest use -x or --maxfail" in (
        done.stdout + done.stderr)


def test_what_a_target_prints_goes_to_a_file_the_run_names(tmp_path):
    env_home = {"XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "tests.planted.odd_targets:PrintingGRU",
                           "--devices", "cpu", "--dtypes", "float64", "--checks", "forward_matches_oracle",
                           "--max-examples", "3", "--seed", "1"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **env_home}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a line of the target's own output" not in done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("what the targets printed ("))
    path = line.rsplit(": ", 1)[1]
    assert path.startswith(str(tmp_path)) and "a line of the target's own output" in open(path).read()
