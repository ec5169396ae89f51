"""What ``torch.nn.utils.rnn``'s packing utilities must return, in numpy: ``pack_padded_sequence``,
``pad_packed_sequence``, ``pack_sequence``, ``pad_sequence``, ``unpad_sequence`` and
``unpack_sequence``, with torch's argument names, defaults and refusals.

A packed sequence is ``Packed(data, batch_sizes, sorted_indices, unsorted_indices)``:
``data`` holds step 0 of every sequence (longest first), then step 1 of those still
running, and so on; ``batch_sizes[t]`` is how many run at step t.  Sequences of equal
length keep their order (a stable sort).
"""
from typing import NamedTuple, Optional

import numpy as np


class Packed(NamedTuple):
    data: np.ndarray
    batch_sizes: np.ndarray
    sorted_indices: Optional[np.ndarray] = None
    unsorted_indices: Optional[np.ndarray] = None


def _lengths(lengths, steps, batch):
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be {batch} integers (one per sequence), got {lengths.tolist()!r}")
    if batch and lengths.min() < 1:
        raise ValueError(f"lengths must be at least 1 (torch refuses empty sequences), got {lengths.tolist()}")
    if batch and lengths.max() > steps:
        raise ValueError(f"lengths must be at most the padded length {steps}, got {lengths.tolist()}")
    return lengths


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """input (T, B, *) or (B, T, *) with batch_first; lengths (B,).  With ``enforce_sorted``
    the lengths must not increase and no indices are returned; otherwise the sequences are
    sorted longest first and both permutations returned."""
    x = np.asarray(input)
    if x.ndim < 2:
        raise ValueError(f"input has {x.ndim} dimensions: expected (T, B, *) or (B, T, *)")
    if batch_first:
        x = np.swapaxes(x, 0, 1)
    lengths = _lengths(lengths, x.shape[0], x.shape[1])
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"lengths {lengths.tolist()} must be sorted in decreasing order with enforce_sorted=True")
        order, sorted_indices, unsorted_indices = np.arange(len(lengths)), None, None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, unsorted_indices = order, np.argsort(order)
    sorted_lengths = lengths[order]
    batch_sizes = np.array([int(np.sum(sorted_lengths > t)) for t in range(int(sorted_lengths.max()))])
    data = np.concatenate([x[t, order[:size]] for t, size in enumerate(batch_sizes)], axis=0)
    return Packed(data, batch_sizes, sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded, lengths): padded (T, B, *) or (B, T, *) in the original batch order, T the
    longest length or ``total_length`` (which may not be shorter), padding ``padding_value``;
    lengths (B,) in the original order."""
    data, batch_sizes, _, unsorted = sequence
    batch_sizes = np.asarray(batch_sizes)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"total_length={total_length} is shorter than the longest sequence ({steps})")
        steps = total_length
    padded = np.full((steps, batch) + np.shape(data)[1:], padding_value, dtype=np.asarray(data).dtype)
    offset = 0
    for t, size in enumerate(batch_sizes):
        padded[t, :size] = data[offset:offset + size]
        offset += size
    lengths = np.array([int(np.sum(batch_sizes > b)) for b in range(batch)])
    if unsorted is not None:
        padded, lengths = padded[:, unsorted], lengths[unsorted]
    return (np.swapaxes(padded, 0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Sequences (L_i, *) stacked into (T, B, *) (or (B, T, *)), T the longest, padded with
    ``padding_value`` after each sequence (``padding_side="left"``: before)."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side={padding_side!r}: expected 'right' or 'left'")
    sequences = [np.asarray(s) for s in sequences]
    steps = max(len(s) for s in sequences)
    padded = np.full((steps, len(sequences)) + sequences[0].shape[1:], padding_value, dtype=sequences[0].dtype)
    for b, s in enumerate(sequences):
        if padding_side == "right":
            padded[:len(s), b] = s
        else:
            padded[steps - len(s):, b] = s
    return np.swapaxes(padded, 0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted=True):
    """``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``."""
    return pack_padded_sequence(pad_sequence(sequences), np.array([len(s) for s in sequences]),
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) a padded batch holds, in batch order."""
    padded = np.asarray(padded_sequences)
    if batch_first:
        padded = np.swapaxes(padded, 0, 1)
    lengths = _lengths(lengths, padded.shape[0], padded.shape[1])
    return [padded[:length, b] for b, length in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences a packed sequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences)
    return unpad_sequence(padded, lengths)
