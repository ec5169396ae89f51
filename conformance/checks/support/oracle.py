"""Comparing a target's forward result with ``reference.rnn_with_bound``: shared by the checks."""
import reference

from .data import side_inputs
from .tolerances import compare


def oracle_comparisons(config, ctx, output, states, x, weights, hx):
    """Comparisons of output and the final states (h_n; c_n; any further: ``states`` as a
    ``Forward`` holds them, c_n None for one state) with the oracle on exactly the inputs the
    target received (x, weights, hx as float64 numpy); output past each length must be zero."""
    (ref_out, ref_state), (bound_out, bound_state) = reference.rnn_with_bound(
        x, weights, ctx.precision, mode=config.mode, num_layers=config.num_layers,
        bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
        lengths=config.lengths, side=side_inputs(config, x, ctx.dtype))
    pairs = [("output", output, ref_out, bound_out)]
    if config.paired:
        pairs += list(zip(config.state_names, states, ref_state, bound_state))
    else:
        pairs += [("h_n", states[0], ref_state, bound_state)]
    return [compare(name, got, expected, bound, ctx.dtype, config) for name, got, expected, bound in pairs]
