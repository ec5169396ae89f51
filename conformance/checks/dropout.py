"""Family 4, metamorphic, continued: the dropout relations.

Dropout draws a random mask, so these relate a run to what each outcome of the mask must
give: eval mode and p=0 equal no dropout; p=1 zeroes every layer's input above the first;
kept units are scaled by 1/(1-p), seen through a readout layer; units drop at rate p; and
with p=1 no gradient reaches below layer 1.
"""
import warnings

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

import reference
from reference import names
from reference.cells import variant

from ..reproduce import hooks
from ..reproduce.claims import assert_dropped_or_kept, assert_requires_grad
from .support import streams
from .support.data import as_numpy, make_weights, pack, to_torch
from ..errors import NotRepresentable
from .registry import register
from .support.tolerances import absolute_floor, compare_either, compare_exact, compare_rate, representable
from .support.backprop import differentiable, differentiated, gradient_of, leaves
from .support.relations import cut_layers, forward_bound, identical, inputs, layer_states, relation_strategy, run, within_runs

#: Dropout probabilities drawn for the dropout relations (1 zeroes every layer input above the first).
DROPOUTS = (0.25, 0.5, 1.0)
#: Probabilities at which kept units must come out scaled by 1 / (1 - p).
PARTIAL_DROPOUTS = (0.25, 0.5)
#: Probabilities and batch of the dropout-rate relation (away from 1/2, so p and 1 - p differ).
RATE_DROPOUTS = (0.2, 0.35)
WIDE_BATCH = 64
#: Chance that a correct dropout fails the rate relation on one example.
RATE_FALSE_ALARM = 1e-9


def _with_dropout(config):
    return config.with_(dropout=DROPOUTS[config.seed % len(DROPOUTS)])


