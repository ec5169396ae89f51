"""Family 3 for a recurrence operation (kind ``operation``): torch autograd through it equals the
oracle's backward of its record for every input and the initial state, within the bound."""
import numpy as np
import torch

import reference

from .registry import register
from .support import streams
from .support.backprop import gradient_of
from .support.data import as_numpy, to_torch
from .support.operations import call, names, operation_cases, record_of, rounded
from .support.tolerances import compare
from ..config import OPERATION_KIND

KINDS = (OPERATION_KIND,)


def _gradient_cases(target):
    return operation_cases(target, max_steps=8, work_share=0.25)


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
