"""What a person reads: the compact summary, the closing lines and the progress line."""
import io

from conformance.checks.registry import ROLES
from conformance.report import junit, messages
from conformance.run import options
from conformance.report.messages import Progress, closing_lines, summary
from conformance.report.record import CheckResult
from conformance.targets.loading import default_targets


def row(check, device, dtype, status, ratio=0.0, reason=None, examples=25):
    return CheckResult(check, "torch.nn.GRU", device, dtype, status, examples=examples, worst_ratio=ratio,
                       reason=reason, message=f"FAILED {check} ..." if status == "failed" else None)


RESULTS = [row("forward_matches_oracle", "cpu", "float64", "passed", 0.25),
           row("forward_matches_oracle", "cpu", "float32", "failed", 7e13),
           row("forward_matches_oracle", "cuda", "float64", "skipped", reason="CUDA is not available"),
           row("packed_gradients_match_oracle", "cpu", "float64", "unsupported", reason="packed: declared", examples=0),
           row("packed_gradients_match_oracle", "cpu", "float32", "unsupported", reason="packed: declared", examples=0),
           row("packed_gradients_match_oracle", "cuda", "float64", "skipped", reason="CUDA is not available")]


def test_summary_is_one_line_per_check_with_a_column_per_device_and_dtype_that_ran():
    lines = summary(RESULTS).splitlines()
    assert lines[0].split() == ["check", "target", "cpu", "float64", "cpu", "float32"]  # no cuda column
    assert lines[2].split() == ["forward_matches_oracle", "torch.nn.GRU", "0.25", "FAIL"]
    assert lines[3].split() == ["packed_gradients_match_oracle", "torch.nn.GRU", "unsup", "unsup"]
    assert len(lines) == 4


def test_closing_lines_group_unsupported_rows_and_say_a_skipped_device_once():
    counts = {"passed": 1, "failed": 1, "error": 0, "unsupported": 2, "skipped": 2}
    lines = closing_lines(RESULTS, default_targets()[1:2], counts, 5, "torch x", planned=8)
    assert lines[0] == "FAILED forward_matches_oracle ..."
    assert "unsupported (2 rows) torch.nn.GRU: packed: declared [packed_gradients_match_oracle]" in lines
    assert "skipped 2 rows on cuda: CUDA is not available" in lines
    assert "interrupted: 4 of 6 rows to run finished (2 skipped, 8 planned); the others did not run" in lines
    assert lines[-1] == "1 passed, 1 failed, 0 error, 2 unsupported, 2 skipped  (seed 5, torch x)"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_stays_quiet_elsewhere():
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(2, stream)  # the rows to run: the skipped ones are not counted
        progress.update(RESULTS[2])  # a skipped device: neither done nor left
        progress.update(RESULTS[0])
        progress.update(RESULTS[1])
        progress.finish()
    assert "\r  1/2 rows  0 failed" in terminal.getvalue() and "\r  2/2 rows  1 failed" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r") and log.getvalue() == ""


def test_a_relation_failure_names_both_runs_and_never_calls_one_expected():
    import numpy as np
    import torch
    from conformance.config import RNNConfig
    from conformance.checks.support.tolerances import compare_exact, compare_runs
    config = RNNConfig("LSTM", 2, 3, num_layers=2, bidirectional=True)
    h_n = np.zeros((4, 1, 3))
    other = h_n.copy()
    other[1, 0, 2] = 0.5
    sides = ("forward + reversed runs", "bidirectional module")
    described = compare_runs("h_n", h_n, other, np.full_like(h_n, 1e-9), torch.float64, config, sides).describe()
    assert described.startswith("h_n[1, 0, 2] (layer 0, reverse): forward + reversed runs 0, bidirectional module 0.5")
    assert "expected" not in described and "got" not in described
    exact = compare_exact("c_n", h_n, other, torch.float64, config, ("hx=None", "explicit zeros")).describe()
    assert exact.startswith("c_n[1, 0, 2] (layer 0, reverse): hx=None 0, explicit zeros 0.5")
    other[2, 0, 0] = 9.0
    single = RNNConfig("LSTM", 2, 3, num_layers=3)
    assert "(layer 2)" in compare_exact("grad h0", h_n[:3], other[:3], torch.float64, single).describe()


