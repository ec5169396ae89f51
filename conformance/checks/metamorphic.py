"""Family 4, metamorphic: relations between two runs of the target that torch semantics imply.

They need no oracle values, so they stay sharp where the oracle's tolerance is wide
(bfloat16, float16).  Runs whose arithmetic is identical (same shapes, same values)
must agree bit for bit; runs that rearrange the work (batch order, splits, layouts,
separate modules) may round differently and are allowed twice the forward error bound.
"""
import warnings

import numpy as np
import torch
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

import reference
from reference.cells import GATE_COUNT

from ..data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, to_torch
from ..errors import CheckFailure, NotRepresentable
from ..registry import register
from ..strategies import configs
from ..tolerances import absolute_floor, compare_either, compare_exact, compare_rate, compare_runs, representable
from .gradients import differentiated, gradient_of, leaves
from .oracle import features_of, pack

#: Dropout probabilities drawn for the dropout relations (1 zeroes every layer input above the first).
DROPOUTS = (0.25, 0.5, 1.0)
#: Probabilities at which kept units must come out scaled by 1 / (1 - p).
PARTIAL_DROPOUTS = (0.25, 0.5)
#: Probabilities and batch of the dropout-rate relation (away from 1/2, so p and 1 - p differ).
RATE_DROPOUTS = (0.2, 0.35)
WIDE_BATCH = 64
#: Chance that a correct dropout fails the rate relation on one example.
RATE_FALSE_ALARM = 1e-9
#: The gate block through which a readout layer sees its input: tanh/ReLU RNN's only
#: block, GRU's n, LSTM's g (the others get zero weights, so they sit at 0 or sigmoid(0)).
READOUT_BLOCK = {"RNN_TANH": 0, "RNN_RELU": 0, "GRU": 2, "LSTM": 2}


def _strategy(packed=None, drop=(), change=None, min_batch=1):
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


def _batch_dim(config):
    return 0 if config.batch_first else 1


def _inputs(config, ctx):
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    return x, hx_to_torch(make_hx(config), ctx.dtype, ctx.device, config.contiguous)


def _states(hx, fn):
    """fn applied to h0 (and c0): hx is None, a tensor, or the LSTM pair."""
    if hx is None:
        return None
    return tuple(fn(part) for part in hx) if isinstance(hx, tuple) else fn(hx)


def run(ctx, module, config, x, hx, lengths=None):
    """(output, h_n, c_n) of module on x, packed with ``lengths`` (enforce_sorted=False) when
    given and then padded back to x's length with zeros."""
    result = ctx.forward(module, config, x if lengths is None else pack(x, config, lengths), hx)
    return (result.padded(config, x.shape[_time_dim(config)]),) + result[1:]


def _time_dim(config):
    return 1 if config.batch_first and config.batch is not None else 0


def _bound(config, ctx, x, weights, hx, lengths=None):
    """The forward error bound of (output, h_n, c_n) for this run (c_n's None without LSTM).
    Raises NotRepresentable when the exact results overflow the dtype: then even a correct
    target may return inf or NaN, and the example says nothing; otherwise the relations
    fail any non-finite value (``compare_runs``)."""
    values, bound = reference.rnn_with_bound(as_numpy(x), weights, ctx.precision, mode=config.mode,
                                             num_layers=config.num_layers, bidirectional=config.bidirectional,
                                             batch_first=config.batch_first, hx=as_numpy(hx), lengths=lengths)
    for value, error in zip(_triple(values, config), _triple(bound, config)):
        if value is not None and not representable(value, error, ctx.dtype):
            raise NotRepresentable(f"the exact results overflow {ctx.dtype}")
    return _triple(bound, config)


def _triple(result, config):
    output, state = result
    return (output,) + (tuple(state) if config.mode == "LSTM" else (state, None))


_NAMES = ("output", "h_n", "c_n")


def identical(label, got, expected, ctx, config):
    """Bitwise comparisons of two (output, h_n, c_n) triples."""
    return [compare_exact(f"{name} {label}", g, e, ctx.dtype, config)
            for name, g, e in zip(_NAMES, got, expected) if e is not None]


