"""Running a target twice and comparing the runs: what the metamorphic and the dropout
relations share (strategies of small configurations, runs padded back to one shape, the
forward bound of a run, bitwise and twice-the-bound comparisons, single layers cut out of a
stack)."""
from hypothesis import strategies as st

import reference
from reference import names

from .data import as_numpy, hx_to_torch, make_hx, make_input, pack, side_inputs, to_torch
from ...errors import NotRepresentable
from .strategies import configs, features_of
from .tolerances import compare_exact, compare_runs, representable


def relation_strategy(packed=None, drop=(), change=None, min_batch=1):
    """Small configurations for a relation: ``drop`` features it cannot use, packed input
    sometimes (None), always or never, then ``change`` applied."""
    def strategy(target):
        features = tuple(f for f in features_of(target) if f not in drop)
        small = dict(modes=target.modes, features=features, max_size=20, max_layers=3, max_steps=7,
                     long_steps=0, min_batch=min_batch, max_batch=5)
        choices = []
        if packed is not True:
            choices.append(configs(**small))
        if packed is not False and target.supports("packed"):
            choices.append(configs(**{**small, "features": tuple(f for f in features if f != "unbatched")},
                                   packed=True))
        drawn = st.one_of(choices)
        return drawn if change is None else drawn.map(change)
    return strategy


def batch_dim(config):
    return 0 if config.batch_first else 1


def inputs(config, ctx):
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    return x, hx_to_torch(make_hx(config), ctx.dtype, ctx.device, config.contiguous)


def map_states(hx, fn):
    """fn applied to h0 (and c0): hx is None, a tensor, or the LSTM pair."""
    if hx is None:
        return None
    return tuple(fn(part) for part in hx) if isinstance(hx, tuple) else fn(hx)


def run(ctx, module, config, x, hx, lengths=None, side=None):
    """(output, h_n, c_n) of module on x, packed with ``lengths`` (enforce_sorted=False) when
    given and then padded back to x's length with zeros; ``side``: the side inputs (default:
    those of x, ``data.side_inputs``)."""
    result = ctx.forward(module, config, x if lengths is None else pack(x, config, lengths), hx, side=side)
    return (result.padded(config, x.shape[time_dim(config)]),) + result[1:]


def time_dim(config):
    return 1 if config.batch_first and config.batch is not None else 0


def forward_bound(config, ctx, x, weights, hx, lengths=None):
    """The forward error bound of (output, h_n, c_n) for this run (c_n's None without LSTM).
    Raises NotRepresentable when the exact results overflow the dtype: then even a correct
    target may return inf or NaN, and the example says nothing; otherwise the relations
    fail any non-finite value (``compare_runs``)."""
    x = as_numpy(x)
    values, bound = reference.rnn_with_bound(x, weights, ctx.precision, mode=config.mode,
                                             num_layers=config.num_layers, bidirectional=config.bidirectional,
                                             batch_first=config.batch_first, hx=as_numpy(hx), lengths=lengths,
                                             side=side_inputs(config, x, ctx.dtype))
    for value, error in zip(triple(values, config), triple(bound, config)):
        if value is not None and not representable(value, error, ctx.dtype):
            raise NotRepresentable(f"the exact results overflow {ctx.dtype}")
    return triple(bound, config)


def triple(result, config):
    """(output, h_n, c_n, further states...) of a result (output, state) of the oracle; c_n None
    for one state."""
    output, state = result
    return (output,) + (tuple(state) if config.paired else (state, None))


def names_of(config):
    """What a message calls each part of a ``triple``: output, h_n, c_n, and any further state."""
    return ("output",) + (config.state_names if config.paired else ("h_n", "c_n"))


def identical(sides, got, other, ctx, config):
    """Bitwise comparisons of two (output, h_n, c_n) triples, the runs named by ``sides``
    (got's, then other's: neither is "expected")."""
    return [compare_exact(name, g, e, ctx.dtype, config, sides)
            for name, g, e in zip(names_of(config), got, other) if e is not None]


def within_runs(sides, got, other, bound, ctx, config):
    """Comparisons of two (output, h_n, c_n) triples within twice the forward bound, the
    runs named by ``sides``."""
    return [compare_runs(name, g, e, b, ctx.dtype, config, sides)
            for name, g, e, b in zip(names_of(config), got, other, bound) if e is not None]


def select(triple, config, index):
    """The batch rows ``index`` (a list) of an (output, h_n, c_n, ...) triple, tensors or numpy."""
    take = lambda value, dim: None if value is None else value[(slice(None),) * dim + (index,)]
    return (take(triple[0], batch_dim(config)),) + tuple(take(state, 1) for state in triple[1:])


def cut_layers(config, weights, first, count=1):
    """The config and weights of layers first..first+count-1 as a module of their own."""
    input_size = config.input_size if first == 0 else config.out_size * config.directions
    return (config.with_(num_layers=count, input_size=input_size, dropout=0.0),
            names.layer_weights(weights, first, count))


def layer_states(hx, config, layers):
    """The rows of h0 (and c0) for the given layers."""
    rows = slice(layers.start * config.directions, layers.stop * config.directions)
    return map_states(hx, lambda h: h[rows])
