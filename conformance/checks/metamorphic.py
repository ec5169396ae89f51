"""Family 4, metamorphic: relations between two runs of the target that torch semantics imply.

They need no oracle values, so they stay sharp where the oracle's tolerance is wide
(bfloat16, float16).  Runs whose arithmetic is identical (same shapes, same values)
must agree bit for bit; runs that rearrange the work (batch order, splits, layouts,
separate modules) may round differently and are allowed twice the forward error bound.
"""
import torch

import reference
from reference import names
from reference.cells import variant

from ..config import CELL_KINDS
from ..targets.loading import cell_constructor_options
from .registry import register
from .support import streams
from .support.cells import cell_arguments, cell_call, cell_cases, cell_states
from .support.data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, to_torch
from .support.relations import (batch_dim, cut_layers, forward_bound, identical, inputs, layer_states, map_states,
                                relation_strategy, run, select, time_dim, within_runs)
from .support.tolerances import compare, compare_exact, compare_runs


@register("metamorphic", strategy=relation_strategy(drop=("unbatched",), min_batch=2))
def check_batch_permutation_permutes_results(config, ctx):
    """Permuting the batch (input, h0, c0, lengths) permutes output, h_n and c_n the same way."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    order = streams.rng(config.seed, "batch_permutation").permutation(config.batch).tolist()
    whole = run(ctx, module, config, x, hx, config.lengths)
    permuted_x = x[(slice(None),) * batch_dim(config) + (order,)]
    lengths = None if config.lengths is None else [config.lengths[b] for b in order]
    permuted = run(ctx, module, config, permuted_x, map_states(hx, lambda h: h[:, order]), lengths)
    bound = select(forward_bound(config, ctx, x, weights, hx, config.lengths), config, order)
    return within_runs((f"batch permuted to {order}", "whole batch, rows reordered"), permuted,
                       select(whole, config, order), bound, ctx, config)


@register("metamorphic", strategy=relation_strategy(drop=("unbatched",), min_batch=2))
def check_batch_split_matches_whole(config, ctx):
    """Running the batch in two parts gives each part's rows of running it whole."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    cut = int(streams.rng(config.seed, "batch_split").integers(1, config.batch))
    whole = run(ctx, module, config, x, hx, config.lengths)
    bound = forward_bound(config, ctx, x, weights, hx, config.lengths)
    comparisons = []
    for part in (list(range(cut)), list(range(cut, config.batch))):
        lengths = None if config.lengths is None else [config.lengths[b] for b in part]
        got = run(ctx, module, config, x[(slice(None),) * batch_dim(config) + (part,)],
                  map_states(hx, lambda h: h[:, part]), lengths)
        comparisons += within_runs((f"rows {part[0]}:{part[-1] + 1} run apart", "whole batch"), got,
                                   select(whole, config, part), select(bound, config, part), ctx, config)
    return comparisons


@register("metamorphic", strategy=relation_strategy(packed=True), requires=("packed",))
def check_packed_sequence_matches_running_alone(config, ctx):
    """Padding and batch neighbours change nothing: each sequence of a packed batch gives
    what it gives alone, unpadded, as a batch of one."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    whole = run(ctx, module, config, x, hx, config.lengths)
    bound = forward_bound(config, ctx, x, weights, hx, config.lengths)
    comparisons = []
    for b, length in enumerate(config.lengths):
        steps = (slice(None), slice(0, length)) if config.batch_first else (slice(0, length),)
        alone = x[(slice(None),) * batch_dim(config) + ([b],)][steps]
        got = run(ctx, module, config, alone, map_states(hx, lambda h: h[:, [b]]))
        expected = select(whole, config, [b])
        expected = (expected[0][steps],) + expected[1:]
        bound_b = select(bound, config, [b])
        comparisons += within_runs((f"sequence {b} alone", "in the packed batch"), got, expected,
                                   (bound_b[0][steps],) + bound_b[1:], ctx, config)
    return comparisons


@register("metamorphic", strategy=relation_strategy(packed=False, drop=("bidirectional",),
                                            change=lambda c: c.with_(steps=max(c.steps, 2))))
def check_state_continuation_equals_one_run(config, ctx):
    """x[:k] and then x[k:] from the carried state equal one run over x (unidirectional)."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    k = int(streams.rng(config.seed, "continuation_cut").integers(1, config.steps))
    whole = run(ctx, module, config, x, hx)
    time = time_dim(config)
    first = run(ctx, module, config, x.narrow(time, 0, k), hx)
    carried = tuple(first[1:1 + len(config.states)]) if config.paired else first[1]
    second = run(ctx, module, config, x.narrow(time, k, config.steps - k), carried)
    output = torch.cat([first[0], second[0]], dim=time)
    bound = forward_bound(config, ctx, x, weights, hx)
    return within_runs((f"steps :{k} then {k}:", "one run"), (output,) + second[1:], whole, bound, ctx, config)


