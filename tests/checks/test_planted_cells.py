"""The cell checks against torch's own cells (must pass) and planted cell bugs (must fail, in
float64 and float32, with a full message)."""
import pytest

from tests.planted.cells import PLANTED
from tests.rows import rejected, run
from tests import sweep


@pytest.mark.parametrize("impl, kind", [("torch.nn.RNNCell", "rnn_cell"), ("torch.nn.GRUCell", "gru_cell"),
                                        ("torch.nn.LSTMCell", "lstm_cell")])
def test_torch_cells_pass_and_their_kind_is_inferred(impl, kind):
    targets, results = run(impl, "float64,float32")
    assert targets[0].kind == kind
    assert {r.check for r in results} == {"cell_matches_oracle", "cell_gradients_match_oracle",
                                          "cell_hx_none_equals_zeros", "cell_unbatched_equals_batch_of_one",
                                          "cell_batch_permutation_permutes_results", "cell_batch_split_matches_whole",
                                          "cell_loop_equals_sequence", "cell_parameters_named_like_torch",
                                          "cell_invalid_input_rejected", "cell_parameters_receive_gradients"}
    assert [(r.check, r.message) for r in results if r.status != "passed"] == []
    assert all(r.examples > 0 for r in results)


@pytest.mark.parametrize("bug, check", sweep(PLANTED, fast=4), ids=lambda value: getattr(value, "__name__", value))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_planted_cell_bug_is_rejected(bug, check, dtype):
    impl = f"tests.planted.cells:{bug.__name__}"
    rejected(run(impl, dtype)[1], check, impl, dtype)


def test_a_cell_with_its_own_parameter_names_is_checked_through_its_mapping_hook():
    """Like a layer: --kind names it (its parameters do not say), load_torch_state_dict maps
    torch's names; every check passes but the one about torch's parameter names."""
    _, results = run("tests.planted.cells:CustomNamedGRUCell", "float64,float32", kind="gru_cell")
    status = {(r.check, r.dtype): r.status for r in results}
    assert {s for (check, _), s in status.items() if check == "cell_parameters_named_like_torch"} == {"unsupported"}
    assert [(r.check, r.message) for r in results
            if r.status != "passed" and r.check != "cell_parameters_named_like_torch"] == []


@pytest.mark.parametrize("bug", ["GRUResetBeforeMatmul", "LSTMGateOrderIFOG", "LSTMPaddingUpdatesState",
                                 "GRUInitialStateIgnored"])
def test_a_sequence_module_is_held_to_a_loop_of_torchs_cell(bug):
    """The other direction of cell_loop_equals_sequence: a one-layer sequence module must equal
    torch's cell called in a loop; planted layer bugs fail it, torch's layers pass."""
    def rows(impl):
        return run(impl, "float64,float32", checks="sequence_equals_cell_loop")[1]
    assert {r.status for r in rows(f"tests.planted.bugs:{bug}")} == {"failed"}
    assert {r.status for r in rows(f"tests.planted.torch_rnn:Torch{bug[:3] if bug[:3] != 'LST' else 'LSTM'}")} == {
        "passed"}


def test_a_cell_with_its_own_names_has_its_weight_gradients_compared_through_the_mapping_hook():
    _, results = run("tests.planted.cells:MappedCustomNamedGRUCell", "float64,float32", kind="gru_cell")
    assert [(r.check, r.message) for r in results
            if r.status != "passed" and r.check != "cell_parameters_named_like_torch"] == []
    for dtype in ("float64", "float32"):
        impl = "tests.planted.cells:MappedGRUCellHiddenWeightGradientDoubled"
        failed = rejected(run(impl, dtype, kind="gru_cell", checks="cell_gradients_match_oracle")[1],
                          "cell_gradients_match_oracle", impl, dtype)
        assert "grad weight_hh[" in failed.message
