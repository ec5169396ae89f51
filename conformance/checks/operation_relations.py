"""Relations between calls of a recurrence operation (kind ``operation``), each within twice the
oracle's bound: a varlen batch equals its sequences run alone (no state leaks across a
boundary); a call cut in two, the second resumed from the first's final state, equals one call
(prefill then decode); every chunk size gives the same result; a permuted batch permutes the
results."""
import numpy as np

from .registry import register
from .support import streams
from .support.operations import call, names, operation_cases, oracle, record_of, rounded
from .support.tolerances import compare_runs
from ..config import OPERATION_KIND

KINDS = (OPERATION_KIND,)


def _per_token(record):
    return [spec.per_token for spec in record.inputs]


def _cut(args, record, start, stop):
    """The inputs of tokens [start, stop) (parameters whole)."""
    return [a[:, start:stop] if token else a for a, token in zip(args, _per_token(record))]


@register("metamorphic", strategy=lambda target: operation_cases(target, varlen=True), kinds=KINDS,
          requires=("varlen",))
def check_varlen_equals_each_sequence_alone(case, ctx):
    """A cu_seqlens batch gives each sequence the outputs and final state it gets alone, from
    its own initial state: no state leaks across a boundary, padding changes nothing; an
    empty sequence keeps its initial state."""
    record = record_of(ctx.target)
    args, state, inputs, given_state = rounded(case, ctx)
    o, finals = call(case, ctx, args, state, lengths="case")
    (_, _), (bound, final_bounds) = oracle(case, ctx, inputs, given_state)
    out_name, state_names = names(record)
    comparisons, sides = [], ("the varlen batch", "the sequence alone")
    offsets = np.concatenate([[0], np.cumsum(case.lengths)])
    for n, (start, stop) in enumerate(zip(offsets[:-1], offsets[1:])):
        own = None if state is None else [s[n:n + 1] for s in state]
        if start == stop:  # an empty sequence: its final state is its initial state (zeros without one)
            alone = [s if own is not None else 0.0 * f[n:n + 1] for s, f in zip(own or finals, finals)]
        else:
            o_alone, alone = call(case, ctx, _cut(args, record, start, stop), own)
            comparisons.append(compare_runs(f"{out_name}[sequence {n}]", o[:, start:stop], o_alone,
                                            bound[:, start:stop], ctx.dtype, case, sides))
        comparisons += [compare_runs(f"{name}[sequence {n}]", f[n:n + 1], a.to(f.dtype), b[n:n + 1], ctx.dtype, case,
                                     sides) for name, f, a, b in zip(state_names, finals, alone, final_bounds)]
    return comparisons


@register("metamorphic", strategy=lambda target: operation_cases(target, varlen=False, min_steps=2), kinds=KINDS,
          requires=("initial_state",))
def check_continuation_equals_one_call(case, ctx):
    """The call on x[:t], then on x[t:] resumed from its final state (the last tokens one at a
    time, as decoding runs), equals one call on x: a chunked prefill whose padding or last
    chunk touches the state diverges here."""
    record = record_of(ctx.target)
    args, state, inputs, given_state = rounded(case, ctx)
    o, finals = call(case, ctx, args, state)
    (_, _), (bound, final_bounds) = oracle(case, ctx, inputs, given_state)
    rng = streams.rng(case.seed, "operation_relation")
    steps = case.steps
    cut = int(rng.integers(1, steps))
    decoded = int(rng.integers(1, 4))  # the last tokens, one call each
    points = sorted({0, cut, *range(max(cut, steps - decoded), steps + 1)})
    outs, carried = [], state
    for start, stop in zip(points[:-1], points[1:]):
        part, carried = call(case, ctx, _cut(args, record, start, stop), carried)
        outs.append(part)
    sides = (f"the call resumed at tokens {points[1:-1]}", "one call")
    out_name, state_names = names(record)
    resumed = outs[0].new_zeros(o.shape)
    for part, start, stop in zip(outs, points[:-1], points[1:]):
        resumed[:, start:stop] = part
    comparisons = [compare_runs(out_name, resumed, o, bound, ctx.dtype, case, sides)]
    comparisons += [compare_runs(name, c.to(f.dtype), f, b, ctx.dtype, case, sides)
                    for name, c, f, b in zip(state_names, carried, finals, final_bounds)]
    return comparisons


@register("metamorphic", strategy=lambda target: operation_cases(target, chunked=True), kinds=KINDS,
          requires=("chunk_size",))
def check_chunk_sizes_agree(case, ctx):
    """Every chunk size the operation accepts gives the same o and final state, within the
    bound: T not a multiple of the chunk and T spanning several chunks included."""
    record = record_of(ctx.target)
    args, state, inputs, given_state = rounded(case, ctx)
    o, finals = call(case, ctx, args, state, lengths="case")
    out_name, state_names = names(record)
    comparisons = []
    for size in ctx.target.chunk_sizes:
        if size == case.chunk_size:
            continue
        other = case.with_(chunk_size=size)
        o_other, finals_other = call(other, ctx, args, state, lengths="case")
        (_, _), (bound, final_bounds) = oracle(other, ctx, inputs, given_state)
        (_, _), (mine, my_finals) = oracle(case, ctx, inputs, given_state)
        sides = (f"chunk_size={case.chunk_size}", f"chunk_size={size}")
        comparisons.append(compare_runs(out_name, o, o_other, np.maximum(bound, mine), ctx.dtype, case, sides))
        comparisons += [compare_runs(name, f, g.to(f.dtype), np.maximum(b, m), ctx.dtype, case, sides)
                        for name, f, g, b, m in zip(state_names, finals, finals_other, final_bounds, my_finals)]
    return comparisons


@register("metamorphic", strategy=lambda target: operation_cases(target, varlen=False, min_batch=2), kinds=KINDS)
def check_operation_batch_permutation_permutes_results(case, ctx):
    """Sequences of a batch are independent: permuting the batch (inputs and initial states)
    permutes o and the final state the same way."""
    record = record_of(ctx.target)
    args, state, inputs, given_state = rounded(case, ctx)
    o, finals = call(case, ctx, args, state)
    (_, _), (bound, final_bounds) = oracle(case, ctx, inputs, given_state)
    order = streams.rng(case.seed, "operation_relation").permutation(case.batch)
    permuted = [a[order] if token else a for a, token in zip(args, _per_token(record))]
    o_p, finals_p = call(case, ctx, permuted, None if state is None else [s[order] for s in state])
    sides = (f"the batch in order {order.tolist()}", "the batch in order")
    out_name, state_names = names(record)
    comparisons = [compare_runs(out_name, o_p, o[order], bound[order], ctx.dtype, case, sides)]
    comparisons += [compare_runs(name, p, f[order], b[order], ctx.dtype, case, sides)
                    for name, p, f, b in zip(state_names, finals_p, finals, final_bounds)]
    return comparisons