@register("metamorphic", strategy=relation_strategy(packed=False, drop=("unbatched",)), requires=("unbatched",))
def check_unbatched_equals_batch_of_one(config, ctx):
    """Unbatched input (T, I) with hx (L*D, H) gives the batch-of-one results without the batch dimension."""
    config = config.with_(batch=1)
    module, _ = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    batched = run(ctx, module, config, x, hx)
    unbatched_config = config.with_(batch=None)
    got = run(ctx, module, unbatched_config, x.select(batch_dim(config), 0), map_states(hx, lambda h: h[:, 0]))
    expected = tuple(None if v is None else v.select(d, 0) for v, d in zip(batched, (batch_dim(config), 1, 1)))
    return identical(("unbatched", "batch of one"), got, expected, ctx, unbatched_config)


@register("metamorphic", strategy=relation_strategy(drop=("batch_first", "unbatched")), requires=("batch_first",))
def check_batch_first_equals_transposed(config, ctx):
    """batch_first=True on (B, T, I) gives the transposed results of batch_first=False on (T, B, I); hx is never transposed."""
    module, weights = ctx.build(config, make_weights(config))
    first_config = config.with_(batch_first=True)
    module_first, _ = ctx.build(first_config, weights)
    x, hx = inputs(config, ctx)
    expected = run(ctx, module, config, x, hx, config.lengths)
    got = run(ctx, module_first, first_config, x.transpose(0, 1), hx, config.lengths)
    got = (got[0].transpose(0, 1),) + got[1:]
    bound = forward_bound(config, ctx, x, weights, hx, config.lengths)
    return within_runs(("batch_first=True, transposed", "batch_first=False"), got, expected, bound, ctx, config)


@register("metamorphic", strategy=relation_strategy(drop=("hx",)), requires=("hx", "zero_state"))
def check_hx_none_equals_zeros(config, ctx):
    """hx=None gives bit for bit what explicit zero h0 (and c0) give."""
    module, _ = ctx.build(config, make_weights(config))
    x, _ = inputs(config, ctx)
    zeros = map_states(make_hx(config.with_(with_hx=True)), lambda h: torch.zeros(h.shape, dtype=ctx.dtype, device=ctx.device))
    return identical(("hx=None", "explicit zeros"), run(ctx, module, config, x, None, config.lengths),
                     run(ctx, module, config, x, zeros, config.lengths), ctx, config)


@register("metamorphic", strategy=relation_strategy(change=lambda c: c.with_(num_layers=max(c.num_layers, 2))),
          requires=("multi_layer",))
def check_stacked_equals_composed_layers(config, ctx):
    """An L-layer module equals L one-layer modules with the same weights, each fed the previous one's output."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    expected = run(ctx, module, config, x, hx, config.lengths)
    side = ctx.side_inputs(config, x)  # every layer steps with the input's side inputs (CfC's timespans)
    layer_input, finals = x, []
    for layer in range(config.num_layers):
        layer_config, layer_weights = cut_layers(config, weights, layer)
        layer_module, _ = ctx.build(layer_config, layer_weights)
        out = run(ctx, layer_module, layer_config, layer_input, layer_states(hx, config, range(layer, layer + 1)),
                  config.lengths, side)
        layer_input = out[0]
        finals.append(out[1:])
    states = [None if f[0] is None else torch.cat(f) for f in zip(*finals)]
    got = (layer_input, *states)
    return within_runs(("one-layer modules composed", "stacked module"), got, expected,
                       forward_bound(config, ctx, x, weights, hx, config.lengths), ctx, config)


def _reverse_each(x, config, lengths):
    """Each sequence's first ``length`` steps reversed in time; padding stays in place."""
    out = x.clone()
    for b, length in enumerate(lengths):
        index = (b, slice(0, length)) if config.batch_first else (slice(0, length), b)
        out[index] = torch.flip(x[index], dims=[0])
    return out


@register("metamorphic", strategy=relation_strategy(drop=("unbatched",), change=lambda c: c.with_(bidirectional=True, num_layers=1)),
          requires=("bidirectional",))
