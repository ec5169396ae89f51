"""Known differences: accepted failures matched against a run's rows; stale and unmatched entries."""
import json
import os
import subprocess
import sys

import pytest


from tests import REPO
from tests.commands import BUG, SMALL, cli, write


# --- known differences -------------------------------------------------------------------------

KNOWN = f"""
# accepted differences of the planted bug
[sorted-states]
checks = pack_padded_unsorted_matches_oracle, pack_sequence_matches_oracle
targets = {BUG}
torch = >=2.0   ; every release
reason = states come back in sorted order; https://example.org/issue/1

[too-wide]
checks = packing
dtypes = float32
reason = accepts rows that pass

[nothing]
devices = cuda:7
reason = no row of this run
"""


def test_known_differences_turn_failures_known_and_flag_stale_and_unmatched_entries(tmp_path):
    known, path = write(tmp_path, "known.ini", KNOWN), tmp_path / "report.json"
    args = ["--impl", BUG, "--checks", "packing", "--devices", "cpu", "--dtypes", "float64,float32",
            "--profile", "quick", "--seed", "1", "--known-differences", known]
    done = cli(*args, "--report", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {(r["check"], r["dtype"]): r for r in json.loads(path.read_text())["checks"]}
    assert rows[("pack_padded_unsorted_matches_oracle", "float64")]["status"] == "known"
    assert rows[("pack_padded_unsorted_matches_oracle", "float64")]["known"] == "sorted-states"
    assert rows[("pack_padded_sorted_matches_oracle", "float32")]["status"] == "stale"
    assert rows[("pack_padded_sorted_matches_oracle", "float32")]["known"] == "too-wide"
    assert rows[("pack_padded_sorted_matches_oracle", "float64")]["status"] == "passed"
    assert "known (4 rows): states come back in sorted order; https://example.org/issue/1" in done.stdout
    assert "STALE known difference [too-wide]: 1 row it expects to fail passed" in done.stdout
    assert "warning: known difference [nothing] matches no row of this run" in done.stdout
    data = json.loads(path.read_text())
    assert data["known_differences"]["unmatched"] == ["nothing"]
    assert data["known_differences"]["entries"]["sorted-states"]["rows"] == 4
    # --strict-known fails the run for its stale row (run alone: the other rows change nothing)
    stale = ["--impl", BUG, "--checks", "pack_padded_sorted_matches_oracle", "--devices", "cpu", "--dtypes", "float32",
             "--profile", "quick", "--seed", "1", "--known-differences", known]
    assert cli(*stale, "--strict-known").returncode == 1
    assert cli(*stale, env={"RNN_CONFORMANCE_STRICT_KNOWN": "1"}).returncode == 1


def test_without_the_file_the_same_run_fails():
    assert cli("--impl", BUG, "--checks", "pack_sequence_matches_oracle", "--devices", "cpu", "--dtypes", "float64",
               "--profile", "quick", "--seed", "1").returncode == 1


@pytest.mark.parametrize("content, says", [
    ("[a]\nchecks = parity\n", "entry [a]: needs a reason"),
    ("[a]\ndtype = float32\nreason = x\n", "entry [a]: unknown key 'dtype'"),
    ("[a]\ndtypes = float8\nreason = x\n", "entry [a]: dtypes has unknown 'float8'"),
    ("[a]\nchecks = forward_matches_orcale\nreason = x\n", "entry [a]: checks has unknown 'forward_matches_orcale'"),
    ("[a]\ndevices = gpu\nreason = x\n", "entry [a]: devices has unknown 'gpu'"),
    ("[a]\ntorch = >>2\nreason = x\n", "entry [a]: torch '>>2' is not a version range"),
    ("[a]\nbackends =\nreason = x\n", "entry [a]: backends is empty"),
    ("[a]\nsymptoms = crashes\nreason = x\n", "entry [a]: symptoms has unknown 'crashes'"),
    ("checks = parity\n", "not an INI file of entries"),
    ("[a]\nreason = x\n[a]\nreason = y\n", "section 'a' already exists"),
])
def test_a_malformed_known_differences_file_is_one_line_and_exit_2(tmp_path, content, says):
    done = cli("--known-differences", write(tmp_path, "known.ini", content), "--checks", "parity")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


def test_a_known_differences_file_of_comments_only_is_accepted(tmp_path):
    done = cli("--known-differences", write(tmp_path, "known.ini", "# nothing accepted yet\n"), *SMALL, "--seed", "1",
               "--impl", "torch.nn.GRU")
    assert done.returncode == 0 and "known difference" not in done.stdout


def test_known_differences_select_by_torch_version_range(tmp_path):
    from conformance.targets.known import classify, load
    from conformance.report.record import CheckResult
    entries = load(write(tmp_path, "k.ini", "[old]\ntorch = <2.5\nreason = fixed in 2.5\n"), ["x"], ["parity"])
    row = lambda: CheckResult("x", "t", "cpu", "float32", "failed", family="parity")
    assert classify(row(), entries, "2.4.1+cu121").status == "known"
    assert classify(row(), entries, "2.13.0+cpu").status == "failed"


def test_an_entry_with_symptoms_selects_only_the_rows_that_failed_that_way(tmp_path):
    """A torch bug described by how it fails (the compiled call raises), not by one release's
    wording: a row that deviated or passed in the same place stays as it was."""
    from conformance.targets.known import classify, load
    from conformance.report.record import CheckResult
    entries = load(write(tmp_path, "k.ini", "[crash]\ndtypes = bfloat16\nsymptoms = raises\nreason = oneDNN\n"),
                   ["x"], ["parity"])
    row = lambda status, symptom=None: CheckResult("x", "t", "cpu", "bfloat16", status, symptom=symptom)
    assert classify(row("failed", "raises"), entries, "2.15.0").status == "known"
    assert classify(row("failed", "deviates"), entries, "2.15.0").status == "failed"
    assert classify(row("passed"), entries, "2.15.0").status == "passed"  # never stale: a pass has no symptom


def test_a_failed_row_records_how_it_failed():
    """The symptom a known difference selects on comes from the failure itself: a comparison
    deviates, a target or transformed call that raised raises."""
    from conformance.errors import CheckFailure, TargetCrashed
    from conformance.run.runner import _fail
    from conformance.report.record import Row
    from conformance.checks.registry import checks
    check = checks()["forward_matches_oracle"]

    class Worse:
        ratio, passed = 3.0, False

        def describe(self):
            return "output[0]: got 1, expected 0"

    for failure, symptom in ((CheckFailure("cfg", "error exceeds tolerance", Worse()), "deviates"),
                             (TargetCrashed("cfg", "forward raised RuntimeError: no kernel"), "raises"),
                             (CheckFailure("cfg", "compile: the compiled forward raised RuntimeError: x, where the "
                                                  "eager forward returns", symptom="raises"), "raises"),
                             (CheckFailure("cfg", "returned a list"), "other")):
        result = Row("forward_matches_oracle", "t", "cpu", "float32").result(replay="r")
        _fail(result, check, failure)
        assert result.symptom == symptom and result.as_dict()["symptom"] == symptom


def test_plugin_makes_a_known_difference_an_xfail(tmp_path):
    known = write(tmp_path, "known.ini", KNOWN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "conformance",
                           "--rnn-impl", BUG, "--rnn-checks", "pack_sequence_matches_oracle,forward_matches_oracle",
                           "--rnn-devices", "cpu",
                           "--rnn-dtypes", "float64", "--rnn-profile", "quick", "--rnn-seed", "1",
                           "--rnn-known-differences", known, "-rx"], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed, 1 xfailed" in done.stdout and "known difference [sorted-states]" in done.stdout
