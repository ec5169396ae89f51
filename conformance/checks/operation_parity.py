"""Family 1 for a recurrence operation (kind ``operation``): o and the final state equal the
oracle's step loop of its record within the bound; a float64 call only as accurate as float32
says so.  Its gradients: ``operation_gradients``; relations between its calls:
``operation_relations``."""
from dataclasses import replace

import numpy as np
import torch

from .registry import register
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