def test_a_run_counts_rows_in_the_singular_and_plural():
    from conformance.targets.loading import Target
    target = Target("torch.nn.GRU", "gru", None)
    assert messages.header(1, 5, [target]) == "rnn-conformance: 1 row, seed 5, targets torch.nn.GRU"
    assert messages.header(2, 5, [target]).startswith("rnn-conformance: 2 rows, seed 5")


def test_rows_planned_run_and_skipped_are_said_once_the_same_way_everywhere():
    """Issue 39: the header said 1040 rows, the progress counted to 520, and an interrupted run
    said '535 of 1040 rows finished' when 15 had run (520 skipped CUDA rows), its table 125
    lines of dashes.  The header, the progress and the closing line now count the rows to run,
    and the table has a line only for a check that ran."""
    from conformance.targets.loading import Target
    target = Target("torch.nn.GRU", "gru", None)
    assert messages.header(1040, 0, [target], 520) == (
        "rnn-conformance: 1040 rows planned: 520 to run, 520 skipped, seed 0, targets torch.nn.GRU")
    ran = [CheckResult("forward_matches_oracle", "torch.nn.GRU", "cpu", "float64", "passed", worst_ratio=0.1,
                       examples=3)]
    skipped = [CheckResult(check, "torch.nn.GRU", "cuda", "float64", "skipped", reason="no CUDA")
               for check in ("forward_matches_oracle", "gradients_match_oracle")]
    results = ran + skipped
    counts = messages.summarize(results)
    lines = messages.closing_lines(results, [target], counts, 0, "torch x", planned=6, interrupted=True)
    assert "interrupted: 1 of 4 rows to run finished (2 skipped, 6 planned); the others did not run" in lines
    assert not any(line.startswith("nothing was checked") for line in lines)
    table = messages.summary(results).splitlines()
    assert len(table) == 3 and table[2].split()[0] == "forward_matches_oracle"


def test_a_usage_error_under_pytest_names_the_options_as_pytest_takes_them():
    from conformance.errors import UsageError
    error = UsageError("--impl x: cannot infer its kind from its parameters; pass --kind rnn|gru (see --max-examples)")
    line = options.usage_error(error, under_pytest=True)
    assert line == ("rnn-conformance: --rnn-impl x: cannot infer its kind from its parameters; pass --rnn-kind "
                    "rnn|gru (see --rnn-max-examples)")
    assert options.usage_error(error) == f"rnn-conformance: error: {error}"  # the command line's own names


def test_a_junit_classname_has_one_dot_between_the_suite_and_the_target():
    row = CheckResult("forward_matches_oracle", "mypkg.layers:FusedLSTM", "cpu", "float32", "passed")
    assert 'classname="rnn-conformance.mypkg_layers_FusedLSTM"' in junit.junit_xml([row], {})
    assert junit.junit_class("torch.nn.LSTM").count(".") == 1


def test_a_pass_fail_only_row_reads_ok_and_a_bit_exact_relation_reads_0():
    from conformance.run.runner import run_check
    target = next(t for t in default_targets() if t.impl == "torch.nn.GRU")
    shapes = run_check("outputs_have_torch_shapes", target, "cpu", "float64", max_examples=2, seed=1)
    exact = run_check("batch_first_equals_transposed", target, "cpu", "float64", max_examples=2, seed=1)
    assert (shapes.status, shapes.compared, exact.compared) == ("passed", False, True)
    table = summary([shapes, exact])
    assert [line.split()[-1] for line in table.splitlines()[2:]] == ["ok", "0"]
    assert CheckResult.from_dict({k: v for k, v in shapes.as_dict().items() if k != "compared"}).compared


def test_an_exception_is_said_by_the_line_that_states_its_cause():
    """sru's RuntimeError was cut at 300 characters inside its TorchScript traceback, and its
    cause ('expected scalar type Float but found Double') appeared nowhere."""
    from conformance.errors import one_line
    from tests.planted.hostile import TORCHSCRIPT_ERROR
    assert one_line(RuntimeError(TORCHSCRIPT_ERROR)) == "RuntimeError: expected scalar type Float but found Double"
    backtrace = ("expected scalar type Float but found Double\nException raised from check_type at "
                 "aten/src/ATen/core/TensorMethods.cpp:12 (most recent call first):\nframe #0: "
                 "c10::Error::Error(c10::SourceLocation, std::string) + 0x96 (0x7f in libc10.so)\n" + "frame #1: x\n" * 40)
    assert one_line(RuntimeError(backtrace)) == "RuntimeError: expected scalar type Float but found Double"
    assert one_line(ValueError("no traceback:\n  two lines")) == "ValueError: no traceback: two lines"