def _build_quietly(ctx, config, weights, train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns about dropout with one layer
        return ctx.build(config, weights, train=train)


def _seed_masks(config, ctx):
    """Seeds torch's generator from the example: a replay (and a reproducer) draws the same masks."""
    ctx.seeded(streams.torch_seed(config.seed, "dropout_mask"))


@register("metamorphic", strategy=relation_strategy(change=_with_dropout), requires=("dropout",))
def check_eval_mode_ignores_dropout(config, ctx):
    """In eval mode a module built with dropout gives bit for bit what dropout=0 gives, and
    training mode with dropout=0 gives the same within the rounding of another code path."""
    module, weights = _build_quietly(ctx, config, make_weights(config), train=False)
    plain, _ = ctx.build(config.with_(dropout=0.0), weights)
    training, _ = ctx.build(config.with_(dropout=0.0), weights, train=True)
    x, hx = inputs(config, ctx)
    plain_run = run(ctx, plain, config, x, hx, config.lengths)
    evaluated = run(ctx, module, config, x, hx, config.lengths)
    trained = run(ctx, training, config, x, hx, config.lengths)
    bound = forward_bound(config, ctx, x, weights, hx, config.lengths)
    return (identical((f"eval mode, dropout={config.dropout:g}", "dropout=0"), evaluated, plain_run, ctx, config)
            + within_runs(("training mode, dropout=0", "eval mode, dropout=0"), trained, plain_run, bound, ctx,
                          config))


def _dropout_one(config):
    return config.with_(dropout=1.0, num_layers=max(config.num_layers, 2))


@register("metamorphic", strategy=relation_strategy(change=_dropout_one), requires=("dropout", "multi_layer"))
def check_dropout_one_zeroes_only_between_layers(config, ctx):
    """Training with dropout=1 zeroes every layer's input except the first's and nothing
    after the last layer: layer 0 is untouched, each layer above runs on zeros (two layers or
    more in every example: one has nothing between layers to drop)."""
    module, weights = _build_quietly(ctx, config, make_weights(config), train=True)
    x, hx = inputs(config, ctx)
    _seed_masks(config, ctx)
    got = run(ctx, module, config, x, hx, config.lengths)
    first_config, first_weights = cut_layers(config, weights, 0)
    first, _ = ctx.build(first_config, first_weights)
    layer_hx = layer_states(hx, config, range(0, 1))
    bottom = run(ctx, first, first_config, x, layer_hx, config.lengths)
    bottom_bound = forward_bound(first_config, ctx, x, first_weights, layer_hx, config.lengths)
    rows = slice(0, config.directions)
    only_states = lambda triple: (None,) + tuple(None if s is None else s[rows] for s in triple[1:])
    comparisons = within_runs(("stack with dropout=1", "layer 0 alone"), only_states(got), only_states(bottom),
                              only_states(bottom_bound), ctx, config)
    zeros = torch.zeros(bottom[0].shape, dtype=ctx.dtype, device=ctx.device)
    comparisons = [comparisons]
    for layer in range(1, config.num_layers):
        layer_config, layer_weights = cut_layers(config, weights, layer)
        layer_module, _ = ctx.build(layer_config, layer_weights)
        layer_hx = layer_states(hx, config, range(layer, layer + 1))
        expected = run(ctx, layer_module, layer_config, zeros, layer_hx, config.lengths)
        top = layer == config.num_layers - 1
        expected = (expected[0] if top else None,) + expected[1:]
        rows = slice(layer * config.directions, (layer + 1) * config.directions)
        got_layer = (got[0] if top else None,) + tuple(None if s is None else s[rows] for s in got[1:])
        bound = forward_bound(layer_config, ctx, zeros, layer_weights, layer_hx, config.lengths)
        comparisons.append(within_runs(("stack with dropout=1", f"layer {layer} alone on zero input"), got_layer,
                                       expected, bound, ctx, config))
    return [c for part in comparisons for c in part]


def _readout(config, weights):
    """Layer 1 turned into a readout of its input: input unit k reaches hidden unit k of the
    readout block with weight 1; every other weight and bias of layer 1 is zero."""
    hidden, width = config.hidden_size, config.out_size
    w_ih = np.zeros((variant(config.mode).gates * hidden, width))
    block = config.torch_variant.readout_block * hidden
    w_ih[block + np.arange(width), np.arange(width)] = 1.0
    readout = {k: (np.zeros_like(v) if names.parse(k)[1] == 1 and not k.startswith("weight_hr") else v)
               for k, v in weights.items()}
    readout[names.name("weight_ih", 1)] = w_ih
    return readout


def _scaled_dropout_config(config):
    return config.with_(num_layers=2, bidirectional=False, steps=1, with_hx=False,
                        dropout=PARTIAL_DROPOUTS[config.seed % len(PARTIAL_DROPOUTS)])


@register("metamorphic", strategy=relation_strategy(packed=False, drop=("unbatched",), change=_scaled_dropout_config),
          requires=("dropout", "multi_layer", "torch_variant"))
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
    x, _ = inputs(config, ctx)
    _seed_masks(config, ctx)
    _, h_n, c_n = run(ctx, module, config, x, None)
    kept = as_numpy(h_n[0]) / (1.0 - config.dropout)
    layer = names.layer_weights(weights, 1)
    candidates = []
    for given in (np.zeros_like(kept), kept):
        (_, state), (_, bound) = reference.rnn_with_bound(given[None], layer, ctx.precision, mode=config.mode)
        candidates.append((state[1][0], bound[1][0]) if config.paired else (state[0], bound[0]))
    if config.paired:
        return "c_n", c_n[1], candidates
    return "h_n", h_n[1], candidates


def _wide_dropout_config(config):
    return _scaled_dropout_config(config).with_(
        batch=WIDE_BATCH, hidden_size=max(config.hidden_size, 24), input_size=max(config.input_size, 8),
        dropout=RATE_DROPOUTS[config.seed % len(RATE_DROPOUTS)])


@register("metamorphic", strategy=relation_strategy(packed=False, drop=("unbatched",), change=_wide_dropout_config),
          requires=("dropout", "multi_layer", "torch_variant"))
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
    neither = int((apart & ~was_dropped & ~was_kept).sum())
    hooks.checked(config, assert_dropped_or_kept, neither, int(apart.sum()), config.dropout)
    return [compare_rate(f"fraction of units dropped at p={config.dropout:g}", int(was_dropped.sum()),
                         int(was_dropped.sum() + was_kept.sum()), config.dropout, RATE_FALSE_ALARM)]


def _check_dropout_gradient_fits(config, ctx, weights, hx, output, upstream):
    """Raises NotRepresentable unless, at every dropout (below each layer l >= 1), the exact
    gradient arriving there and the state gradients of the layers above, widened by the
    oracle's bound on a correct implementation's error in this dtype, stay clear of overflow.
    Otherwise a correct target may carry an infinite gradient into a dropout, and dropping
    it gives inf * 0 = NaN below (IEEE arithmetic, no bug): torch 2.13's float16 LSTM did, at
    the dropout below the top layer, while the gradient at the lowest one was in range."""
    if isinstance(output, PackedSequence):
        upstream, _ = pad_packed_sequence(output._replace(data=upstream), batch_first=config.batch_first,
                                          total_length=config.steps)
        output, _ = pad_packed_sequence(output, batch_first=config.batch_first, total_length=config.steps)
    for first in range(1, config.num_layers):
        upper_config, upper_weights = cut_layers(config, weights, first, config.num_layers - first)
        grads, bounds = reference.rnn_backward_with_bound(
            np.zeros(tuple(output.shape[:-1]) + (upper_config.input_size,)), upper_weights, ctx.precision,
            mode=config.mode, num_layers=upper_config.num_layers, bidirectional=config.bidirectional,
            batch_first=config.batch_first, hx=as_numpy(layer_states(hx, config, range(first, config.num_layers))),
            lengths=config.lengths, grad_output=as_numpy(upstream))
        for name in ("input", "h0", "c0"):
            if name in grads and not representable(grads[name], bounds[name], ctx.dtype):
                raise NotRepresentable(f"the gradient of layer {first}'s {name} may overflow {ctx.dtype}")


def _below_layer_one(name):
    """Whether the gradient ``name`` belongs to the input, layer 0's weights or its h0 (c0) rows."""
    if name in ("input", "h0", "c0"):
        return True
    try:
        return names.parse(name)[1] == 0
    except ValueError:  # a parameter of the target's own beside torch's
        return False


@register("metamorphic", strategy=relation_strategy(change=_dropout_one), requires=("dropout", "multi_layer", "backward"))
def check_dropout_one_stops_gradients_below(config, ctx):
    """Training with dropout=1: the output does not depend on layer 0, so its gradient reaches
    neither the input, nor layer 0's weights, nor layer 0's h0 (c0): exactly zero."""
    module, weights = _build_quietly(ctx, config, make_weights(config), train=True)
    target = differentiable(ctx, module, weights)
    x, hx = leaves(config, ctx)
    given = x if config.lengths is None else pack(x, config)
    _seed_masks(config, ctx)
    forward = ctx.forward(target.call, config, given, hx, grad=True)
    output, data = forward.output, forward.output_data
    upstream = to_torch(streams.rng(config.seed, "dropout_upstream_gradient").standard_normal(tuple(data.shape)), ctx.dtype,
                        ctx.device)
    hooks.holds(config, assert_requires_grad, "the output", [data], "the upper layers' weights do")
    _check_dropout_gradient_fits(config, ctx, weights, hx, output, upstream)
    ctx.call("backward", torch.autograd.backward, [data], [upstream])
    comparisons = []
    for name, tensor in differentiated(target, x, hx):
        if not _below_layer_one(name):
            continue
        grad = gradient_of(tensor)
        grad = grad[:config.directions] if name in ("h0", "c0") else grad
        comparisons.append(compare_exact(f"grad {name} (dropout=1 above it)", grad, torch.zeros_like(grad),
                                         ctx.dtype, config))
    return comparisons
