"""Layers whose parameters have their own names (a fused LSTM): their weight gradients are
compared through the mapping hook ``rnn_conformance_from_torch``, every trainable parameter
must receive a gradient whatever the names, and a target that can only copy torch's weights
is told that its weight gradients were not compared."""
import pytest

from conformance.report import messages
from tests.rows import rejected, run
from tests import sweep

#: The checks that read gradients (the others do not tell these targets apart).
GRADIENT_CHECKS = "gradients,stacked_regressor_gradients_match_oracle,dropout_one_stops_gradients_below"

#: Planted bug -> the check that must reject it, with the copying hook and with the mapping hook.
PLANTED = [
    ("FusedLSTMDetachedWeights", "parameters_receive_gradients"),
    ("FusedLSTMDetachedBias", "parameters_receive_gradients"),
    ("FusedLSTMFrozenReverse", "parameters_receive_gradients"),
    ("MappedFusedLSTMDetachedWeights", "gradients_match_oracle"),
    ("MappedFusedLSTMDetachedWeights", "parameters_receive_gradients"),
    ("MappedFusedLSTMDetachedBias", "gradients_match_oracle"),
    ("MappedFusedLSTMHalfWeightGradient", "gradients_match_oracle"),
    ("MappedFusedLSTMHalfWeightGradient", "stacked_regressor_gradients_match_oracle"),
    ("MappedFusedLSTMFrozenReverse", "parameters_receive_gradients"),
]


def _run(name, dtypes="float64,float32", checks=GRADIENT_CHECKS):
    return run(f"tests.planted.own_names:{name}", dtypes, kind="lstm", checks=checks)


@pytest.mark.parametrize("name", sweep(["FusedLSTM", "MappedFusedLSTM"], fast=0))  # every dtype: long
def test_correct_own_name_layers_pass(name):
    targets, results = _run(name, "float64,float32,bfloat16,float16", checks=None)
    assert [(r.check, r.dtype, r.status, r.message) for r in results if r.status in ("failed", "error")] == []
    passed = {r.check for r in results if r.status == "passed"}
    assert {"gradients_match_oracle", "parameters_receive_gradients", "forward_matches_oracle"} <= passed
    assert all(r.examples > 0 for r in results if r.status == "passed")


@pytest.mark.parametrize("bug, check", sweep(PLANTED, fast=3), ids=lambda value: value)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_planted_gradient_bug_in_an_own_name_layer_is_rejected(bug, check, dtype):
    impl = f"tests.planted.own_names:{bug}"
    rejected(_run(bug, dtype)[1], check, impl, dtype)


def test_the_mapping_hook_compares_weight_gradients_under_torchs_names():
    """A detached weight behind the hook shows as torch's weight_* gradient being zero."""
    failed = rejected(_run("MappedFusedLSTMDetachedWeights", "float64")[1], "gradients_match_oracle",
                      "tests.planted.own_names:MappedFusedLSTMDetachedWeights", "float64")
    assert "grad weight_" in failed.message and "got 0," in failed.message


def test_a_scaled_gradient_needs_the_mapping_hook_and_the_run_says_so():
    """Halving W's gradient (forward exact) cannot be seen through copies: that target passes,
    and the run says its weight gradients were not compared; behind the hook it fails."""
    targets, results = _run("FusedLSTMHalfWeightGradient")
    assert {r.status for r in results} == {"passed", "unsupported"}
    assert messages.not_compared(targets) == {targets[0].impl: messages.NOT_COMPARED}
    lines = messages.closing_lines(results, targets, messages.summarize(results), 0, "")
    assert any(line.startswith(f"warning: {targets[0].impl}: weight gradients not compared") for line in lines)
    mapped, _ = _run("MappedFusedLSTMHalfWeightGradient", "float64", checks="parameters_receive_gradients")
    assert messages.not_compared(mapped) == {}


def test_a_mistake_in_the_mapping_hook_is_named_as_the_hooks():
    _, results = _run("MappedFusedLSTMMissingBias", "float64", checks="forward_matches_oracle")
    failed = rejected(results, "forward_matches_oracle", "tests.planted.own_names:MappedFusedLSTMMissingBias",
                      "float64")
    assert "rnn_conformance_from_torch misses its parameters ['b_l0']" in failed.message


def test_the_parameter_name_check_is_unsupported_before_any_example():
    _, results = _run("FusedLSTM", "float64", checks="parameters_named_like_torch")
    assert [(r.status, r.examples) for r in results] == [("unsupported", 0)]
    assert results[0].reason == "torch_names: its parameters have their own names, mapped by load_torch_state_dict"


def test_the_documented_worked_hook_maps_as_the_tested_one_does():
    """docs/own-rnn.md's rnn_conformance_from_torch, pasted into the tested layer, returns exactly
    what MappedFusedLSTM's hook returns (so the example cannot drift from what is tested)."""
    import os
    import re

    import torch

    from tests import REPO
    from tests.planted.own_names import MappedFusedLSTM
    readme = open(os.path.join(REPO, "docs", "own-rnn.md")).read()
    body = re.search(r"```python\nclass FusedLSTM\(torch.nn.Module\):\n(.*?)```", readme, re.S).group(1)
    namespace = {"torch": torch, "MappedFusedLSTM": MappedFusedLSTM}
    exec("class FromReadme(MappedFusedLSTM):\n" + body, namespace)
    for bidirectional in (False, True):
        for bias in (False, True):
            layer = namespace["FromReadme"](3, 4, num_layers=2, bidirectional=bidirectional, bias=bias)
            state = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=bidirectional, bias=bias).state_dict()
            got, expected = layer.rnn_conformance_from_torch(state), MappedFusedLSTM.own_parameters(layer, state)
            assert got.keys() == expected.keys() and all(torch.equal(got[k], expected[k]) for k in got)
