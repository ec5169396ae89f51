"""The command line: exit codes, one-line errors for bad input, failure messages, replay and report."""
import json
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from tests import REPO
from tests.commands import cli, environment
QUICK = ["--devices", "cpu", "--dtypes", "float64", "--profile", "quick", "--seed", "1"]


def test_torch_class_passes_and_prints_the_summary():
    done = cli("--impl", "torch.nn.GRU", "--checks", "parity,contract", *QUICK)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = next(line for line in done.stdout.splitlines() if line.startswith("forward_matches_oracle"))
    assert summary.split()[1] == "torch.nn.GRU" and 0 <= float(summary.split()[2]) <= 1, summary
    assert "cpu float64" in done.stdout and "6 passed, 0 failed, 0 error" in done.stdout


def test_verbose_prints_one_line_per_row():
    done = cli("--impl", "torch.nn.GRU", "--checks", "small_shapes_match_oracle", "--verbose", *QUICK)
    assert done.returncode == 0 and "worst err/tol" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith("small_shapes_match_oracle"))
    assert row.split()[1:5] == ["torch.nn.GRU", "cpu", "float64", "passed"]


def test_planted_bug_exits_1_with_a_replayable_counterexample():
    done = cli("--impl", "tests.planted.bugs:LSTMGateOrderIFOG", "--checks", "forward_matches_oracle", *QUICK)
    assert done.returncode == 1
    for part in ("FAILED forward_matches_oracle", "target=tests.planted.bugs:LSTMGateOrderIFOG", "device=cpu",
                 "dtype=float64", "configuration: LSTM(", "worst element:", "error/tolerance", "replay: "):
        assert part in done.stdout
    replay = next(line for line in done.stdout.splitlines() if "replay: " in line).split("replay: ", 1)[1]
    configuration = next(line for line in done.stdout.splitlines() if "configuration:" in line)
    again = cli(*shlex.split(replay)[1:])
    assert again.returncode == 1 and configuration in again.stdout


