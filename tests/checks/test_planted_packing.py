"""The packing_utils family against torch's utilities and a correct reimplementation (must pass,
torch's two known bugs aside) and planted bugs (must fail, in float64 and float32, with a full
message), all from the default profile."""
import pytest

from conformance.targets.known import BUILTIN, classify
from tests.planted.packing import PLANTED
from tests.rows import rejected, run
from tests import sweep

CHECKS = {"pack_padded_sequence_matches_reference", "pad_packed_sequence_matches_reference",
          "pack_sequence_matches_reference", "pad_sequence_matches_reference", "unpad_sequence_matches_reference",
          "unpack_sequence_matches_reference", "packing_round_trips", "packing_gradients_match_reference",
          "unpad_sequence_leaves_its_input_unchanged",
          "packing_invalid_input_rejected", "pack_padded_too_long_lengths_rejected"}


def test_a_correct_reimplementation_passes_every_check_and_is_inferred_as_packing_utils():
    targets, results = run("tests.planted.packing:Correct", "float64,float32,bfloat16,float16")
    assert targets[0].kind == "packing_utils" and targets[0].unsupported == {}
    assert {r.check for r in results} == CHECKS
    assert [(r.check, r.dtype, r.message) for r in results if r.status != "passed"] == []
    assert all(r.examples > 0 for r in results)


def test_torch_passes_but_for_its_two_known_bugs_which_the_builtin_entries_name():
    _, results = run("torch.nn.utils.rnn", "float64,float32")
    failing = {r.check for r in results if r.status == "failed"}
    assert failing == {"pack_padded_too_long_lengths_rejected", "unpad_sequence_leaves_its_input_unchanged"}, (
        [(r.check, r.message) for r in results if r.status != "passed"])
    assert {classify(r, BUILTIN, "2.13.0").status for r in results if r.check in failing} == {"known"}


@pytest.mark.parametrize("bug, check", sweep(PLANTED, fast=4), ids=lambda value: getattr(value, "__name__", value))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_planted_packing_bug_is_rejected(bug, check, dtype):
    impl = f"tests.planted.packing:{bug.__name__}"
    row = rejected(run(impl, dtype)[1], check, impl, dtype)
    assert not any(entry.matches(row, "2.13.0") for entry in BUILTIN)


def test_a_provider_missing_utilities_has_their_checks_unsupported(tmp_path, monkeypatch):
    (tmp_path / "halfutils.py").write_text(
        "from tests.planted.packing import Correct\n"
        "pack_padded_sequence = Correct.pack_padded_sequence\n"
        "pad_packed_sequence = Correct.pad_packed_sequence\n"
        "def pad_sequence(sequences, batch_first=False, padding_value=0.0):\n"
        "    return Correct.pad_sequence(sequences, batch_first, padding_value)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    targets, results = run("halfutils", "float64")
    assert targets[0].kind == "packing_utils"
    assert set(targets[0].unsupported) == {"pack_sequence", "unpad_sequence", "unpack_sequence", "padding_side"}
    status = {r.check: r.status for r in results}
    assert status["pack_sequence_matches_reference"] == status["unpack_sequence_matches_reference"] == "unsupported"
    assert status["pad_sequence_matches_reference"] == status["pack_padded_sequence_matches_reference"] == "passed"
    assert status["packing_round_trips"] == status["packing_gradients_match_reference"] == "passed"
