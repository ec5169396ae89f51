"""The checks of a recurrence operation (kind ``operation``) against the oracle: o and the final
state (parity), the gradients with respect to every input and the initial state (gradients).
A float64 call only as accurate as float32 says so.  The relations between calls are in
``operation_relations``."""
from dataclasses import replace

import numpy as np
import torch

import reference

from .registry import register
from .support import streams
from .support.backprop import gradient_of
from .support.data import as_numpy, to_torch
from .support.operations import call, names, operation_cases, oracle, record_of, rounded
from .support.tolerances import compare, precision_for
from ..config import OPERATION_KIND

KINDS = (OPERATION_KIND,)


@register("parity", strategy=operation_cases, kinds=KINDS)
def check_operation_matches_oracle(case, ctx):
    """o and the final state equal the oracle for drawn sizes, grouped heads, tokens (one to
    past several chunks), varlen batches with empty and one-token sequences, initial states,
    scales, chunk sizes and log-decays from 0 down to -30 a token."""
    record = record_of(ctx.target)
    args, state, inputs, given_state = rounded(case, ctx)
    o, finals = call(case, ctx, args, state, lengths="case")
    (expected, expected_finals), (bound, final_bounds) = oracle(case, ctx, inputs, given_state)
    out_name, state_names = names(record)
    comparisons = [compare(out_name, o, expected, bound, ctx.dtype, case)]
    comparisons += [compare(name, got, value, b, ctx.dtype, case)
                    for name, got, value, b in zip(state_names, finals, expected_finals, final_bounds)]
    return _float32_note(case, ctx, comparisons, inputs, given_state)


def _float32_note(case, ctx, comparisons, inputs, state):
    """A float64 call that fails only as far as float32 arithmetic would err says so: its
    worst comparison notes that it is within float32's bound (float64 computed in float32)."""
    worst = max(comparisons, key=lambda c: c.ratio)
    if ctx.dtype != torch.float64 or worst.passed:
        return comparisons
    single = replace(ctx, dtype=torch.float32)
    (expected, finals), (bound, final_bounds) = oracle(case, single, inputs, state)
    by_name = dict(zip(names(record_of(ctx.target))[1], zip(finals, final_bounds)), o=(expected, bound))
    value, b = by_name[worst.quantity]
    loose = np.asarray(b)[worst.index] + precision_for(ctx.device, torch.float32).underflow
    if worst.error <= loose:
        note = (f"within float32's bound {loose:.3g} there: float64 inputs computed in float32")
        comparisons[comparisons.index(worst)] = replace(worst, note=note)
    return comparisons


def _gradient_cases(target):
    return operation_cases(target, max_steps=8, long_steps=96)


@register("gradients", strategy=_gradient_cases, kinds=KINDS, requires=("backward",))
def check_operation_gradients_match_oracle(case, ctx):
    """Gradients with respect to every input and the initial state equal the oracle's
    backward for a drawn upstream gradient of o and of the final state."""
    record = record_of(ctx.target)
    args, state, inputs, given_state = rounded(case, ctx, grad=True)
    o, finals = call(case, ctx, args, state, grad=True, lengths="case")
    rng = streams.rng(case.seed, "operation_upstream_gradient")
    # drawn in the row's dtype, then held in each result's own (a float32 state of a half-precision call):
    # a gradient that only passes through reaches a half-precision leaf exactly
    upstream = [to_torch(rng.standard_normal(tuple(r.shape)), ctx.dtype, ctx.device).to(r.dtype) for r in (o, *finals)]
    # a result no input reaches (the state of an empty batch) has no graph: the others carry the gradients,
    # and a result detached where inputs reach it shows as gradients that differ from the oracle's
    reached = [(r, u) for r, u in zip((o, *finals), upstream) if r.requires_grad]
    if reached:
        ctx.call("backward", torch.autograd.backward, [r for r, _ in reached], [u for _, u in reached])
    grad_state = [as_numpy(u) for u in upstream[1:]]
    offsets = None if case.lengths is None else np.concatenate([[0], np.cumsum(case.lengths)]).astype(np.int64)
    grads, bounds = reference.operation_backward_with_bound(
        record, inputs, ctx.precision, grad_output=as_numpy(upstream[0]),
        grad_state=grad_state[0] if record.single_state else tuple(grad_state), scale=case.scale,
        initial_state=None if given_state is None else (given_state[0] if record.single_state else given_state),
        cu_seqlens=offsets, chunk_size=case.chunk_size)
    comparisons = [compare(f"grad {spec.name}", gradient_of(arg), grads[spec.name], bounds[spec.name], ctx.dtype, case)
                   for spec, arg in zip(record.inputs, args)]
    if state is not None:
        expected = (grads["initial_state"],) if record.single_state else grads["initial_state"]
        expected_bounds = (bounds["initial_state"],) if record.single_state else bounds["initial_state"]
        for name, leaf, value, b in zip(names(record)[1], state, expected, expected_bounds):
            comparisons.append(compare(f"grad initial {name.removeprefix('final_')}", gradient_of(leaf), value, b,
                                       ctx.dtype, case))
    return comparisons
