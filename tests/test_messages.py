"""What a person reads: the compact summary, the closing lines and the progress line."""
import io

from conformance.messages import Progress, closing_lines, summary
from conformance.runner import CheckResult
from conformance.targets import default_targets


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
    assert "skipped 2 checks on cuda: CUDA is not available" in lines
    assert "interrupted: 6 of 8 checks finished; the others did not run" in lines
    assert lines[-1] == "1 passed, 1 failed, 0 error, 2 unsupported, 2 skipped  (seed 5, torch x)"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_stays_quiet_elsewhere():
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(3, stream)
        progress.update(RESULTS[2])  # a skipped device: neither done nor left
        progress.update(RESULTS[0])
        progress.update(RESULTS[1])
        progress.finish()
    assert "\r  1/2 checks  0 failed" in terminal.getvalue() and "\r  2/2 checks  1 failed" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r") and log.getvalue() == ""
