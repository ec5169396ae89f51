"""Bugs the suite found in torch itself, recorded where its checks step around them (or where a
built-in known difference, ``known.BUILTIN``, accepts them for torch's own target) so that the
default run stays green on torch.  Each test passes while torch has the bug and also once it is
fixed (then the workaround or the entry can go): it documents, it does not demand the bug."""
import subprocess
import sys

import pytest

UNBATCHED_INPUT_BATCHED_HX = """
import torch
m = torch.nn.{cls}(1, {hidden}, bias=False)
h = torch.zeros({batch}, {hidden})
hx = (h, h.clone()) if "{cls}" == "LSTMCell" else h
try:
    out = m(torch.zeros(1), hx)
    print("returned", flush=True)
except Exception:
    print("raised", flush=True)
"""


def _outcome(cls, batch, hidden):
    done = subprocess.run([sys.executable, "-c", UNBATCHED_INPUT_BATCHED_HX.format(cls=cls, batch=batch, hidden=hidden)],
                          capture_output=True, text=True, timeout=120)
    return done, "crashed" if done.returncode < 0 or done.returncode > 1 else done.stdout.strip()


@pytest.mark.parametrize("cls", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cells_refuse_unbatched_input_with_batched_hx_when_batch_differs_from_hidden_size(cls):
    """What ``cell_invalid_input_rejected`` relies on: hx (B, H) with B != H and input (I,) raises."""
    for batch, hidden in ((2, 1), (4, 3)):
        done, outcome = _outcome(cls, batch, hidden)
        assert outcome == "raised", (cls, batch, hidden, done.returncode, done.stderr[-300:])


@pytest.mark.parametrize("cls", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cells_do_not_refuse_unbatched_input_with_batched_hx_when_batch_equals_hidden_size(cls):
    """torch 2.13 CPU, input (1,) with hx (B, H), B == H: RNNCell returns a result, LSTMCell
    crashes with SIGSEGV (B = H = 1 and 3), GRUCell too at B = H = 1.  So
    ``cell_invalid_input_rejected`` draws B != H for that violation."""
    done, outcome = _outcome(cls, 1, 1)
    assert outcome in ("crashed", "returned", "raised"), (done.returncode, done.stdout, done.stderr[-300:])
    if outcome == "raised":
        pytest.skip(f"{cls} refuses it now: the B != H workaround in cell_invalid_input_rejected can go")


def test_unpad_sequence_transposes_its_input_in_place():
    """torch 2.13's unpad_sequence(batch_first=False) calls ``transpose_`` on the caller's
    tensor (pytorch/pytorch#98499): the built-in known difference
    ``torch-unpad-sequence-transposes-its-input`` accepts what
    ``unpad_sequence_leaves_its_input_unchanged`` reports for torch's target."""
    import torch
    from torch.nn.utils.rnn import unpad_sequence

    padded = torch.zeros(3, 2)
    unpad_sequence(padded, torch.tensor([3, 1]))
    if tuple(padded.shape) == (3, 2):
        pytest.skip("fixed in this torch: drop the built-in entry torch-unpad-sequence-transposes-its-input")
    assert tuple(padded.shape) == (2, 3)


def test_pack_padded_sequence_accepts_a_length_longer_than_the_padded_input():
    """torch 2.13 packs lengths [4, 1] on 3 padded steps and returns batch_sizes counting 5
    rows for 4 rows of data (pytorch/pytorch#146744): the built-in known difference
    ``torch-pack-padded-accepts-too-long-lengths`` accepts what
    ``pack_padded_too_long_lengths_rejected`` reports for torch's target."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    try:
        packed = pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([4, 1]))
    except (RuntimeError, ValueError):
        pytest.skip("fixed in this torch: drop the built-in entry torch-pack-padded-accepts-too-long-lengths")
    assert int(packed.batch_sizes.sum()) != packed.data.shape[0]