@pytest.mark.parametrize("args, says", [
    (["--impl", "no_such_package.layers:MyLSTM"], "no module 'no_such_package' in "),
    (["--impl", "torch.nn:NoSuchRNN"], "has no attribute 'NoSuchRNN'"),
    (["--impl", "torch.nn:Linear"], "is not a recurrent module"),
    (["--impl", "tests.planted.odd_targets:NOT_A_CLASS"], "not a class or factory"),
    (["--impl", "torch.nn.LSTM", "--kind", "gru"], "subclasses torch.nn.LSTM"),
    (["--dtypes", "float8"], "unknown dtype 'float8'"),
    (["--devices", "tpu"], "unknown device 'tpu'"),
    (["--profile", "huge"], "unknown profile 'huge'"),
    (["--max-examples", "0"], "--max-examples '0'"),
    (["--jobs", "0"], "--jobs '0'"),
    (["--checks", "no_such_check"], "unknown check 'no_such_check'"),
    (["--kind", "lstm"], "--kind needs --impl"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_input_is_one_line_and_exit_2(args, says):
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and says in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("args, says", [
    (["--impl", "conformanc:LSTM"], "did you mean 'conformance'?"),  # found before torch is imported
    (["--impl", "tests.planted.bug:GRUInitialStateIgnored"], "did you mean 'tests.planted.bugs'?"),
    (["--impl", "tests.planted.bugs:GRUInitialStateIgnord"], "did you mean 'GRUInitialStateIgnored'?"),
    (["--checks", "forward_matches_orcale"], "did you mean 'forward_matches_oracle'?"),
    (["--impl", "torch.nn.GRU", "--checks", "cell_matches_oracle"],
     "--checks cell_matches_oracle: applies to gru_cell, lstm_cell, rnn_cell, variant_cell targets, and torch.nn.GRU "
     "is a gru: it checks nothing here"),
    (["--impl", "tests.planted.odd_targets:NeedsOwnArguments", "--kind", "gru"],
     "cannot take that (missing a required argument: 'layers'); adapt it with a factory"),
])
def test_a_typo_gets_a_way_out_in_one_line(args, says):
    """Issue 39: a misspelt module took 8-9 s (torch's import) to say 'cannot import' and named a
    folder that did not hold it; a misspelt class or check got no suggestion; a cell check on a
    layer exited 5 saying nothing; a constructor of other arguments got five attempts in a row."""
    started = time.monotonic()
    done = cli(*args)
    assert done.returncode == 2 and done.stdout == "", done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and says in done.stderr and "Traceback" not in done.stderr, done.stderr
    if args[:2] == ["--impl", "conformanc:LSTM"]:
        assert time.monotonic() - started < 5  # no torch import: a second or less on a quiet machine


def test_module_failing_at_import_is_one_line(tmp_path):
    (tmp_path / "broken_rnn.py").write_text("raise RuntimeError('planted import failure')\n")
    env_path = f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "broken_rnn:LSTM"], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": env_path})
    assert done.returncode == 2 and "planted import failure" in done.stderr and done.stderr.count("\n") == 1


def test_hanging_target_fails_with_the_time_limit_named():
    done = cli("--impl", "tests.planted.odd_targets:HangingGRU", "--checks", "forward_matches_oracle",
               "--timeout", "1", *QUICK)
    assert done.returncode == 1 and "did not return within 1 s" in done.stdout


def test_crashing_target_fails_naming_the_exception():
    done = cli("--impl", "tests.planted.odd_targets:CrashingLSTM", "--checks", "small_shapes_match_oracle", *QUICK)
    assert done.returncode == 1 and "forward raised IndexError: planted crash in forward" in done.stdout


def test_unsupported_features_are_counted_not_skipped(tmp_path):
    report = tmp_path / "report.json"
    done = cli("--impl", "tests.planted.odd_targets:LSTMWithoutPacking", "--checks", "packing,forward_matches_oracle",
               "--report", str(report), *QUICK)
    assert done.returncode == 0, done.stdout
    data = json.loads(report.read_text())
    assert data["summary"]["unsupported"] == 3 and data["summary"]["passed"] == 1
    assert "proj_size" in data["unsupported_features"]["tests.planted.odd_targets:LSTMWithoutPacking"]
    assert "unsupported feature of tests.planted.odd_targets:LSTMWithoutPacking: proj_size" in done.stdout


def test_report_follows_the_schema(tmp_path):
    report = tmp_path / "report.json"
    done = cli("--impl", "torch.nn.RNN", "--checks", "small_shapes_match_oracle",  # default devices: cpu,cuda
               "--dtypes", "float32", "--profile", "quick", "--report", str(report))
    assert done.returncode == 0
    data = json.loads(report.read_text())
    assert data["schema"] == "rnn-conformance/1"
    assert {"torch", "cuda", "cudnn", "gpu", "numpy", "hypothesis", "python", "seed", "tf32"} <= set(data["environment"])
    if data["environment"]["gpu"] is None:  # a CPU-only run shows no CUDA details, as if they were in use
        assert [data["environment"][k] for k in ("cuda", "cudnn", "tf32")] == [None, None, None]
    assert data["target"] == {"impl": "torch.nn.RNN", "kind": "rnn"}
    rows = {row["device"]: row for row in data["checks"]}
    assert rows["cpu"]["status"] == "passed" and rows["cpu"]["examples"] > 0 and rows["cpu"]["worst_ratio"] <= 1
    expected_cuda = "passed" if data["environment"]["gpu"] else "skipped"
    assert rows["cuda"]["status"] == expected_cuda
    assert set(rows["cpu"]) >= {"check", "target", "device", "dtype", "status", "examples", "worst_ratio",
                                "counterexample", "replay", "backend", "flags", "known"}
    assert data["run"]["profile"] == "quick" and data["run"]["max_examples"] == 8
    assert data["run"]["seed"] == data["environment"]["seed"]


def test_list_names_every_check():
    done = cli("--list")
    assert done.returncode == 0
    for name in ("forward_matches_oracle", "pack_padded_unsorted_matches_oracle", "invalid_input_rejected",
                 "bilstm_classifier_matches_oracle", "packed_gradients_match_oracle", "hx_none_equals_zeros",
                 "dropout_one_zeroes_only_between_layers", "gradients", "metamorphic"):
        assert name in done.stdout


def test_env_var_sets_an_option():
    env = {**os.environ, "RNN_CONFORMANCE_DTYPES": "float99"}
    done = subprocess.run([sys.executable, "-m", "conformance"], cwd=REPO, capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "float99" in done.stderr


def test_weight_mapping_hook_loads_other_parameter_names():
    done = cli("--impl", "tests.planted.odd_targets:RenamedGRU", "--kind", "gru",
               "--checks", "forward_matches_oracle,parameters_named_like_torch,gradients_match_oracle", *QUICK)
    assert done.returncode == 0, done.stdout
    assert "2 passed, 0 failed, 0 error, 1 unsupported" in done.stdout and "load_torch_state_dict" in done.stdout


def test_constructor_without_dropout_makes_the_dropout_checks_unsupported():
    done = cli("--impl", "tests.planted.odd_targets:GRUWithoutDropout", "--checks",
               "eval_mode_ignores_dropout,dropout_one_zeroes_only_between_layers,hx_none_equals_zeros", *QUICK)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 0 failed, 0 error, 2 unsupported" in done.stdout
    assert "unsupported (2 rows) tests.planted.odd_targets:GRUWithoutDropout: dropout: " in done.stdout
    assert "[eval_mode_ignores_dropout, dropout_one_zeroes_only_between_layers]" in done.stdout
    assert "unsupported feature of tests.planted.odd_targets:GRUWithoutDropout: dropout" in done.stdout


def test_kind_cannot_be_guessed_without_torch_names():
    done = cli("--impl", "tests.planted.odd_targets:RenamedGRU")
    assert done.returncode == 2 and "pass --kind" in done.stderr


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_worker_processes_find_the_same_failures_as_one_process(tmp_path):
    """--jobs only spreads the rows over processes: a planted bug fails the same checks on
    the same shrunk configurations either way."""
    runs = []
    for jobs in ("1", "2"):
        report = tmp_path / f"jobs{jobs}.json"
        done = cli("--impl", "tests.planted.bugs:GRUNoGradientToH0", "--checks", "gradients,hx_none_equals_zeros",
                   "--jobs", jobs, "--report", str(report), *QUICK)
        assert done.returncode == 1, done.stdout
        rows = json.loads(report.read_text())["checks"]
        runs.append([(r["check"], r["status"], r["counterexample"]) for r in rows])
    assert runs[0] == runs[1] and [status for _, status, _ in runs[0]] == ["failed", "failed", "passed", "passed"]


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_third_party_lstm_with_its_own_names_and_no_packing_passes_every_family(tmp_path):
    """Every family on a target with a mapping hook, packing declared from the command line:
    no row errors (the suite's own exceptions), none fails."""
    report = tmp_path / "third_party.json"
    done = cli("--impl", "tests.planted.odd_targets:ThirdPartyLSTM", "--kind", "lstm", "--unsupported", "packed",
               "--devices", "cpu", "--dtypes", "float64,float32", "--profile", "quick", "--seed", "4",
               "--report", str(report))
    assert done.returncode == 0, done.stdout
    summary = json.loads(report.read_text())["summary"]
    assert summary["failed"] == summary["error"] == 0 and summary["passed"] >= 40


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_torchs_own_packing_bugs_are_known_in_the_default_run_and_a_users_copy_of_one_fails(tmp_path):
    """The built-in known differences accept torch's two packing bugs for torch's target only:
    exit 0, both named, recorded in the report; the same bug planted in a user's module fails."""
    report = tmp_path / "r.json"
    checks = "pack_padded_too_long_lengths_rejected,unpad_sequence_leaves_its_input_unchanged"
    done = cli("--impl", "torch.nn.utils.rnn", "--checks", checks, "--report", str(report), *QUICK)
    assert done.returncode == 5 and "nothing was checked" in done.stdout, done.stdout + done.stderr
    done = cli("--impl", "torch.nn.utils.rnn", "--checks", checks + ",pad_sequence_matches_reference",
               "--report", str(report), *QUICK)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 0 failed, 2 known" in done.stdout and "pytorch/pytorch#98499" in done.stdout
    entries = json.loads(report.read_text())["known_differences"]["entries"]
    assert {name: (e["rows"], e["builtin"]) for name, e in entries.items()} == {
        "torch-pack-padded-accepts-too-long-lengths": (1, True), "torch-unpad-sequence-transposes-its-input": (1, True)}
    done = cli("--impl", "tests.planted.packing:UnpadSequenceTransposesInPlace", "--checks", checks, *QUICK)
    assert done.returncode == 1 and "FAILED unpad_sequence_leaves_its_input_unchanged" in done.stdout
    assert "1 failed" in done.stdout.splitlines()[-1] and " known" not in done.stdout.splitlines()[-1]
    done = cli("--impl", "torch.nn.GRU", "--checks", "forward_matches_oracle", *QUICK)
    assert done.returncode == 0 and "warning: known difference" not in done.stdout


def test_a_run_that_checked_nothing_exits_5_and_names_the_target():
    """Every row unsupported is no pass: exit 5, one line saying nothing was checked, and the
    target whose every row is unsupported named."""
    done = cli("--impl", "torch.nn.GRU", "--checks", "forward_matches_oracle", "--devices", "cpu",
               "--unsupported", "float64,float32,bfloat16,float16", "--seed", "1")
    assert done.returncode == 5, done.stdout + done.stderr
    assert "warning: every row of torch.nn.GRU is unsupported (4 rows): nothing of it was checked" in done.stdout
    assert "nothing was checked: no row passed or failed" in done.stdout.splitlines()[-2]


def test_under_pytest_a_session_that_checked_nothing_exits_5():
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "conformance",
                           "--rnn-impl", "torch.nn.GRU", "--rnn-checks", "forward_matches_oracle",
                           "--rnn-devices", "cpu", "--rnn-unsupported", "float64,float32,bfloat16,float16"],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 5 and "nothing was checked" in done.stdout, done.stdout[-2000:]


def test_version_and_help_name_every_kind():
    from conformance.config import KIND_MODES
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("rnn-conformance ") and done.stdout.count("\n") == 1
    helped = " ".join(cli("--help").stdout.split())
    kind = helped[helped.rindex("--kind KIND"):helped.rindex("--checks NAMES")]
    assert all(name in kind for name in KIND_MODES), kind
    assert "cells" in helped[helped.rindex("--impl PKG.MOD:ATTR"):helped.rindex("--kind KIND")]


def test_list_aligns_its_columns_and_wraps_the_descriptions():
    lines = cli("--list").stdout.splitlines()
    heads = [line for line in lines if not line.startswith(" ")]
    starts = [[field.start() for field in re.finditer(r"\S+", line)][1:3] for line in heads]
    assert len({tuple(s) for s in starts}) == 1, starts  # every name, and every kind list, starts in one column
    assert max(map(len, lines)) <= 130 and all(line.startswith("    ") for line in lines if line not in heads)


def test_a_module_that_only_imports_torchs_packing_functions_is_not_taken_for_a_target(tmp_path, monkeypatch):
    from conformance.errors import UsageError
    from conformance.targets.loading import load_target
    (tmp_path / "reexports.py").write_text("import torch\nfrom torch.nn.utils.rnn import pack_padded_sequence\n\n"
                                           "class MyLSTM(torch.nn.LSTM):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match=r"has only torch's own packing utilities \(pack_padded_sequence, imported"):
        load_target("reexports")
    assert load_target("reexports", "packing_utils").kind == "packing_utils"  # asked for: checked anyway
    assert load_target("reexports:MyLSTM").kind == "lstm"
    assert load_target("torch.nn.utils.rnn").kind == "packing_utils"


def test_the_kind_of_a_class_with_its_own_parameter_names_is_not_inferred_as_the_readme_says():
    from conformance.errors import UsageError
    from conformance.targets.loading import load_target
    with pytest.raises(UsageError, match="cannot infer its kind from its parameters; pass --kind"):
        load_target("tests.planted.own_names:MappedFusedLSTM")
    assert load_target("tests.planted.own_names:MappedFusedLSTM", "lstm").kind == "lstm"
    assert load_target("tests.planted.torch_rnn:TorchGRU").kind == "gru"  # torch's names: inferred


def test_the_readmes_example_outside_the_checkout_says_where_to_run_it(tmp_path):
    """Seen: `rnn-conformance --impl examples.indrnn:IndRNN` from another directory said only
    that it could not import 'examples.indrnn'."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_") and k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "examples.indrnn:IndRNN"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert (f"no module 'examples' in {tmp_path} (the folder the run started in) nor on the path (PYTHONPATH, the "
            f"installed packages): run from the folder that holds it, add that folder to PYTHONPATH, or install it"
            in done.stderr)
    readme = open(os.path.join(REPO, "docs", "own-rnn.md")).read()
    assert "From the checkout's root (the examples are not installed with the package" in readme
    with open(os.path.join(REPO, "examples", "indrnn.py")) as handle:  # the layer imports nothing of the suite
        assert not re.search(r"^(import|from) (reference|conformance)\b", handle.read(), re.M)


def test_a_reader_that_goes_away_ends_the_run_quietly_with_141():
    """``rnn-conformance ... | head``: the pipe closed before the suite writes ends it with
    128 + SIGPIPE and no traceback, for the listing and for a run alike."""
    for args in (["--list"], ["--impl", "torch.nn:GRU", "--checks", "forward_matches_oracle", "--dtypes", "float64",
                              "--max-examples", "2"]):
        child = subprocess.Popen([sys.executable, "-m", "conformance", *args], cwd=REPO, env=environment(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        child.stdout.close()  # the reader is gone before the first line
        _, err = child.communicate(timeout=300)
        assert child.returncode == 141, (args, child.returncode, err)
        assert "Traceback" not in err and "BrokenPipeError" not in err, err