def within_runs(label, got, expected, bound, ctx, config):
    """Comparisons of two (output, h_n, c_n) triples within twice the forward bound."""
    return [compare_runs(f"{name} {label}", g, e, b, ctx.dtype, config)
            for name, g, e, b in zip(_NAMES, got, expected, bound) if e is not None]


def _select(triple, config, index):
    """The batch rows ``index`` (a list) of an (output, h_n, c_n) triple, tensors or numpy."""
    take = lambda value, dim: None if value is None else value[(slice(None),) * dim + (index,)]
    output, h_n, c_n = triple
    return take(output, _batch_dim(config)), take(h_n, 1), take(c_n, 1)


@register("metamorphic", strategy=_strategy(drop=("unbatched",), min_batch=2))
def check_batch_permutation_permutes_results(config, ctx):
    """Permuting the batch (input, h0, c0, lengths) permutes output, h_n and c_n the same way."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    order = np.random.default_rng([config.seed, 8]).permutation(config.batch).tolist()
    whole = run(ctx, module, config, x, hx, config.lengths)
    permuted_x = x[(slice(None),) * _batch_dim(config) + (order,)]
    lengths = None if config.lengths is None else [config.lengths[b] for b in order]
    permuted = run(ctx, module, config, permuted_x, _states(hx, lambda h: h[:, order]), lengths)
    bound = _select(_bound(config, ctx, x, weights, hx, config.lengths), config, order)
    return within_runs(f"(batch order {order})", permuted, _select(whole, config, order), bound, ctx, config)


@register("metamorphic", strategy=_strategy(drop=("unbatched",), min_batch=2))
def check_batch_split_matches_whole(config, ctx):
    """Running the batch in two parts gives each part's rows of running it whole."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    cut = int(np.random.default_rng([config.seed, 9]).integers(1, config.batch))
    whole = run(ctx, module, config, x, hx, config.lengths)
    bound = _bound(config, ctx, x, weights, hx, config.lengths)
    comparisons = []
    for part in (list(range(cut)), list(range(cut, config.batch))):
        lengths = None if config.lengths is None else [config.lengths[b] for b in part]
        got = run(ctx, module, config, x[(slice(None),) * _batch_dim(config) + (part,)],
                  _states(hx, lambda h: h[:, part]), lengths)
        comparisons += within_runs(f"(rows {part[0]}:{part[-1] + 1} run apart)", got, _select(whole, config, part),
                                   _select(bound, config, part), ctx, config)
    return comparisons


@register("metamorphic", strategy=_strategy(packed=True), requires=("packed",))
def check_packed_sequence_matches_running_alone(config, ctx):
    """Padding and batch neighbours change nothing: each sequence of a packed batch gives
    what it gives alone, unpadded, as a batch of one."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    whole = run(ctx, module, config, x, hx, config.lengths)
    bound = _bound(config, ctx, x, weights, hx, config.lengths)
    comparisons = []
    for b, length in enumerate(config.lengths):
        steps = (slice(None), slice(0, length)) if config.batch_first else (slice(0, length),)
        alone = x[(slice(None),) * _batch_dim(config) + ([b],)][steps]
        got = run(ctx, module, config, alone, _states(hx, lambda h: h[:, [b]]))
        expected = _select(whole, config, [b])
        expected = (expected[0][steps],) + expected[1:]
        bound_b = _select(bound, config, [b])
        comparisons += within_runs(f"(sequence {b} alone)", got, expected, (bound_b[0][steps],) + bound_b[1:],
                                   ctx, config)
    return comparisons


@register("metamorphic", strategy=_strategy(packed=False, drop=("bidirectional",),
                                            change=lambda c: c.with_(steps=max(c.steps, 2))))
def check_state_continuation_equals_one_run(config, ctx):
    """x[:k] and then x[k:] from the carried state equal one run over x (unidirectional)."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    k = int(np.random.default_rng([config.seed, 10]).integers(1, config.steps))
    whole = run(ctx, module, config, x, hx)
    time = _time_dim(config)
    first = run(ctx, module, config, x.narrow(time, 0, k), hx)
    carried = first[1] if config.mode != "LSTM" else (first[1], first[2])
    second = run(ctx, module, config, x.narrow(time, k, config.steps - k), carried)
    output = torch.cat([first[0], second[0]], dim=time)
    bound = _bound(config, ctx, x, weights, hx)
    return within_runs(f"(steps :{k} then {k}:)", (output,) + second[1:], whole, bound, ctx, config)


