"""The suite as pytest tests: one test per planned check x target x device x dtype."""
import pytest


def test_conformance(rnn_check_result):
    """Passes when the check passed; unsupported and skipped rows are skips that name why
    (and are counted in the rnn-conformance summary); a failure shows the full message."""
    result = rnn_check_result
    if result.status in ("unsupported", "skipped"):
        pytest.skip(f"{result.status}: {result.reason}")
    if result.status != "passed":
        pytest.fail(result.message, pytrace=False)
