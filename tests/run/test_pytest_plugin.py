"""The pytest plugin: ``pytest --pyargs conformance`` runs the planned checks, names failures,
and writes the same report under pytest-xdist."""
import json
import os
import subprocess
import sys

import pytest

from tests import REPO


def pytest_run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "conformance",
                           "--rnn-devices", "cpu", "--rnn-dtypes", "float32", "--rnn-profile", "quick",
                           "--rnn-seed", "3", *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_plugin_under_xdist_passes_torch_and_writes_the_report(tmp_path):
    report = tmp_path / "report.json"
    done = pytest_run("-n", "2", "--rnn-impl", "torch.nn.GRU", "--rnn-checks", "parity,contract",
                      "--rnn-report", str(report))
    assert done.returncode == 0, done.stdout[-3000:]
    assert "rnn-conformance summary" in done.stdout and "6 passed" in done.stdout
    data = json.loads(report.read_text())
    assert data["summary"] == {"passed": 6, "failed": 0, "known": 0, "stale": 0, "error": 0, "unsupported": 0,
                               "skipped": 0}
    assert data["environment"]["seed"] == 3


def test_plugin_reports_a_planted_bug_with_its_message():
    done = pytest_run("--rnn-impl", "tests.planted.bugs:GRUResetBeforeMatmul", "--rnn-checks", "small_shapes_match_oracle")
    assert done.returncode == 1
    assert "FAILED small_shapes_match_oracle" in done.stdout and "replay: rnn-conformance" in done.stdout


def test_plugin_bad_option_is_a_usage_error():
    done = pytest_run("--rnn-dtypes", "float7")
    assert done.returncode == 4 and "unknown dtype 'float7'" in done.stderr


def test_plugin_survives_a_crashing_target_and_counts_every_row():
    done = pytest_run("--rnn-impl", "tests.planted.hostile:SegfaultingLSTM",
                      "--rnn-checks", "small_shapes_match_oracle,parameters_named_like_torch")
    assert done.returncode == 1
    assert "the target crashed: killed by signal 11 (SIGSEGV) during forward" in done.stdout
    assert "rnn-conformance summary" in done.stdout and "1 passed, 1 failed, 0 error" in done.stdout


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_plugin_runs_each_transform_as_a_test_of_its_own(tmp_path):
    report = tmp_path / "report.json"
    done = pytest_run("-v", "--rnn-impl", "torch.nn.GRU", "--rnn-checks", "forward_matches_oracle",
                      "--rnn-transforms", "eager,compile", "--rnn-max-examples", "2", "--rnn-report", str(report))
    assert done.returncode == 0, done.stdout[-3000:]
    assert "[forward_matches_oracle-torch.nn.GRU-cpu+compile-float32] PASSED" in done.stdout
    rows = json.loads(report.read_text())["checks"]
    assert sorted((r["transform"], r["status"]) for r in rows) == [("compile", "passed"), ("eager", "passed")]