def check_bidirectional_equals_forward_and_reversed(config, ctx):
    """A bidirectional layer equals a forward layer plus a forward layer with the reverse
    weights run over each sequence reversed within its own length."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    expected = run(ctx, module, config, x, hx, config.lengths)
    lengths = config.lengths or (config.steps,) * config.batch
    single = config.with_(bidirectional=False)
    halves = []
    for d in range(2):
        direction_module, _ = ctx.build(single, names.layer_weights(weights, 0, direction=d))
        given = x if d == 0 else _reverse_each(x, config, lengths)
        halves.append(run(ctx, direction_module, single, given, map_states(hx, lambda h: h[d:d + 1]), config.lengths))
    backward_output = _reverse_each(halves[1][0], config, lengths)
    states = [None if a is None else torch.cat([a, b]) for a, b in zip(halves[0][1:], halves[1][1:])]
    got = (torch.cat([halves[0][0], backward_output], dim=-1), *states)
    return within_runs(("forward + reversed runs", "bidirectional module"), got, expected,
                       forward_bound(config, ctx, x, weights, hx, config.lengths), ctx, config)




@register("metamorphic", strategy=relation_strategy(drop=("multi_layer", "bidirectional", "proj_size")),
          requires=("torch_variant",), against_torch=True)
def check_sequence_equals_cell_loop(config, ctx):
    """The one-layer sequence equals torch's cell of its kind holding the same weights,
    called step after step with each state fed to the next call (a packed sequence's state
    held after its length): every step's output, and h_n (and c_n), within twice the
    oracle's bound.  The other direction of ``cell_loop_equals_sequence``."""
    module, weights = ctx.build(config, make_weights(config))
    x, hx = inputs(config, ctx)
    got = run(ctx, module, config, x, hx, config.lengths)
    state = {name: torch.as_tensor(value) for name, value in names.layer_as_cell(weights).items()}
    cell = ctx.torch_module(_torch_cell(config), config.torch_variant.cell, (config.input_size, config.hidden_size),
                            cell_constructor_options(config), state)
    expected = _cell_loop(cell, config, x, hx)
    bound = forward_bound(config, ctx, x, weights, hx, config.lengths)
    return within_runs(("sequence module", "torch's cell in a loop"), got, expected, bound, ctx, config)


def _torch_cell(config):
    """torch's single-step cell of the config's variant: the loop a one-layer sequence must equal."""
    value = torch
    for part in config.torch_variant.cell.split(".")[1:]:
        value = getattr(value, part)
    return value


def _cell_loop(cell, config, x, hx):
    """(output, h_n, c_n) of ``cell`` called over x's steps from hx (zeros when None); with
    packed lengths each sequence's state is held after its length and its output is zero
    there, as a padded packed output is."""
    lstm = config.paired
    steps = x.unbind(time_dim(config))
    if hx is None:
        state = tuple(x.new_zeros(steps[0].shape[:-1] + (config.hidden_size,)) for _ in range(2 if lstm else 1))
    else:
        state = tuple(part[0] for part in hx) if lstm else (hx[0],)
    lengths = None if config.lengths is None else torch.tensor(config.lengths, device=x.device).unsqueeze(-1)
    outputs = []
    with torch.no_grad():
        for t, x_t in enumerate(steps):
            new = cell(x_t, state if lstm else state[0])
            new = tuple(new) if lstm else (new,)
            if lengths is not None:
                new = tuple(torch.where(lengths > t, n, s) for n, s in zip(new, state))
                outputs.append(torch.where(lengths > t, new[0], torch.zeros_like(new[0])))
            else:
                outputs.append(new[0])
            state = new
    finals = tuple(s.unsqueeze(0) for s in state)
    return (torch.stack(outputs, time_dim(config)),) + (finals if lstm else (finals[0], None))


# --- single-step cells ----------------------------------------------------------------------

@register("metamorphic", strategy=lambda target: cell_cases(target, drop=("hx",)), kinds=tuple(CELL_KINDS))
def check_cell_hx_none_equals_zeros(config, ctx):
    """hx=None gives bit for bit what explicit zeros give (called after them: a cell that
    remembers its last state when given None fails)."""
    x, _, weights = cell_arguments(config, ctx)
    module, _ = ctx.build(config, weights)
    zeros = torch.zeros(tuple(x.shape[:-1]) + (config.hidden_size,), dtype=ctx.dtype, device=ctx.device)
    explicit = cell_call(ctx, module, config, x, (zeros, zeros.clone()) if config.paired else zeros)
    implicit = cell_call(ctx, module, config, x, None)
    return [compare_exact(name, got, other, ctx.dtype, config, ("hx=None", "explicit zeros"))
            for name, got, other in zip(("h'", "c'"), implicit, explicit) if got is not None]


