"""The numpy reference of torch.nn.utils.rnn's packing utilities: by hand, against torch's
own functions on drawn lengths (all equal, containing 1, longest not first, many), and
refusing what torch refuses."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from torch.nn.utils import rnn as torch_rnn

from reference import packing


def test_pack_padded_by_hand():
    # three sequences of lengths 3, 1, 2 (batch order), one feature: value = 10 * step + sequence
    x = np.array([[0, 1, 2], [10, 11, 12], [20, 21, 22]], dtype=float)[..., None]
    packed = packing.pack_padded_sequence(x, [3, 1, 2], enforce_sorted=False)
    assert packed.data[:, 0].tolist() == [0, 2, 1, 10, 12, 20]  # step 0 of 0, 2, 1; step 1 of 0, 2; step 2 of 0
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [0, 2, 1] and packed.unsorted_indices.tolist() == [0, 2, 1]
    padded, lengths = packing.pad_packed_sequence(packed, padding_value=-1.0, total_length=4)
    assert lengths.tolist() == [3, 1, 2]
    assert padded[:, :, 0].T.tolist() == [[0, 10, 20, -1], [1, -1, -1, -1], [2, 12, -1, -1]]


@st.composite
def batches(draw):
    batch = draw(st.integers(1, 9))
    steps = draw(st.integers(1, 6))
    lengths = draw(st.one_of(
        st.just([steps] * batch),
        st.lists(st.integers(1, steps), min_size=batch, max_size=batch)))
    return steps, np.array(lengths), draw(st.booleans()), draw(st.integers(0, 2**32 - 1))


@given(batches(), st.booleans(), st.sampled_from([0.0, -1.5]), st.integers(0, 2))
def test_the_reference_agrees_with_torch(case, batch_first, padding_value, extra):
    steps, lengths, enforce_sorted, seed = case
    if enforce_sorted:
        lengths = np.sort(lengths)[::-1].copy()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(steps, len(lengths), 2))
    x_in = np.swapaxes(x, 0, 1) if batch_first else x
    ours = packing.pack_padded_sequence(x_in, lengths, batch_first, enforce_sorted)
    theirs = torch_rnn.pack_padded_sequence(torch.tensor(x_in), torch.tensor(lengths), batch_first, enforce_sorted)
    assert np.array_equal(ours.data, theirs.data.numpy())
    assert np.array_equal(ours.batch_sizes, theirs.batch_sizes.numpy())
    for mine, torchs in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (mine is None and torchs is None) or np.array_equal(mine, torchs.numpy())
    total = max(lengths) + extra
    padded, got_lengths = packing.pad_packed_sequence(ours, batch_first, padding_value, total)
    expected, expected_lengths = torch_rnn.pad_packed_sequence(theirs, batch_first, padding_value, total)
    assert np.array_equal(padded, expected.numpy()) and np.array_equal(got_lengths, expected_lengths.numpy())
    sequences = [rng.normal(size=(int(n), 3)) for n in lengths]
    tensors = [torch.tensor(s) for s in sequences]
    for side in ("right", "left"):
        assert np.array_equal(packing.pad_sequence(sequences, batch_first, padding_value, side),
                              torch_rnn.pad_sequence(tensors, batch_first, padding_value, side).numpy())
    ours, theirs = packing.pack_sequence(sequences, enforce_sorted), torch_rnn.pack_sequence(tensors, enforce_sorted)
    assert np.array_equal(ours.data, theirs.data.numpy())
    for mine, torchs in zip(packing.unpack_sequence(ours), torch_rnn.unpack_sequence(theirs)):
        assert np.array_equal(mine, torchs.numpy())
    for mine, torchs in zip(packing.unpad_sequence(padded, got_lengths, batch_first),
                            torch_rnn.unpad_sequence(expected, expected_lengths, batch_first)):
        assert np.array_equal(mine, torchs.numpy())


@given(batches())
def test_round_trips_return_the_sequences(case):
    steps, lengths, _, seed = case
    sequences = [np.random.default_rng(seed + k).normal(size=(int(n), 2)) for k, n in enumerate(lengths)]
    back = packing.unpack_sequence(packing.pack_sequence(sequences, enforce_sorted=False))
    assert len(back) == len(sequences) and all(np.array_equal(a, b) for a, b in zip(back, sequences))
    padded = packing.pad_sequence(sequences, batch_first=True)
    back = packing.unpad_sequence(padded, lengths, batch_first=True)
    assert all(np.array_equal(a, b) for a, b in zip(back, sequences))


@pytest.mark.parametrize("call", [
    lambda pack: pack(np.zeros((3, 2, 1)), [3, 0], False, False),       # an empty sequence
    lambda pack: pack(np.zeros((3, 2, 1)), [1, 3], False, True),        # unsorted with enforce_sorted
], ids=["zero length", "unsorted"])
def test_refuses_what_torch_refuses(call):
    with pytest.raises(ValueError):
        call(packing.pack_padded_sequence)
    with pytest.raises(RuntimeError):
        call(lambda x, lengths, *args: torch_rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), *args))


def test_refuses_a_length_past_the_padding_where_torch_returns_an_inconsistent_packed_sequence():
    """torch 2.13 on the CPU accepts a length longer than the padded input and returns a
    PackedSequence whose batch_sizes count more rows than its data holds (a torch bug); the
    reference refuses it.  Should torch start refusing it too, that is also accepted here."""
    with pytest.raises(ValueError, match="at most the padded length"):
        packing.pack_padded_sequence(np.zeros((3, 2, 1)), [4, 1], enforce_sorted=False)
    try:
        packed = torch_rnn.pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([4, 1]), enforce_sorted=False)
    except RuntimeError:
        return
    assert int(packed.batch_sizes.sum()) != packed.data.shape[0]


def test_total_length_shorter_than_the_longest_is_refused():
    packed = packing.pack_padded_sequence(np.zeros((3, 1, 1)), [3])
    with pytest.raises(ValueError, match="total_length"):
        packing.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(ValueError):
        torch_rnn.pad_packed_sequence(torch_rnn.pack_padded_sequence(torch.zeros(3, 1, 1), [3]), total_length=2)