@register("metamorphic", strategy=_strategy(packed=False, drop=("unbatched",)), requires=("unbatched",))
def check_unbatched_equals_batch_of_one(config, ctx):
    """Unbatched input (T, I) with hx (L*D, H) gives the batch-of-one results without the batch dimension."""
    config = config.with_(batch=1)
    module, _ = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    batched = run(ctx, module, config, x, hx)
    unbatched_config = config.with_(batch=None)
    got = run(ctx, module, unbatched_config, x.select(_batch_dim(config), 0), _states(hx, lambda h: h[:, 0]))
    expected = tuple(None if v is None else v.select(d, 0) for v, d in zip(batched, (_batch_dim(config), 1, 1)))
    return identical("(unbatched)", got, expected, ctx, unbatched_config)


@register("metamorphic", strategy=_strategy(drop=("batch_first", "unbatched")), requires=("batch_first",))
def check_batch_first_equals_transposed(config, ctx):
    """batch_first=True on (B, T, I) gives the transposed results of batch_first=False on (T, B, I); hx is never transposed."""
    module, weights = ctx.build(config, make_weights(config))
    first_config = config.with_(batch_first=True)
    module_first, _ = ctx.build(first_config, weights)
    x, hx = _inputs(config, ctx)
    expected = run(ctx, module, config, x, hx, config.lengths)
    got = run(ctx, module_first, first_config, x.transpose(0, 1), hx, config.lengths)
    got = (got[0].transpose(0, 1),) + got[1:]
    return within_runs("(batch_first)", got, expected, _bound(config, ctx, x, weights, hx, config.lengths), ctx, config)


@register("metamorphic", strategy=_strategy(drop=("hx",)), requires=("hx",))
def check_hx_none_equals_zeros(config, ctx):
    """hx=None gives bit for bit what explicit zero h0 (and c0) give."""
    module, _ = ctx.build(config, make_weights(config))
    x, _ = _inputs(config, ctx)
    zeros = _states(make_hx(config.with_(with_hx=True)), lambda h: torch.zeros(h.shape, dtype=ctx.dtype, device=ctx.device))
    return identical("(hx=None vs zeros)", run(ctx, module, config, x, None, config.lengths),
                     run(ctx, module, config, x, zeros, config.lengths), ctx, config)


def _layer(config, weights, first, count=1):
    """The config and weights of layers first..first+count-1 as a module of their own."""
    input_size = config.input_size if first == 0 else config.out_size * config.directions
    renamed = {}
    for name, value in weights.items():
        stem, _, rest = name.partition("_l")
        layer, _, reverse = rest.partition("_")
        if first <= int(layer) < first + count:
            renamed[f"{stem}_l{int(layer) - first}" + (f"_{reverse}" if reverse else "")] = value
    return config.with_(num_layers=count, input_size=input_size, dropout=0.0), renamed


def _layer_states(hx, config, layers):
    """The rows of h0 (and c0) for the given layers."""
    rows = slice(layers.start * config.directions, layers.stop * config.directions)
    return _states(hx, lambda h: h[rows])


@register("metamorphic", strategy=_strategy(change=lambda c: c.with_(num_layers=max(c.num_layers, 2))),
          requires=("multi_layer",))
def check_stacked_equals_composed_layers(config, ctx):
    """An L-layer module equals L one-layer modules with the same weights, each fed the previous one's output."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    expected = run(ctx, module, config, x, hx, config.lengths)
    layer_input, finals = x, []
    for layer in range(config.num_layers):
        layer_config, layer_weights = _layer(config, weights, layer)
        layer_module, _ = ctx.build(layer_config, layer_weights)
        out = run(ctx, layer_module, layer_config, layer_input, _layer_states(hx, config, range(layer, layer + 1)),
                  config.lengths)
        layer_input = out[0]
        finals.append(out[1:])
    states = [None if f[0] is None else torch.cat(f) for f in zip(*finals)]
    got = (layer_input, *states)
    return within_runs("(composed of one-layer modules)", got, expected,
                       _bound(config, ctx, x, weights, hx, config.lengths), ctx, config)


def _reverse_each(x, config, lengths):
    """Each sequence's first ``length`` steps reversed in time; padding stays in place."""
    out = x.clone()
    for b, length in enumerate(lengths):
        index = (b, slice(0, length)) if config.batch_first else (slice(0, length), b)
        out[index] = torch.flip(x[index], dims=[0])
    return out


