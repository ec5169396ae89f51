"""The suite as pytest tests: one test per planned check x target x device x dtype."""
import warnings

import pytest

from .run.plugin import strict_known
from .report.record import NOT_RUN


def test_conformance(rnn_check_result, request):
    """Passes when the check passed; unsupported and skipped rows are skips that name why
    (and are counted in the rnn-conformance summary); a known difference is an xfail with its
    reason; a stale one warns (fails under --rnn-strict-known); a failure shows the full message."""
    result = rnn_check_result
    if result.status in NOT_RUN:
        pytest.skip(f"{result.status}: {result.reason}")
    if result.status == "known":
        pytest.xfail(result.reason)
    if result.status == "stale":
        if strict_known(request.config):
            pytest.fail(result.reason, pytrace=False)
        warnings.warn(UserWarning(f"{result.check} {result.target}: {result.reason}"))
        return
    if result.status != "passed":
        pytest.fail(result.message, pytrace=False)