def test_the_whole_exception_text_is_kept_in_the_report():
    from conformance.run.runner import run_check
    from conformance.targets.loading import load_target
    result = run_check("forward_matches_oracle", load_target("tests.planted.hostile:RaisesTorchScriptErrorGRU"), "cpu",
                       "float64", max_examples=2, seed=0)
    assert result.status == "failed" and "expected scalar type Float but found Double" in result.message
    assert "Traceback of TorchScript" in result.as_dict()["traceback"]


def test_a_relation_that_fails_by_ulps_beside_a_parity_failure_is_listed_under_it_as_a_consequence():
    """Seen on a gate-swap bug in float32: batch_split_matches_whole failed by a few ulps against
    a tolerance computed from the oracle's values, before the parity failure that explains it."""
    def failed(check, family, worst):
        return CheckResult(check, "pkg:LSTM", "cpu", "float32", "failed", worst_ratio=5.0, counterexample=f"c {check}",
                           message=f"FAILED {check}  target=pkg:LSTM\n  worst element: {worst}", family=family)
    relation = failed("batch_split_matches_whole", "metamorphic",
                      "output[0]: rows 0:1 run apart 1, whole batch 1, difference 1e-7, tolerance 2e-8 "
                      "(difference/tolerance 5)")
    against_torch = failed("sequence_equals_cell_loop", "metamorphic",
                           "c_n[0]: sequence module 0.4, torch's cell in a loop 0.1, difference 0.3, tolerance 1e-6 "
                           "(difference/tolerance 3e+05)")
    identical = failed("batch_first_equals_transposed", "metamorphic",
                       "output[0]: this run 1, the other run 2, difference 1 (tolerance 0: the arithmetic is identical)")
    root = failed("forward_matches_oracle", "parity", "output[0]: got 1, expected 0, error 1, tolerance 1e-7")
    results = [relation, against_torch, identical, root]
    assert messages.root_causes(results, {"sequence_equals_cell_loop"}, ROLES) == [relation]
    assert relation.consequence_of == "forward_matches_oracle"
    assert relation.as_dict()["consequence_of"] == "forward_matches_oracle"
    lines = messages.failure_groups(results)
    heading = next(i for i, line in enumerate(lines) if line.startswith("likely the same bug as forward_matches_oracle"))
    assert heading > lines.index(root.message) and lines[heading + 1].startswith("    batch_split_matches_whole  cpu")
    assert against_torch.message in lines and identical.message in lines  # failures of their own
    alone = [failed("batch_split_matches_whole", "metamorphic", "output[0]: ... (difference/tolerance 5)")]
    assert messages.root_causes(alone, set(), ROLES) == []  # without a parity failure it is a root cause


