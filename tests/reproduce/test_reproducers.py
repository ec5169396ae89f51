"""Standalone reproducers against planted bugs: the script written for a failed row runs with this
suite, Hypothesis and pytest impossible to import, exits 1 on the bug and 0 on the class the bug
was planted in; a failure a script cannot repeat gets no script, and says why."""
import json
import os
import subprocess
import sys
import warnings

import pytest

from conformance.reproduce import scripts
from conformance.run import session
from conformance.run.options import resolve
from tests import REPO
from tests.commands import cli

#: One planted bug per way a check reaches its verdict: (class, the check that rejects it, kind
#: or None, transforms, the correct class it was planted in).
PLANTED = [
    ("tests.planted.bugs:LSTMGateOrderIFOG", "forward_matches_oracle", None, "eager",
     "tests.planted.torch_rnn:TorchLSTM"),  # oracle values and per-element tolerances
    ("tests.planted.bugs:LSTMStatesLeftInSortedOrder", "pack_padded_unsorted_matches_oracle", None, "eager",
     "tests.planted.torch_rnn:TorchLSTM"),  # packed input
    ("tests.planted.bugs:LSTMWeightHHGradientGatesSwapped", "gradients_match_oracle", None, "eager",
     "tests.planted.torch_rnn:TorchLSTM"),  # backward, every weight's gradient
    ("tests.planted.bugs:RNNStatefulAcrossCalls", "batch_permutation_permutes_results", None, "eager",
     "tests.planted.torch_rnn:TorchRNN"),  # two runs of a relation, both in the script
    ("tests.planted.bugs:GRUDropoutNotRescaled", "dropout_scales_kept_units", None, "eager",
     "tests.planted.torch_rnn:TorchGRU"),  # torch's generator seeded as the check seeds it
    ("tests.planted.bugs:LSTMWrongInputSizeAccepted", "invalid_input_rejected", None, "eager",
     "tests.planted.torch_rnn:TorchLSTM"),  # a call that must raise
    ("tests.planted.cells:GRUCellBatchMeanLeaks", "cell_batch_split_matches_whole", None, "eager",
     "torch.nn.GRUCell"),
    ("tests.planted.packing:UnsortedIndicesNotInverted", "pack_padded_sequence_matches_reference", "packing_utils",
     "eager", "tests.planted.packing:Correct"),  # the result's structure
    ("tests.planted.packing:UnpadSequenceTransposesInPlace", "unpad_sequence_leaves_its_input_unchanged",
     "packing_utils", "eager", "tests.planted.packing:Correct"),  # an argument changed in place
    ("tests.planted.own_names:MappedFusedLSTMHalfWeightGradient", "stacked_regressor_gradients_match_oracle", "lstm",
     "eager", "tests.planted.own_names:MappedFusedLSTM"),  # a seed model, through the mapping hook
    pytest.param("tests.planted.compiled:LSTMForgetGateSlipsWhenCompiled", "forward_matches_oracle", None, "compile",
                 "torch.nn.LSTM", marks=pytest.mark.slow),  # under torch.compile (compiling takes long)
    ("tests.planted.bugs:GRUResetBeforeMatmul", "sequence_equals_cell_loop", None, "eager",
     "tests.planted.torch_rnn:TorchGRU"),  # torch's own cell, built and loaded by the script
    ("tests.planted.bugs:LSTMGateOrderIFOG", "sequence_equals_cell_loop", None, "eager",
     "tests.planted.torch_rnn:TorchLSTM"),
]


