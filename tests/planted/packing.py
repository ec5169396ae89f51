"""Packing utilities the suite has never seen: ``Correct`` implements torch.nn.utils.rnn's six
functions in plain torch ops (sharing no code with torch's or with the reference), and each
subclass plants one bug in one of them.  A class is a target of kind packing_utils: the suite
reads the functions off it like off a module (``--impl tests.planted.packing:Correct``)."""
import torch
from torch.nn.utils.rnn import PackedSequence


def _inverse(permutation):
    inverse = torch.empty_like(permutation)
    inverse[permutation] = torch.arange(len(permutation), device=permutation.device)
    return inverse


class Correct:
    """The six utilities with torch's contract, refusals included."""

    PackedSequence = PackedSequence

    @classmethod
    def check_lengths(cls, lengths, steps):
        if (lengths < 1).any():
            raise ValueError(f"lengths must be positive, got {lengths.tolist()}")
        if (lengths > steps).any():
            raise ValueError(f"lengths {lengths.tolist()} exceed the padded length {steps}")

    @classmethod
    def pack_padded_sequence(cls, input, lengths, batch_first=False, enforce_sorted=True):
        if torch.is_tensor(lengths) and lengths.device.type != "cpu":
            raise ValueError("lengths must be on the CPU")
        lengths = torch.as_tensor(lengths, dtype=torch.int64)
        x = input.transpose(0, 1) if batch_first else input
        cls.check_lengths(lengths, x.shape[0])
        if enforce_sorted:
            if (lengths[1:] > lengths[:-1]).any():
                raise ValueError(f"lengths {lengths.tolist()} are not sorted longest first")
            order, sorted_indices = torch.arange(len(lengths)), None
        else:
            order = torch.sort(lengths, descending=True, stable=True).indices
            sorted_indices = order.to(input.device)
        return cls.pack_in_order(x, lengths, order, sorted_indices)

    @classmethod
    def pack_in_order(cls, x, lengths, order, sorted_indices):
        running = lengths[order]
        batch_sizes = torch.tensor([int((running > t).sum()) for t in range(int(running[0]))], dtype=torch.int64)
        x = x.index_select(1, order.to(x.device))
        data = torch.cat([x[t, :size] for t, size in enumerate(batch_sizes.tolist())])
        unsorted = None if sorted_indices is None else cls.unsorted_of(sorted_indices)
        return cls.PackedSequence(data, batch_sizes, sorted_indices, unsorted)

    @classmethod
    def unsorted_of(cls, sorted_indices):
        return _inverse(sorted_indices)

    @classmethod
    def pad_packed_sequence(cls, sequence, batch_first=False, padding_value=0.0, total_length=None):
        data, batch_sizes, _, unsorted = sequence
        steps = cls.padded_steps(len(batch_sizes), total_length)
        batch = int(batch_sizes[0])
        out = data.new_full((steps, batch) + tuple(data.shape[1:]), padding_value)
        offset = 0
        for t, size in enumerate(batch_sizes.tolist()):
            out[t, :size] = data[offset:offset + size]
            offset += size
        lengths = torch.tensor([int((batch_sizes > b).sum()) for b in range(batch)], dtype=torch.int64)
        out, lengths = cls.unsort(out, lengths, unsorted)
        return (out.transpose(0, 1) if batch_first else out), lengths

    @classmethod
    def padded_steps(cls, steps, total_length):
        if total_length is not None:
            if total_length < steps:
                raise ValueError(f"total_length {total_length} is shorter than the longest sequence ({steps})")
            steps = total_length
        return steps

    @classmethod
    def unsort(cls, out, lengths, unsorted):
        if unsorted is None:
            return out, lengths
        return out.index_select(1, unsorted), lengths[unsorted.cpu()]

    @classmethod
    def pad_sequence(cls, sequences, batch_first=False, padding_value=0.0, padding_side="right"):
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
        steps = max(s.shape[0] for s in sequences)
        out = sequences[0].new_full((steps, len(sequences)) + tuple(sequences[0].shape[1:]), padding_value)
        for b, s in enumerate(sequences):
            if padding_side == "right":
                out[:s.shape[0], b] = s
            else:
                out[steps - s.shape[0]:, b] = s
        return out.transpose(0, 1) if batch_first else out

    @classmethod
    def pack_sequence(cls, sequences, enforce_sorted=True):
        lengths = torch.tensor([s.shape[0] for s in sequences], dtype=torch.int64)
        return cls.pack_padded_sequence(cls.pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)

    @classmethod
    def unpad_sequence(cls, padded_sequences, lengths, batch_first=False):
        x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
        return [x[b, :int(length)] for b, length in enumerate(lengths)]

    @classmethod
    def unpack_sequence(cls, packed_sequences):
        padded, lengths = cls.pad_packed_sequence(packed_sequences, batch_first=True)
        return cls.unpad_sequence(padded, lengths, batch_first=True)