def test_a_packed_state_failure_is_the_root_of_the_checks_it_explains_whatever_their_dtype():
    """The issue-39 user's one bug (a GRU's reverse h_n gathered at lengths - 1 for packed
    input): 25 failed rows, and a float32 batch_split_matches_whole at 2.2x its tolerance that
    was printed as a failure of its own, since only a parity check could be a root and the root
    here is a packing check.  Now the packing row is the root, and the rows its wrong values
    explain (the other packing checks, the gradients through them, the oracle-bounded
    relations) are named under it one line per check; a structural failure and a relation
    against torch's own cell are not."""
    def failed(check, family, dtype, worst, symptom="deviates"):
        return CheckResult(check, "pkg:GRU", "cpu", dtype, "failed", worst_ratio=2.2, counterexample=f"c {check}",
                           message=f"FAILED {check}  target=pkg:GRU\n  worst element: {worst}", family=family,
                           symptom=symptom)
    root = failed("pack_padded_sorted_matches_oracle", "packing", "float64", "h_n[1, 0, 0]: got 1, expected 0")
    same = [failed("pack_sequence_matches_oracle", "packing", d, "h_n[1, 0, 0]: got 1, expected 0")
            for d in ("float64", "float32")]
    gradient = failed("packed_gradients_match_oracle", "gradients", "float16", "grad weight_hh_l0_reverse[2, 0]: ...")
    relation = failed("batch_split_matches_whole", "metamorphic", "float32",
                      "output[0]: rows 0:1 run apart 1, whole batch 1, difference 1e-7 (difference/tolerance 2.2)")
    structural = CheckResult("parameters_receive_gradients", "pkg:GRU", "cpu", "float32", "failed", family="gradients",
                             message="FAILED parameters_receive_gradients\n  what went wrong: weight_hh_l0 has no "
                                     "gradient", symptom="other")
    results = [root] + same + [gradient, relation, structural]
    assert messages.root_causes(results, set(), ROLES) == same + [gradient, relation]
    lines = messages.failure_groups(results)
    assert lines[0] == root.message and structural.message in lines
    heading = lines.index(next(line for line in lines if line.startswith("likely the same bug as pack_padded_sorted")))
    assert "(4 rows:" in lines[heading]
    assert lines[heading + 1].startswith("    pack_sequence_matches_oracle  cpu float64, float32: h_n[1, 0, 0]")
    assert lines[heading + 3].startswith("    batch_split_matches_whole  cpu float32: output[0]")
    assert len(lines) == 1 + 1 + 3 + 1  # the root, the heading, a line per check, the structural failure


def test_the_real_sru_float64_error_is_said_by_its_cause():
    """sru's no-grad CPU op on float64 input (pip install --no-deps sru; skipped without it)."""
    import warnings

    import pytest
    import torch

    from conformance.errors import one_line
    sru = pytest.importorskip("sru")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = sru.SRU(4, 4, num_layers=1).double()
        with torch.no_grad(), pytest.raises(RuntimeError) as raised:
            layer(torch.zeros(3, 2, 4, dtype=torch.float64))
    assert "Traceback of TorchScript" in str(raised.value)
    assert one_line(raised.value) == "RuntimeError: expected scalar type Float but found Double"


def test_a_structural_failure_seen_by_every_check_is_told_once_with_the_rows_it_explains():
    """speechbrain's QuasiRNN returns the last sequence's cell states at every step for c_n: 26
    rows failed, one per check and dtype, each a story of its own.  The rows of other checks
    that went wrong the same way (the same words, numbers aside) at the same target and place
    follow from the first; a different structural failure and another target's are not."""
    def failed(check, said, target="pkg:QRNN", dtype="float64"):
        return CheckResult(check, target, "cpu", dtype, "failed", worst_ratio=0.07, counterexample=f"c {check}",
                           message=f"FAILED {check}  target={target}\n  what went wrong: {said}", family="parity",
                           symptom="other")
    root = failed("forward_matches_oracle", "c_n has shape (1, 1, 1); torch returns (1, 2, 1)")
    again = failed("forward_matches_oracle", "c_n has shape (3, 1, 4); torch returns (3, 2, 4)", dtype="float32")
    same = [failed("batch_split_matches_whole", "c_n has shape (1, 1, 16); torch returns (1, 2, 16)"),
            failed("stacked_equals_composed_layers", "c_n has shape (2, 1, 1); torch returns (2, 3, 1)")]
    other = failed("parameters_receive_gradients", "weight_ih_l0 has no gradient")
    elsewhere = failed("batch_split_matches_whole", "c_n has shape (1, 1, 1); torch returns (1, 2, 1)", target="pkg:B")
    results = [root, again] + same + [other, elsewhere]
    assert messages.root_causes(results, set(), ROLES) == same
    lines = messages.failure_groups(results)
    assert lines[0] == root.message and lines[1] == "  also failed float32"  # no ratio: nothing was compared
    assert lines[2].startswith("the same failure as forward_matches_oracle on pkg:QRNN (2 rows of other checks, "
                               "each calling the target: c_n has shape (#, #, #); torch returns (#, #, #)")
    assert other.message in lines and elsewhere.message in lines
    assert not any(line == same[0].message for line in lines)
