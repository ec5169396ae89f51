"""Comparing a target's forward result with ``reference.rnn_with_bound``: shared by the checks."""
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import reference

from ..errors import CheckFailure
from ..strategies import FEATURES
from ..tolerances import compare


def features_of(target):
    """The strategy features a target can build."""
    return tuple(f for f in FEATURES if target.supports(f))


def pack(x, config, lengths=None, enforce_sorted=False):
    """``pack_padded_sequence`` of x in the config's layout with ``lengths`` (default: the config's)."""
    lengths = torch.tensor(config.lengths if lengths is None else lengths, dtype=torch.int64)
    return pack_padded_sequence(x, lengths, batch_first=config.batch_first, enforce_sorted=enforce_sorted)


def split_result(config, result, ctx):
    """(output, h_n, c_n or None) from a forward result, after checking its structure,
    dtype and device against torch's contract."""
    lstm = config.mode == "LSTM"
    if not (isinstance(result, tuple) and len(result) == 2):
        raise CheckFailure(config, f"forward returned {type(result).__name__}, expected (output, "
                                   f"{'(h_n, c_n)' if lstm else 'h_n'})")
    output, state = result
    if lstm and not (isinstance(state, tuple) and len(state) == 2):
        raise CheckFailure(config, f"LSTM state is {type(state).__name__}, expected the pair (h_n, c_n)")
    h_n, c_n = state if lstm else (state, None)
    data = output.data if isinstance(output, torch.nn.utils.rnn.PackedSequence) else output
    for name, tensor in (("output", data), ("h_n", h_n), ("c_n", c_n)):
        if tensor is None:
            continue
        if not torch.is_tensor(tensor):
            raise CheckFailure(config, f"{name} is a {type(tensor).__name__}, expected a tensor")
        if tensor.dtype != ctx.dtype or tensor.device.type != torch.device(ctx.device).type:
            raise CheckFailure(config, f"{name} is {tensor.dtype} on {tensor.device}, expected "
                                       f"{ctx.dtype} on {ctx.device}")
    return output, h_n, c_n


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
