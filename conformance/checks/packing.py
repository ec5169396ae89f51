"""Family 2, packing: packed input gives each sequence's oracle rows and final state, in the caller's order."""
from torch.nn.utils.rnn import pack_sequence

from .support.data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, pack, to_torch
from .registry import register
from .support.strategies import configs, features_of
from .support.oracle import oracle_comparisons


def _packed_configs(sorted_lengths, production=False):
    def strategy(target):
        features = tuple(f for f in features_of(target) if f != "unbatched")
        return configs(modes=target.modes, features=features, packed=True, sorted_lengths=sorted_lengths,
                       production=production, work_share=0.1)
    return strategy


def _sequence_list(x, config):
    sequences = [x[b, :n] if config.batch_first else x[:n, b] for b, n in enumerate(config.lengths)]
    return pack_sequence(sequences, enforce_sorted=False)


def run_packed(config, ctx, pack):
    """Runs the target on ``pack(x, config)`` and compares the packed output's structure,
    its padded rows and the final states with the oracle over each sequence's length."""
    module, weights = ctx.build(config, make_weights(config))
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    hx = hx_to_torch(make_hx(config), ctx.dtype, ctx.device, config.contiguous)
    x_np, hx_np = as_numpy(x), as_numpy(hx)
    result = ctx.forward(module, config, pack(x, config), hx)  # the boundary checks the packed fields
    return oracle_comparisons(config, ctx, result.padded(config, config.steps), result[1:], x_np, weights, hx_np)


@register("packing", strategy=_packed_configs(sorted_lengths=True), requires=("packed",))
def check_pack_padded_sorted_matches_oracle(config, ctx):
    """pack_padded_sequence with lengths sorted (enforce_sorted=True) matches the oracle per sequence."""
    return run_packed(config, ctx, lambda x, c: pack(x, c, enforce_sorted=True))


@register("packing", strategy=_packed_configs(sorted_lengths=False, production=True), requires=("packed",))
def check_pack_padded_unsorted_matches_oracle(config, ctx):
    """pack_padded_sequence(enforce_sorted=False): rows and states come back in the caller's order,
    for batches past 64 sequences and sequences past 512 steps too."""
    return run_packed(config, ctx, pack)


@register("packing", strategy=_packed_configs(sorted_lengths=False), requires=("packed",))
def check_pack_sequence_matches_oracle(config, ctx):
    """pack_sequence of a list of unequal sequences matches the oracle per sequence."""
    return run_packed(config, ctx, _sequence_list)
