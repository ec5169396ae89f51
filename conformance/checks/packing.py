"""Family 2, packing: packed input gives each sequence's oracle rows and final state, in the caller's order."""
import torch
from torch.nn.utils.rnn import PackedSequence, pack_sequence, pad_packed_sequence

from ..data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, to_torch
from ..errors import CheckFailure
from ..runner import register
from ..strategies import configs
from .oracle import features_of, oracle_comparisons, pack, split_result


def _packed_configs(sorted_lengths):
    def strategy(target):
        features = tuple(f for f in features_of(target) if f != "unbatched")
        return configs(modes=target.modes, features=features, packed=True, sorted_lengths=sorted_lengths)
    return strategy


def _sequence_list(x, config):
    sequences = [x[b, :n] if config.batch_first else x[:n, b] for b, n in enumerate(config.lengths)]
    return pack_sequence(sequences, enforce_sorted=False)


def run_packed(config, ctx, pack):
    """Runs the target on ``pack(x, config)`` and compares the packed output's structure,
    its padded rows and the final states with the oracle over each sequence's length."""
    module, weights = ctx.build(config, make_weights(config))
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    packed = pack(x, config)
    hx = hx_to_torch(make_hx(config), ctx.dtype, ctx.device, config.contiguous)
    result = ctx.call("forward", module, packed) if hx is None else ctx.call("forward", module, packed, hx)
    output, h_n, c_n = split_result(config, result, ctx)
    if not isinstance(output, PackedSequence):
        raise CheckFailure(config, f"output is a {type(output).__name__}; packed input must give a PackedSequence")
    for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        expected, got = getattr(packed, name), getattr(output, name)
        if (expected is None) != (got is None) or (expected is not None and not torch.equal(expected.cpu(), got.cpu())):
            raise CheckFailure(config, f"output.{name} is {got}, expected the input's {expected}")
    padded, _ = pad_packed_sequence(output, batch_first=config.batch_first, total_length=config.steps)
    return oracle_comparisons(config, ctx, padded, h_n, c_n, as_numpy(x), weights, as_numpy(hx))


@register("packing", strategy=_packed_configs(sorted_lengths=True), requires=("packed",))
def check_pack_padded_sorted_matches_oracle(config, ctx):
    """pack_padded_sequence with lengths sorted (enforce_sorted=True) matches the oracle per sequence."""
    return run_packed(config, ctx, lambda x, c: pack(x, c, enforce_sorted=True))


@register("packing", strategy=_packed_configs(sorted_lengths=False), requires=("packed",))
def check_pack_padded_unsorted_matches_oracle(config, ctx):
    """pack_padded_sequence(enforce_sorted=False): rows and states come back in the caller's order."""
    return run_packed(config, ctx, pack)


@register("packing", strategy=_packed_configs(sorted_lengths=False), requires=("packed",))
def check_pack_sequence_matches_oracle(config, ctx):
    """pack_sequence of a list of unequal sequences matches the oracle per sequence."""
    return run_packed(config, ctx, _sequence_list)