@register("metamorphic", strategy=_strategy(drop=("unbatched",), change=lambda c: c.with_(bidirectional=True, num_layers=1)),
          requires=("bidirectional",))
def check_bidirectional_equals_forward_and_reversed(config, ctx):
    """A bidirectional layer equals a forward layer plus a forward layer with the reverse
    weights run over each sequence reversed within its own length."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = _inputs(config, ctx)
    expected = run(ctx, module, config, x, hx, config.lengths)
    lengths = config.lengths or (config.steps,) * config.batch
    single = config.with_(bidirectional=False)
    halves = []
    for d, suffix in enumerate(("_l0", "_l0_reverse")):
        one_way = {k.replace(suffix, "_l0"): v for k, v in weights.items() if k.endswith(suffix)}
        direction_module, _ = ctx.build(single, one_way)
        given = x if d == 0 else _reverse_each(x, config, lengths)
        halves.append(run(ctx, direction_module, single, given, _states(hx, lambda h: h[d:d + 1]), config.lengths))
    backward_output = _reverse_each(halves[1][0], config, lengths)
    states = [None if a is None else torch.cat([a, b]) for a, b in zip(halves[0][1:], halves[1][1:])]
    got = (torch.cat([halves[0][0], backward_output], dim=-1), *states)
    return within_runs("(forward + reversed runs)", got, expected,
                       _bound(config, ctx, x, weights, hx, config.lengths), ctx, config)


def _with_dropout(config):
    return config.with_(dropout=DROPOUTS[config.seed % len(DROPOUTS)])


def _build_quietly(ctx, config, weights, train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns about dropout with one layer
        return ctx.build(config, weights, train=train)


@register("metamorphic", strategy=_strategy(change=_with_dropout), requires=("dropout",))
def check_eval_mode_ignores_dropout(config, ctx):
    """In eval mode a module built with dropout gives bit for bit what dropout=0 gives, and
    training mode with dropout=0 gives the same within the rounding of another code path."""
    module, weights = _build_quietly(ctx, config, make_weights(config), train=False)
    plain, _ = ctx.build(config.with_(dropout=0.0), weights)
    training, _ = ctx.build(config.with_(dropout=0.0), weights, train=True)
    x, hx = _inputs(config, ctx)
    plain_run = run(ctx, plain, config, x, hx, config.lengths)
    return (identical("(eval mode, dropout)", run(ctx, module, config, x, hx, config.lengths), plain_run, ctx, config)
            + within_runs("(training mode, dropout=0)", run(ctx, training, config, x, hx, config.lengths), plain_run,
                          _bound(config, ctx, x, weights, hx, config.lengths), ctx, config))


@register("metamorphic", strategy=_strategy(change=lambda c: c.with_(dropout=1.0)), requires=("dropout",))
def check_dropout_one_zeroes_only_between_layers(config, ctx):
    """Training with dropout=1 zeroes every layer's input except the first's and nothing
    after the last layer: layer 0 is untouched, each layer above runs on zeros."""
    module, weights = _build_quietly(ctx, config, make_weights(config), train=True)
    x, hx = _inputs(config, ctx)
    torch.manual_seed(config.seed)  # the dropout mask, so that a replay draws the same one
    got = run(ctx, module, config, x, hx, config.lengths)
    first_config, first_weights = _layer(config, weights, 0)
    first, _ = ctx.build(first_config, first_weights)
    layer_hx = _layer_states(hx, config, range(0, 1))
    bottom = run(ctx, first, first_config, x, layer_hx, config.lengths)
    bottom_bound = _bound(first_config, ctx, x, first_weights, layer_hx, config.lengths)
    rows = slice(0, config.directions)
    only_states = lambda triple: (None if config.num_layers > 1 else triple[0],) + tuple(
        None if s is None else s[rows] for s in triple[1:])
    comparisons = within_runs("(layer 0 with dropout=1)", only_states(got), only_states(bottom),
                              only_states(bottom_bound), ctx, config)
    if config.num_layers == 1:
        return comparisons
    zeros = torch.zeros(bottom[0].shape, dtype=ctx.dtype, device=ctx.device)
    comparisons = [comparisons]
    for layer in range(1, config.num_layers):
        layer_config, layer_weights = _layer(config, weights, layer)
        layer_module, _ = ctx.build(layer_config, layer_weights)
        layer_hx = _layer_states(hx, config, range(layer, layer + 1))
        expected = run(ctx, layer_module, layer_config, zeros, layer_hx, config.lengths)
        top = layer == config.num_layers - 1
        expected = (expected[0] if top else None,) + expected[1:]
        rows = slice(layer * config.directions, (layer + 1) * config.directions)
        got_layer = (got[0] if top else None,) + tuple(None if s is None else s[rows] for s in got[1:])
        bound = _bound(layer_config, ctx, zeros, layer_weights, layer_hx, config.lengths)
        comparisons.append(within_runs(f"(layer {layer} on zero input, dropout=1)", got_layer, expected, bound,
                                       ctx, config))
    return [c for part in comparisons for c in part]


def _readout(config, weights):
    """Layer 1 turned into a readout of its input: input unit k reaches hidden unit k of the
    readout block with weight 1; every other weight and bias of layer 1 is zero."""
    hidden, width = config.hidden_size, config.out_size
    w_ih = np.zeros((GATE_COUNT[config.mode] * hidden, width))
    block = READOUT_BLOCK[config.mode] * hidden
    w_ih[block + np.arange(width), np.arange(width)] = 1.0
    readout = {k: (np.zeros_like(v) if k.endswith("_l1") and not k.startswith("weight_hr") else v)
               for k, v in weights.items()}
    readout["weight_ih_l1"] = w_ih
    return readout


def _scaled_dropout_config(config):
    return config.with_(num_layers=2, bidirectional=False, steps=1, with_hx=False,
                        dropout=PARTIAL_DROPOUTS[config.seed % len(PARTIAL_DROPOUTS)])


@register("metamorphic", strategy=_strategy(packed=False, drop=("unbatched",), change=_scaled_dropout_config),
          requires=("dropout", "multi_layer"))
def check_dropout_scales_kept_units(config, ctx):
    """Training with 0 < p < 1: the second layer sees each unit of the first layer's output
    either dropped (0) or kept and scaled by 1 / (1 - p); seen through a readout layer."""
    name, observed, candidates = _readout_run(config, ctx)
    return [compare_either(f"{name}[1] of the readout layer (each unit dropped, or kept and scaled by 1/(1-p))",
                           observed, candidates, ctx.dtype, config)]


def _readout_run(config, ctx):
    """Runs the readout configuration in training mode: returns the observed quantity's name,
    its value (B, H), and its (value, bound) were every unit dropped, and were every unit kept."""
    module, weights = _build_quietly(ctx, config, _readout(config, make_weights(config)), train=True)
    x, _ = _inputs(config, ctx)
    torch.manual_seed(config.seed)  # the dropout mask, so that a replay draws the same one
    _, h_n, c_n = run(ctx, module, config, x, None)
    kept = as_numpy(h_n[0]) / (1.0 - config.dropout)
    layer = {k.replace("_l1", "_l0"): v for k, v in weights.items() if k.endswith("_l1")}
    candidates = []
    for given in (np.zeros_like(kept), kept):
        (_, state), (_, bound) = reference.rnn_with_bound(given[None], layer, ctx.precision, mode=config.mode)
        candidates.append((state[1][0], bound[1][0]) if config.mode == "LSTM" else (state[0], bound[0]))
    if config.mode == "LSTM":
        return "c_n", c_n[1], candidates
    return "h_n", h_n[1], candidates


def _wide_dropout_config(config):
    return _scaled_dropout_config(config).with_(
        batch=WIDE_BATCH, hidden_size=max(config.hidden_size, 24), input_size=max(config.input_size, 8),
        dropout=RATE_DROPOUTS[config.seed % len(RATE_DROPOUTS)])


@register("metamorphic", strategy=_strategy(packed=False, drop=("unbatched",), change=_wide_dropout_config),
          requires=("dropout", "multi_layer"))
def check_dropout_drops_units_at_rate_p(config, ctx):
    """Training with p = 0.2 or 0.35 on a batch of 64: among the units whose dropped and kept
    outcomes cannot be confused, the fraction dropped is p within Hoeffding's bound for one
    false alarm in 10^9 examples."""
    _, observed, ((dropped, e_dropped), (kept, e_kept)) = _readout_run(config, ctx)
    got = as_numpy(observed)
    floor = absolute_floor(ctx.dtype)
    apart = np.abs(dropped - kept) > e_dropped + e_kept + 2.0 * floor  # chosen before looking at the mask
    was_dropped = apart & (np.abs(got - dropped) <= e_dropped + floor)
    was_kept = apart & (np.abs(got - kept) <= e_kept + floor)
    return [compare_rate(f"fraction of units dropped at p={config.dropout:g}", int(was_dropped.sum()),
                         int(was_dropped.sum() + was_kept.sum()), config.dropout, RATE_FALSE_ALARM)]


def _check_dropout_gradient_fits(config, ctx, weights, hx, output, upstream):
    """Raises NotRepresentable when the exact gradient arriving at the dropout (that of layer
    1's input, from the oracle) overflows the dtype: dropping an infinite gradient gives
    inf * 0 = NaN, which is no bug."""
    if isinstance(output, PackedSequence):
        upstream, _ = pad_packed_sequence(output._replace(data=upstream), batch_first=config.batch_first,
                                          total_length=config.steps)
        output, _ = pad_packed_sequence(output, batch_first=config.batch_first, total_length=config.steps)
    upper_config, upper_weights = _layer(config, weights, 1, config.num_layers - 1)
    grads = reference.rnn_backward(np.zeros(tuple(output.shape)), upper_weights, mode=config.mode,
                                   num_layers=upper_config.num_layers, bidirectional=config.bidirectional,
                                   batch_first=config.batch_first, hx=as_numpy(_layer_states(
                                       hx, config, range(1, config.num_layers))),
                                   lengths=config.lengths, grad_output=as_numpy(upstream))
    if not np.max(np.abs(grads["input"]), initial=0.0) <= torch.finfo(ctx.dtype).max / 4:
        raise NotRepresentable("the gradient reaching the dropout overflows the dtype")


def _below_layer_one(name):
    """Whether the gradient ``name`` belongs to the input, layer 0's weights or its h0 (c0) rows."""
    return name == "input" or "_l0" in name or name in ("h0", "c0")


@register("metamorphic", strategy=_strategy(change=lambda c: c.with_(dropout=1.0, num_layers=max(c.num_layers, 2))),
          requires=("dropout", "multi_layer", "backward"))
def check_dropout_one_stops_gradients_below(config, ctx):
    """Training with dropout=1: the output does not depend on layer 0, so its gradient reaches
    neither the input, nor layer 0's weights, nor layer 0's h0 (c0): exactly zero."""
    module, weights = _build_quietly(ctx, config, make_weights(config), train=True)
    x, hx = leaves(config, ctx)
    given = x if config.lengths is None else pack(x, config)
    torch.manual_seed(config.seed)  # the dropout mask, so that a replay draws the same one
    forward = ctx.forward(module, config, given, hx, grad=True)
    output, data = forward.output, forward.output_data
    upstream = to_torch(np.random.default_rng([config.seed, 11]).standard_normal(tuple(data.shape)), ctx.dtype,
                        ctx.device)
    if not data.requires_grad:
        raise CheckFailure(config, "the output does not require grad although the upper layers' weights do")
    _check_dropout_gradient_fits(config, ctx, weights, hx, output, upstream)
    ctx.call("backward", torch.autograd.backward, [data], [upstream])
    comparisons = []
    for name, tensor in differentiated(module, x, hx):
        if not _below_layer_one(name):
            continue
        grad = gradient_of(tensor)
        grad = grad[:config.directions] if name in ("h0", "c0") else grad
        comparisons.append(compare_exact(f"grad {name} (dropout=1 above it)", grad, torch.zeros_like(grad),
                                         ctx.dtype, config))
    return comparisons