def failed_row(impl, check, kind, transforms, directory, dtype="float64"):
    options = resolve({"impl": impl, "devices": "cpu", "dtypes": dtype, "seed": "0", "kind": kind,
                       "checks": check, "transforms": transforms})
    rows = session.plan(options, session.targets_for(options), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [row.run(reproducer_dir=str(directory)) for row in rows]
    failed = [r for r in results if r.status == "failed"]
    assert failed, [(r.check, r.status, r.reason) for r in results]
    return failed[0]


@pytest.mark.parametrize("impl, check, kind, transforms, correct", PLANTED, ids=lambda v: str(v).split(":")[-1])
def test_reproducer_exits_1_on_the_planted_bug_and_0_on_the_correct_class(impl, check, kind, transforms, correct,
                                                                          tmp_path):
    result = failed_row(impl, check, kind, transforms, tmp_path)
    assert result.reproducer, result.no_reproducer
    assert f"  reproducer: python {result.reproducer}" in result.message
    on_bug = scripts.verify(result.reproducer)
    assert on_bug[0] == 1 and ("expectations fail" in on_bug[1] or on_bug[1].startswith("FAIL: ")), on_bug
    on_correct = scripts.verify(result.reproducer, impl=correct)
    assert on_correct[0] == 0 and "hold: fixed" in on_correct[1], on_correct
    source = open(result.reproducer).read()
    assert f"TARGET = {impl!r}" in source and "import conformance" not in source and "hypothesis" not in source


def test_a_failure_the_script_cannot_repeat_gets_no_script_and_says_why(tmp_path):
    """The dropout rate is counted in numpy from the run's outputs: no script can state it."""
    result = failed_row("tests.planted.bugs:RNNDropoutRateSquared", "dropout_drops_units_at_rate_p", None, "eager",
                        tmp_path)
    assert result.reproducer is None and "the replay command reproduces it" in result.no_reproducer
    assert "  no standalone reproducer: " in result.message and os.listdir(tmp_path) == []


def test_a_small_reproducer_holds_its_data_and_only_the_helpers_it_uses(tmp_path):
    result = failed_row("tests.planted.bugs:LSTMGateOrderIFOG", "forward_matches_oracle", None, "eager", tmp_path)
    source = open(result.reproducer).read()
    assert os.listdir(tmp_path) == [os.path.basename(result.reproducer)]  # no .npz: the data is inline
    assert "def assert_close(" in source and "def assert_runs(" not in source and "def transformed(" not in source
    # pasted whole into a bug report (the one-line wording of an exception and the exit 2 take 40 lines;
    # the suite's own claims, ``claims.assert_structure`` with the packed fields, 60 more)
    assert len(source.splitlines()) < 320, len(source.splitlines())


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_reproduce_writes_a_script_for_each_failed_row_of_a_report(tmp_path):
    report = tmp_path / "report.json"
    done = cli("--impl", "tests.planted.bugs:LSTMGateOrderIFOG", "--checks", "forward_matches_oracle,"
               "small_shapes_match_oracle", "--devices", "cpu", "--dtypes", "float64,float32", "--seed", "2",
               "--max-examples", "10", "--report", str(report))
    assert done.returncode == 1
    failed = [r for r in json.loads(report.read_text())["checks"] if r["status"] == "failed"]
    done = cli("reproduce", str(report), "--output", str(tmp_path / "scripts"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"standalone reproducers in {tmp_path / 'scripts'}: {len(failed)} of {len(failed)} rows" in done.stdout
    assert len(os.listdir(tmp_path / "scripts")) == len(failed)
    one = "small_shapes_match_oracle-tests.planted.bugs:LSTMGateOrderIFOG-cpu-float32"
    done = cli("reproduce", str(report), one, "--output", str(tmp_path / "one"))
    assert done.returncode == 0 and os.listdir(tmp_path / "one") == [
        "small_shapes_match_oracle-tests.planted.bugs_LSTMGateOrderIFOG-cpu-float32.py"], done.stdout
    done = cli("reproduce", str(report), "no_such_row", "--output", str(tmp_path / "none"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no failed row of the report is no_such_row" in (
        done.stderr)


def test_reproduce_of_a_report_without_failures_is_a_usage_error(tmp_path):
    report = tmp_path / "report.json"
    assert cli("--impl", "torch.nn.GRU", "--checks", "forward_matches_oracle", "--devices", "cpu", "--dtypes",
               "float64", "--max-examples", "3", "--seed", "1", "--report", str(report)).returncode == 0
    done = cli("reproduce", str(report), "--output", str(tmp_path / "scripts"))
    assert done.returncode == 2 and "has no failed or error or known row" in done.stderr


def test_reproduce_names_each_row_it_wrote_no_script_for_and_why():
    from conformance.report.messages import reproducer_lines
    from conformance.report.record import CheckResult
    rows = [CheckResult("gradients_match_oracle", "torch.nn.GRU", "cuda", "float32", "skipped",
                        reason="CUDA is not available (torch.cuda.is_available() is False)"),
            CheckResult("forward_matches_oracle", "torch.nn.GRU", "cpu", "float32", "failed", reproducer="DIR/a.py"),
            CheckResult("forward_matches_oracle", "torch.nn.GRU", "cpu", "float64", "passed"),
            CheckResult("dropout_drops_units_at_rate_p", "torch.nn.GRU", "cpu", "float64", "failed",
                        no_reproducer="the script made from it exits 0")]
    lines, every_row = reproducer_lines(rows, "DIR")
    assert not every_row and lines == [
        "standalone reproducers in DIR: 1 of 2 rows",
        "  forward_matches_oracle torch.nn.GRU cpu float32: python DIR/a.py",
        "  dropout_drops_units_at_rate_p torch.nn.GRU cpu float64: none (the script made from it exits 0)",
        "  no script for the 2 rows that did not fail (1 passed, 1 skipped)"]  # failed rows only, a count for the rest
    assert reproducer_lines(rows[1:2], "DIR")[1]


def test_a_script_that_checked_nothing_says_so_when_it_passes(monkeypatch, capsys):
    """A script whose failure was a call that raised has no expectation: passing, it says every
    call returned, never that expectations hold."""
    from conformance.reproduce import standalone
    monkeypatch.setattr(standalone, "CHECKED", [0])
    monkeypatch.setattr(standalone, "FAILURES", [])
    with pytest.raises(SystemExit) as done:
        standalone.finish()
    assert done.value.code == 0 and "every call returned" in capsys.readouterr().out
    monkeypatch.setattr(standalone, "CHECKED", [2])
    monkeypatch.setattr(standalone, "FAILURES", ["output[0]: got 1, expected 0"])
    with pytest.raises(SystemExit) as done:
        standalone.finish()
    assert done.value.code == 1 and "1 of 2 expectations fail" in capsys.readouterr().out


def test_a_script_that_cannot_run_exits_2_in_one_line_never_1(tmp_path):
    """Run from another directory, a script whose target does not import says so and exits 2
    (it printed a traceback and exited 1, the code for 'the failure is still there')."""
    result = failed_row("tests.planted.bugs:GRUResetBeforeMatmul", "sequence_equals_cell_loop", None, "eager",
                        tmp_path)
    moved = tmp_path / "elsewhere" / "script.py"
    moved.parent.mkdir()
    moved.write_text(open(result.reproducer).read().replace(f"RUN_FROM = {os.getcwd()!r}", "RUN_FROM = None"))
    done = subprocess.run([sys.executable, str(moved)], cwd=moved.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert done.stdout.splitlines() == [done.stdout.strip()] and done.stdout.startswith(
        "CANNOT RUN: cannot import 'tests.planted.bugs' for tests.planted.bugs:GRUResetBeforeMatmul")
    assert subprocess.run([sys.executable, str(moved), "tests.planted.torch_rnn:TorchGRU"], cwd=REPO,
                          capture_output=True, timeout=300).returncode == 0  # from the checkout: it runs
    (tmp_path / "elsewhere" / "script.npz").write_bytes(b"")  # a file beside it that is broken
    broken = moved.read_text().replace("DATA = {", "DATA = dict(np.load(__file__[:-3] + '.npz')) or {", 1)
    moved.write_text(broken)
    done = subprocess.run([sys.executable, str(moved)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stdout.startswith("CANNOT RUN: ") and "Traceback" not in done.stderr, done


def test_a_target_whose_module_imports_the_suite_gets_no_script_and_says_why(tmp_path):
    """Its variant defined beside the layer: the script cannot run on torch and numpy alone (exit 2),
    so none is announced, and the reason says to keep the variant in a module of its own."""
    result = failed_row("tests.planted.beside_its_variant:IndRNNHiddenBiasIgnoredBesideItsVariant",
                        "forward_matches_oracle", None, "eager", tmp_path)
    assert result.reproducer is None and "exits 2 (CANNOT RUN: " in result.no_reproducer
    assert "imports 'reference', which a standalone reproducer runs without" in result.no_reproducer


def test_a_script_that_does_not_restate_the_failing_comparison_is_never_announced(tmp_path):
    result = failed_row("tests.planted.bugs:GRUResetBeforeMatmul", "sequence_equals_cell_loop", None, "eager",
                        tmp_path)
    assert scripts.failing_quantity(result.message) == "output"
    source = open(result.reproducer).read()
    structure_only = "\n".join(line for line in source.splitlines() if not line.startswith("expect(assert_runs,"))
    lines = structure_only.replace("finish()", "_fail('h_n is not what torch returns')\nfinish()")
    trace_of = type("Trace", (), {"incomplete": None, "statements": [("call(x)", set(), True)]})
    original = scripts.write
    try:
        scripts.write = lambda *args: (open(result.reproducer, "w").write(lines), result.reproducer)[1]
        path, why = scripts.written(trace_of(), result, str(tmp_path), "")
    finally:
        scripts.write = original
    assert path is None and "does not restate the failing comparison of output" in why, why


STUB_ON_PYTHONPATH = '''import torch


class ScaledStateGRU(torch.nn.GRU):
    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        return output, h_n * 1.01
'''


def test_a_target_found_through_pythonpath_gets_a_script_that_finds_it_too(tmp_path):
    """Issue 39: scripts were verified with PYTHONPATH removed, so a target that imports through
    it (a source checkout, a monorepo, a stub) got no reproducer ("0 of 1").  The script is now
    verified where the suite ran, looks in the PYTHONPATH the suite ran with, and says so; run
    from another folder without PYTHONPATH it still exits 1 (and 0 on torch's own GRU)."""
    stubs, elsewhere, scripts = tmp_path / "stubs", tmp_path / "elsewhere", tmp_path / "scripts"
    stubs.mkdir()
    elsewhere.mkdir()
    (stubs / "stub_gru_on_path.py").write_text(STUB_ON_PYTHONPATH)
    done = cli("--impl", "stub_gru_on_path:ScaledStateGRU", "--checks", "forward_matches_oracle", "--devices", "cpu",
               "--dtypes", "float64", "--max-examples", "3", "--seed", "1", "--reproducers", str(scripts),
               env={"PYTHONPATH": str(stubs)})
    assert done.returncode == 1 and "standalone reproducers in" in done.stdout, done.stdout + done.stderr
    assert f"{scripts}: 1 of 1 row" in done.stdout, done.stdout
    script = next(scripts.glob("*.py"))
    assert f"the PYTHONPATH the suite ran with ({stubs}" in script.read_text()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for impl, status in ((), 1), (("torch.nn.GRU",), 0):
        run = subprocess.run([sys.executable, str(script), *impl], cwd=elsewhere, env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == status, run.stdout + run.stderr
