"""Comparing a target's forward result with ``reference.rnn_with_bound``: shared by the checks."""
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import reference

from ..strategies import FEATURES
from ..tolerances import compare


def features_of(target):
    """The strategy features a target can build."""
    return tuple(f for f in FEATURES if target.supports(f))


def pack(x, config, lengths=None, enforce_sorted=False):
    """``pack_padded_sequence`` of x in the config's layout with ``lengths`` (default: the config's)."""
    lengths = torch.tensor(config.lengths if lengths is None else lengths, dtype=torch.int64)
    return pack_padded_sequence(x, lengths, batch_first=config.batch_first, enforce_sorted=enforce_sorted)


def oracle_comparisons(config, ctx, output, h_n, c_n, x, weights, hx):
    """Comparisons of output, h_n (and c_n) with the oracle on exactly the inputs the target
    received (x, weights, hx as float64 numpy); output past each length must be zero."""
    (ref_out, ref_state), (bound_out, bound_state) = reference.rnn_with_bound(
        x, weights, ctx.precision, mode=config.mode, num_layers=config.num_layers,
        bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
        lengths=config.lengths)
    pairs = [("output", output, ref_out, bound_out)]
    if config.mode == "LSTM":
        pairs += [("h_n", h_n, ref_state[0], bound_state[0]), ("c_n", c_n, ref_state[1], bound_state[1])]
    else:
        pairs += [("h_n", h_n, ref_state, bound_state)]
    return [compare(name, got, expected, bound, ctx.dtype, config) for name, got, expected, bound in pairs]
