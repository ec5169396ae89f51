"""Real RNN libraries behind torch's contract (``examples/libraries/``), run by the suite.  Outside
the default tests: each test skips unless its library is installed (``tox -e libraries``, or
``pip install --no-deps mingru-pytorch ncps sru``).  What the suite finds there is in the README
and in the compliance table (``docs/compliance.md``); ``benchmarks/compliance.py`` checks each finding's
reproducer against the library and a fixed copy."""
import re

import pytest

from tests.checks import test_planted_bugs as planted_bugs

MINGRU = "examples.libraries.mingru_lib:MinGRUPytorch"


def test_mingru_pytorch_with_positive_states_passes_in_float32():
    pytest.importorskip("minGRU_pytorch")
    results = planted_bugs.run(MINGRU, "float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 14


def test_mingru_pytorch_loses_float64_precision_where_softplus_turns_linear():
    pytest.importorskip("minGRU_pytorch")
    results = planted_bugs.run(MINGRU, "float64", True, checks="forward_matches_oracle,small_shapes_match_oracle")
    failed = [r for r in results if r.status == "failed"]
    assert failed and "worst element: output" in failed[0].message


def test_mingru_pytorch_gives_nan_for_a_negative_initial_state():
    pytest.importorskip("minGRU_pytorch")
    results = planted_bugs.run("examples.libraries.mingru_lib:MinGRUPytorchAnyState", "float32", True,
                               checks="forward_matches_oracle")
    assert results[0].status == "failed" and "got nan" in results[0].message


def test_ncps_cfc_broadcasts_per_sequence_timespans_along_the_units():
    pytest.importorskip("ncps")
    results = planted_bugs.run("examples.libraries.ncps_cfc:NcpsCfC", "float64", True,
                               checks="forward_matches_oracle,small_shapes_match_oracle")
    failed = [r for r in results if r.status == "failed"]
    assert failed, [(r.check, r.status) for r in results]
    # the timespans (one per sequence) broadcast along the units: the output's last axis becomes the
    # batch where the batch and the units differ by more than one (B=2, H=1: width 2), or torch refuses
    # to broadcast them (a size mismatch); a wrong value or any other failure is not this finding
    shapes = re.search(r"output has shape \((\d+), (\d+), (\d+)\); torch returns \(\1, \2, (\d+)\)",
                       failed[0].message)
    assert (shapes and shapes.group(3) == shapes.group(2) != shapes.group(4)) or (
        "must match the size of tensor" in failed[0].message), failed[0].message


def test_sru_passes_in_float32_but_its_no_grad_path_refuses_float64_and_takes_a_wrong_input_size():
    pytest.importorskip("sru")
    results = planted_bugs.run("examples.libraries.sru_lib:SRULibrary", "float32,float64", False,
                               checks="forward_matches_oracle,gradients_match_oracle,invalid_input_rejected")
    by = {(r.check, r.dtype): r for r in results}
    assert by[("forward_matches_oracle", "float32")].status == "passed"
    assert by[("gradients_match_oracle", "float32")].status == "passed"
    assert by[("gradients_match_oracle", "float64")].status == "passed"  # the autograd path computes float64
    assert "expected scalar type Float but found Double" in by[("forward_matches_oracle", "float64")].message
    assert "accepted wrong input size" in by[("invalid_input_rejected", "float32")].message


# --- the matrix-state recurrences: second public implementations, run by the operation checks ---

FLA_NAIVE = ("gated_delta_rule", "gated_delta_rule_chunked", "gla", "linear_attention", "retnet")


def _installed(package):
    import importlib.util
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed (pip install --no-deps {package})")


@pytest.mark.parametrize("op", FLA_NAIVE)
def test_fla_naive_references_agree_with_the_oracle_in_float32(op):
    """FLA's pure-torch references are a second implementation of five records: in float32,
    where they compute, every check that applies passes."""
    _installed("fla")
    pytest.importorskip("einops")
    results = planted_bugs.run(f"examples.libraries.fla_naive:{op}", "float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 4


@pytest.mark.parametrize("op, what", [("gla", "final_state is torch.float32"),
                                      ("gated_delta_rule", "o is torch.float32")])
def test_fla_naive_references_compute_float64_in_float32(op, what):
    """The finding: given float64, they compute in float32 and return float32 (the gated delta
    rule's o too), which the dtype claim names before any value is compared."""
    _installed("fla")
    pytest.importorskip("einops")
    results = planted_bugs.run(f"examples.libraries.fla_naive:{op}", "float64", True,
                               checks="operation_matches_oracle")
    assert results[0].status == "failed" and what in results[0].message, results[0].message
    assert f"its record {op.removesuffix('_chunked')} returns torch.float64" in results[0].message


def test_xlstm_recurrent_step_agrees_with_the_oracle():
    """xLSTM's stabilized mLSTM step, token by token with its states carried: float64 and float32."""
    _installed("xlstm")
    results = planted_bugs.run("examples.libraries.xlstm_mlstm:mlstm", "float64,float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 8


# --- the record's abilities that real libraries needed -----------------------------------------

XLSTM_SLSTM = "examples.libraries.xlstm_slstm:XlstmSLSTM"


def test_xlstm_slstm_cell_passes_with_its_branch_on_a_zero_normalizer_in_the_record():
    """xlstm's vanilla sLSTM step takes m from i~ alone while n is 0: the record says so with
    reference.where(reference.equal(n, 0.0), ...), and every check that applies passes."""
    _installed("xlstm")
    results = planted_bugs.run(XLSTM_SLSTM, "float64,float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 26


def test_xlstm_slstm_cell_with_its_branch_dropped_fails_from_the_zero_state():
    _installed("xlstm")
    results = planted_bugs.run("tests.planted.library_abilities:XlstmSLSTMWithoutBranch", "float64", True,
                               checks="forward_matches_oracle,small_shapes_match_oracle")
    failed = [r for r in results if r.status == "failed"]
    assert failed and re.search(r"worst element: (c_n|n_n|m_n|output|h_n)", failed[0].message), failed[0].message


@pytest.mark.parametrize("layer", ["LiGRU", "SLiGRU"])
def test_speechbrain_light_grus_with_layer_norm_in_the_step_pass(layer):
    """Normalization inside a step needs no primitive of its own: the records write
    torch.nn.LayerNorm with sum_over, sqrt and divide (examples/libraries/variants.py)."""
    _installed("speechbrain")
    pytest.importorskip("tqdm")
    results = planted_bugs.run(f"examples.libraries.speechbrain_rnn:{layer}", "float64,float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 26


@pytest.mark.parametrize("planted", ["LiGRUUnbiasedNorm", "SLiGRUUnbiasedNorm", "SLiGRUWithoutRecurrentNorm"])
def test_a_wrong_layer_norm_in_a_light_gru_fails(planted):
    _installed("speechbrain")
    pytest.importorskip("tqdm")
    results = planted_bugs.run(f"tests.planted.library_abilities:{planted}", "float64", True,
                               checks="forward_matches_oracle")
    assert results[0].status == "failed" and "worst element: output" in results[0].message, results[0].message


def test_speechbrain_quasirnn_returns_the_last_sequences_states_for_c_n():
    """The finding: QuasiRNNLayer returns c[-1] of a batch-first tensor, (T, H), for the final
    state (B, H); told once, with the rows it explains under it."""
    _installed("speechbrain")
    pytest.importorskip("tqdm")
    from conformance.checks.registry import ROLES
    from conformance.report import messages
    results = planted_bugs.run("examples.libraries.speechbrain_rnn:QuasiRNN", "float64", False)
    failed = [r for r in results if r.status == "failed"]
    assert failed and all("c_n has shape" in r.message for r in failed)
    marked = messages.root_causes(results, set(), ROLES)
    assert len(marked) == len(failed) - 1  # one story, the others under it


def test_mambapy_selective_scan_agrees_with_the_oracle():
    """mambapy's Blelloch parallel scan of S6, one roundoff a step declared for the regrouped
    products: float64 and float32 pass."""
    _installed("mambapy")
    results = planted_bugs.run("examples.libraries.mambapy_scan:selective_scan", "float64,float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 6


@pytest.mark.parametrize("op", ["recurrent_gated_delta_rule", "chunk_gated_delta_rule"])
def test_transformers_gated_delta_rule_fallbacks_pass_in_float32_and_compute_float64_in_float32(op):
    _installed("transformers")
    impl = f"examples.libraries.transformers_fallbacks:{op}"
    results = planted_bugs.run(impl, "float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    results = planted_bugs.run(impl, "float64", True, checks="operation_matches_oracle")
    assert results[0].status == "failed" and "final_state is torch.float32" in results[0].message


def test_brevitas_float_layers_fail_only_on_a_stacked_state_and_unchecked_shapes():
    """With every quantizer off, brevitas' QuantRNN computes torch's RNN; a one-directional stack
    given h0 raises IndexError (hx[2 l + d]), and wrong shapes are taken."""
    _installed("brevitas")
    results = planted_bugs.run("examples.libraries.brevitas_rnn:QuantRNN", "float64", False)
    failed = [r for r in results if r.status == "failed"]
    assert failed and all("IndexError: index" in r.message or "and returned a result" in r.message
                          for r in failed), [r.message for r in failed]
    assert sum(r.status == "passed" for r in results) >= 5


def test_a_parameter_of_fixed_size_is_drawn_loaded_and_read_and_a_misplaced_one_fails():
    """A record may name a fixed size ((1,) or ("1",)): the worked example passes every check it
    can, and the gain moved after tanh fails."""
    results = planted_bugs.run("examples.gained_rnn:GainedRNN", "float64,float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 40
    results = planted_bugs.run("tests.planted.library_abilities:GainedRNNAfterTanh", "float64", True,
                               checks="forward_matches_oracle")
    assert results[0].status == "failed" and "worst element" in results[0].message


def test_a_fixed_size_is_a_positive_whole_number_and_a_first_state_not_h_says_why():
    import reference
    from examples.gained_rnn_variant import gained_cell
    with pytest.raises(ValueError, match="a fixed size such as 1"):
        reference.Variant("X", gates=1, states=("h",), step=gained_cell,
                          parameters=(("weight_ih", ("H", "I")), ("weight_g", ("0",))))
    with pytest.raises(ValueError, match="h is what the layer outputs"):
        reference.Variant("X", gates=1, states=("c", "h"), step=gained_cell)


def test_speechbrain_relative_lengths_lose_a_step_where_float32_rounds_them_down():
    """speechbrain's LSTM turns wav_lens back into steps by truncation: a packed row of the suite
    whose lengths hit such a pair fails (100 examples: 25 reach one in a seed of six)."""
    _installed("speechbrain")
    pytest.importorskip("tqdm")
    results = planted_bugs.run("examples.libraries.speechbrain_rnn:LSTM", "float64", False,
                               checks="pack_padded_unsorted_matches_oracle,pack_padded_sorted_matches_oracle,"
                                      "pack_sequence_matches_oracle", **{"max-examples": "100"})
    failed = [r for r in results if r.status == "failed"]
    assert failed and all(re.search(r"Length of all samples|worst element: (output|h_n|c_n)", r.message)
                          for r in failed), [r.message for r in failed]