@register("metamorphic", strategy=lambda target: cell_cases(target, drop=("unbatched",)), kinds=tuple(CELL_KINDS))
def check_cell_unbatched_equals_batch_of_one(config, ctx):
    """One unbatched call (I,) equals the same call as a batch of one (1, I), within twice
    the oracle's bound (the two may take different kernels)."""
    config = config.with_(batch=None)
    x, hx, weights = cell_arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    single = cell_call(ctx, module, config, x, hx)
    lift = lambda t: t.unsqueeze(0)
    batch = cell_call(ctx, module, config.with_(batch=1), lift(x), map_states(hx, lift))
    _, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    return [compare_runs(name, got, other[0], b, ctx.dtype, config, ("unbatched", "batch of one"))
            for name, got, other, b in zip(("h'", "c'"), single, batch, cell_states(bound, config.mode))
            if got is not None]


@register("metamorphic", strategy=lambda target: cell_cases(target, drop=("unbatched",), min_batch=2),
          kinds=tuple(CELL_KINDS))
def check_cell_batch_permutation_permutes_results(config, ctx):
    """Permuting the batch rows of the input and hx permutes h' (and c') the same way,
    within twice the oracle's bound (another batch order may take another kernel path)."""
    x, hx, weights = cell_arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    order = streams.rng(config.seed, "batch_permutation").permutation(config.batch).tolist()
    whole = cell_call(ctx, module, config, x, hx)
    permuted = cell_call(ctx, module, config, x[order], map_states(hx, lambda h: h[order]))
    _, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    return [compare_runs(name, got, other[order], b[order], ctx.dtype, config,
                         (f"batch permuted to {order}", "whole batch, rows reordered"))
            for name, got, other, b in zip(("h'", "c'"), permuted, whole, cell_states(bound, config.mode))
            if got is not None]


@register("metamorphic", strategy=lambda target: cell_cases(target, drop=("unbatched",), min_batch=2),
          kinds=tuple(CELL_KINDS))
def check_cell_batch_split_matches_whole(config, ctx):
    """Calling the cell on two parts of the batch gives each part's rows of calling it on
    the whole batch, within twice the oracle's bound."""
    x, hx, weights = cell_arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    cut = int(streams.rng(config.seed, "batch_split").integers(1, config.batch))
    whole = cell_call(ctx, module, config, x, hx)
    _, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    results = []
    for part in (slice(0, cut), slice(cut, config.batch)):
        got = cell_call(ctx, module, config, x[part], map_states(hx, lambda h: h[part]))
        results += [compare_runs(name, g, w[part], b[part], ctx.dtype, config,
                                 (f"rows {part.start}:{part.stop} called apart", "whole batch"))
                    for name, g, w, b in zip(("h'", "c'"), got, whole, cell_states(bound, config.mode)) if g is not None]
    return results


@register("metamorphic", strategy=lambda target: cell_cases(target, max_steps=8, drop=("unbatched",)),
          kinds=tuple(CELL_KINDS), against_torch=True)
def check_cell_loop_equals_sequence(config, ctx):
    """The cell called step after step over a sequence, each state fed to the next call,
    equals the one-layer sequence with the same weights: every step's h' is the sequence's
    output there, the last state its h_n (and c_n)."""
    weights = names.layer_as_cell(make_weights(config))
    module, weights = ctx.build(config, weights)
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    hx = make_hx(config)
    state = None if hx is None else hx_to_torch(tuple(p[0] for p in hx) if isinstance(hx, tuple) else hx[0],
                                                ctx.dtype, ctx.device)
    outputs = []
    for t in range(config.steps):
        h, c = cell_call(ctx, module, config, x[t], state)
        state = (h, c) if c is not None else h
        outputs.append(h)
    layer = names.cell_as_layer(weights, variant(config.mode).kinds)
    expected, bound = reference.rnn_with_bound(as_numpy(x), layer, ctx.precision, mode=config.mode,
                                               hx=None if hx is None else as_numpy(hx_to_torch(hx, ctx.dtype, "cpu")))
    (out, finals), (out_bound, final_bounds) = [(r[0], cell_states(r[1], config.mode)) for r in (expected, bound)]
    results = [compare("output (the cell's h' at each step)", torch.stack(outputs), out, out_bound, ctx.dtype,
                       config)]
    for name, got, value, b in zip(("h_n", "c_n"), cell_states(state, config.mode), finals, final_bounds):
        results.append(compare(f"{name} (the cell's last state)", got, value[0], b[0], ctx.dtype, config))
    return results
