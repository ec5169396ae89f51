"""The suite against a correct pure-torch reimplementation (must pass) and planted bugs (must fail)."""
import warnings

import pytest

from conformance.run import session
from conformance.run.options import resolve
from tests.planted.bugs import ONLY_SEEN_BY, PLANTED
from tests import sweep

#: One fixed seed keeps CI reproducible; other seeds are exercised by the suite's own runs.
SEED = "0"


#: An activation error declared far above float64's roundoff: it must not hide bugs of ordinary size.
DECLARED_ACTIVATION_ERROR = "1e-6"
#: Planted bugs whose whole error is below that declaration: LSTMComputesInFloat32 is off by
#: float32 roundings (~1e-7), which an implementation declaring 1e-6 per activation may make.
BELOW_THE_DECLARATION = ("LSTMComputesInFloat32",)


def run(impl, dtypes, stop_at_failure, activation_error=None, **more):
    """Every row of ``impl`` on the CPU with the fixed seed (``more``: other options by name)."""
    options = resolve({"impl": impl, "devices": "cpu", "dtypes": dtypes, "seed": SEED,
                       "activation-error": activation_error, **more})
    targets = session.targets_for(options)
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for row in session.plan(options, targets, int(SEED)):
            results.append(row.run())
            if stop_at_failure and results[-1].status == "failed":
                break
    return results


@pytest.mark.parametrize("name", sweep(["TorchRNN", "TorchGRU", "TorchLSTM"]))
def test_correct_reimplementation_passes_every_check(name):
    results = run(f"tests.planted.torch_rnn:{name}", "float64,float32", stop_at_failure=False)
    assert [r.message for r in results if r.status != "passed"] == []
    assert all(r.examples > 0 for r in results)


def test_corpus_has_twenty_distinct_planted_bugs():
    assert len({cls for cls, _ in PLANTED}) >= 20 and len({kind for _, kind in PLANTED}) >= 15


@pytest.mark.parametrize("bug", sweep([cls for cls, _ in PLANTED], fast=8), ids=lambda cls: cls.__name__)
def test_planted_bug_is_rejected_by_default_profile(bug):
    results = run(f"tests.planted.bugs:{bug.__name__}", "float64", stop_at_failure=True)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"{bug.__name__} ({bug.__doc__.strip()}) passed every check"
    message = failed[0].message
    for part in (failed[0].check, "target=tests.planted.bugs:", "device=cpu", "dtype=float64",
                 "configuration:", "replay: rnn-conformance"):
        assert part in message
    if bug in ONLY_SEEN_BY:  # every earlier family passed it: only this one can see the bug
        assert failed[0].family == ONLY_SEEN_BY[bug], message
    if failed[0].family == "gradients":  # which gradient is wrong, and where
        assert "worst element: grad " in message


@pytest.mark.parametrize("bug", sweep([cls for cls, _ in PLANTED if cls.__name__ not in BELOW_THE_DECLARATION], fast=4),
                         ids=lambda cls: cls.__name__)
def test_planted_bug_is_rejected_under_a_declared_activation_error(bug):
    """A target declaring sigmoid/tanh accurate to 1e-6 only is still checked sharply enough
    that every planted bug fails some check in float64."""
    results = run(f"tests.planted.bugs:{bug.__name__}", "float64", stop_at_failure=True,
                  activation_error=DECLARED_ACTIVATION_ERROR)
    assert any(r.status == "failed" for r in results), f"{bug.__name__} passed under the declaration"
