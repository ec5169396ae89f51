"""Family 1, oracle parity: a target's forward pass equals ``reference.rnn`` within the error bound."""
import reference

from ..config import CELL_KINDS
from .registry import register
from .support.cells import cell_arguments, cell_cases, cell_result, cell_states
from .support.data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, to_torch
from .support.oracle import oracle_comparisons
from .support.strategies import configs, features_of
from .support.tolerances import compare


def run_forward(config, ctx):
    """Builds the target for config, runs it on the config's input and initial state, and
    returns its comparisons with the oracle."""
    module, weights = ctx.build(config, make_weights(config))
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    hx = hx_to_torch(make_hx(config), ctx.dtype, ctx.device, config.contiguous)
    given = as_numpy(x), as_numpy(hx)  # what the target received, whatever it does to it
    result = ctx.forward(module, config, x, hx)
    return oracle_comparisons(config, ctx, result.output, result[1:], given[0], weights, given[1])


@register("parity", strategy=lambda target: configs(modes=target.modes, features=features_of(target),
                                                    production=True, work_share=0.25))
def check_forward_matches_oracle(config, ctx):
    """Output, h_n and c_n equal the oracle for drawn sizes, layers, directions, layouts, states
    and scales; two draws in three at a production size (widths to 1024, past 512 steps, past 64
    sequences)."""
    return run_forward(config, ctx)


@register("parity", strategy=lambda target: configs(
    modes=target.modes, features=features_of(target), max_size=8, max_steps=4, long_steps=0))
def check_small_shapes_match_oracle(config, ctx):
    """Edge shapes (size 1, length 1, batch 1, unbatched) equal the oracle in every layout."""
    return run_forward(config, ctx)


# --- single-step cells ----------------------------------------------------------------------

@register("parity", strategy=lambda target: cell_cases(target, production=True), kinds=tuple(CELL_KINDS))
def check_cell_matches_oracle(config, ctx):
    """h' (and c') of one cell call equal the oracle for drawn sizes (1 to past 128; three draws in
    five a width to 1024 or a batch past 64), bias,
    hx or None, batched or unbatched, non-contiguous input and weights up to saturating."""
    x, hx, weights = cell_arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    h, c = cell_result(ctx.invoke(module, x, hx), config, x, ctx)
    expected, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    return [compare(name, got, value, b, ctx.dtype, config) for name, got, value, b in
            zip(("h'", "c'"), (h, c), cell_states(expected, config.mode), cell_states(bound, config.mode))]