class PadPackedIgnoresTotalLength(Correct):
    @classmethod
    def padded_steps(cls, steps, total_length):
        return steps


class UnpackReturnsSortedOrder(Correct):
    @classmethod
    def unpack_sequence(cls, packed_sequences):
        data, batch_sizes, _, _ = packed_sequences
        padded, lengths = cls.pad_packed_sequence(cls.PackedSequence(data, batch_sizes), batch_first=True)
        return cls.unpad_sequence(padded, lengths, batch_first=True)


class PackPaddedIgnoresBatchFirst(Correct):
    @classmethod
    def pack_padded_sequence(cls, input, lengths, batch_first=False, enforce_sorted=True):
        return super().pack_padded_sequence(input, lengths, False, enforce_sorted)


class UnsortedIndicesNotInverted(Correct):
    @classmethod
    def unsorted_of(cls, sorted_indices):
        return sorted_indices.clone()


class PadPackedLengthsInSortedOrder(Correct):
    @classmethod
    def unsort(cls, out, lengths, unsorted):
        return (out, lengths) if unsorted is None else (out.index_select(1, unsorted), lengths)


class PadSequenceIgnoresPaddingValue(Correct):
    @classmethod
    def pad_sequence(cls, sequences, batch_first=False, padding_value=0.0, padding_side="right"):
        return super().pad_sequence(sequences, batch_first, 0.0, padding_side)


class PadSequenceIgnoresPaddingSide(Correct):
    @classmethod
    def pad_sequence(cls, sequences, batch_first=False, padding_value=0.0, padding_side="right"):
        return super().pad_sequence(sequences, batch_first, padding_value, "right")


class PackPaddedAcceptsZeroLength(Correct):
    @classmethod
    def check_lengths(cls, lengths, steps):
        super().check_lengths(lengths.clamp(min=1), steps)


class PackPaddedClampsTooLongLengths(Correct):
    @classmethod
    def pack_padded_sequence(cls, input, lengths, batch_first=False, enforce_sorted=True):
        steps = input.shape[1 if batch_first else 0]
        lengths = torch.as_tensor(lengths, dtype=torch.int64).clamp(max=steps)
        return super().pack_padded_sequence(input, lengths, batch_first, enforce_sorted)


class PackPaddedDetachesData(Correct):
    @classmethod
    def pack_padded_sequence(cls, input, lengths, batch_first=False, enforce_sorted=True):
        return super().pack_padded_sequence(input.detach(), lengths, batch_first, enforce_sorted)


class PadPackedDoublesGradient(Correct):
    @classmethod
    def pad_packed_sequence(cls, sequence, batch_first=False, padding_value=0.0, total_length=None):
        data, batch_sizes, sorted_indices, unsorted = sequence
        doubled = data + (data - data.detach())  # the same values, twice the gradient
        return super().pad_packed_sequence(cls.PackedSequence(doubled, batch_sizes, sorted_indices, unsorted),
                                           batch_first, padding_value, total_length)


class PackSequenceSortsCallersList(Correct):
    @classmethod
    def pack_sequence(cls, sequences, enforce_sorted=True):
        if not enforce_sorted:
            sequences.sort(key=len, reverse=True)
        return super().pack_sequence(sequences, enforce_sorted)


class UnpadSequenceTransposesInPlace(Correct):
    @classmethod
    def unpad_sequence(cls, padded_sequences, lengths, batch_first=False):
        if not batch_first:
            padded_sequences.transpose_(0, 1)
        return [padded_sequences[b, :int(length)] for b, length in enumerate(lengths)]


#: (planted bug, the check of the packing_utils family that must reject it).
PLANTED = [
    (PadPackedIgnoresTotalLength, "pad_packed_sequence_matches_reference"),
    (UnpackReturnsSortedOrder, "unpack_sequence_matches_reference"),
    (PackPaddedIgnoresBatchFirst, "pack_padded_sequence_matches_reference"),
    (UnsortedIndicesNotInverted, "pack_padded_sequence_matches_reference"),
    (PadPackedLengthsInSortedOrder, "pad_packed_sequence_matches_reference"),
    (PadSequenceIgnoresPaddingValue, "pad_sequence_matches_reference"),
    (PadSequenceIgnoresPaddingSide, "pad_sequence_matches_reference"),
    (PackPaddedAcceptsZeroLength, "packing_invalid_input_rejected"),
    (PackPaddedClampsTooLongLengths, "pack_padded_too_long_lengths_rejected"),
    (PackPaddedDetachesData, "packing_gradients_match_reference"),
    (PadPackedDoublesGradient, "packing_gradients_match_reference"),
    (PackSequenceSortsCallersList, "pack_sequence_matches_reference"),
    (UnpadSequenceTransposesInPlace, "unpad_sequence_leaves_its_input_unchanged"),
]
