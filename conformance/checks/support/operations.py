"""What the operation checks share: drawing a call (``operation_cases``), its inputs in their
domains, calling the target with the calling convention, and the oracle's side.

The draws reach the legal extremes that break chunked code: log-decays of exactly 0 and down to
-30 a token, gates at exactly 0 and 1, T of one token, T not a multiple of the chunk size and T
spanning several chunks, empty and one-token sequences inside a varlen batch.
"""
import numpy as np
import torch
from hypothesis import strategies as st

import reference
from reference.recurrences import operation_record

from . import reach, streams
from .data import as_numpy, to_torch
from ...config import OperationCase
from ...errors import TargetCrashed, Unsupported, one_line
from ...targets.loading import REFUSALS
from ...reproduce import hooks
from ...reproduce.claims import assert_operation_result

#: How strong the log-decays and gates of a call are.
REGIMES = ("typical", "none", "tiny")
#: What the suite calls an operation target's call (``ctx.utility``; a script's ``function``).
CALL = "operation"


def record_of(target):
    return operation_record(target.variant)


#: Feature sizes drawn beside the small ones (1-8): the tile edges of kernels that block K and V
#: by 32, 64 and 128 (each edge, one short of it and one past it) and the head sizes models ship.
TILE_SIZES = (31, 32, 33, 63, 64, 65, 127, 128, 129, 256)
#: Sequences a continuous batch holds beside the few of most draws (groups of 8, 16, 32 and one past).
MANY_SEQUENCES = (8, 16, 17, 24, 32)
#: How the initial states of a batch differ: all carried from an earlier call; some sequences
#: fresh (an exact-zero state) beside carried ones; the extremes a long context reaches (large
#: norms, a stabilizer far from 0).
STATE_KINDS = ("carried", "fresh_and_carried", "long_context")


def operation_cases(target, *, varlen=None, with_state=None, max_steps=12, long_steps=None, chunked=None, min_steps=1,
                    min_batch=1, work_share=1.0):
    """OperationCase examples for ``target``'s record: sizes (1-8, or a tile edge or head size
    of ``TILE_SIZES``), heads, tokens (one in four long, up to ``long_steps``: the row's reach,
    ``reach.current()``, by default), a batch of a few sequences or of many (``MANY_SEQUENCES``),
    a varlen batch (``varlen``: always, never, or None: sometimes, where the target takes
    cu_seqlens) of up to as many sequences, empty, one-token and long ones mixed, an initial
    state (likewise; its sequences carried, fresh or at a long context's extremes), a scale, a
    chunk size (where it takes one; ``chunked``: always), a regime of decays; at least
    ``min_steps`` tokens and ``min_batch`` sequences (without varlen).  An example costs the
    oracle at most ``work_share`` of the reach's work: wide states get fewer tokens and
    sequences.  Shrinks toward one head, sizes 1, batch 1, one token, no state, the default
    scale and chunk size, typical decays; a tile-edge size toward the smallest edge that
    still fails."""
    record = record_of(target)
    reached = reach.current()
    long_steps = reached.steps if long_steps is None else long_steps
    return _cases(target.variant, _head_sizes(record), target.supports("grouped_heads"), _feature_sizes(record),
                  target.supports("varlen") if varlen is None else varlen,
                  varlen is None, target.supports("initial_state") if with_state is None else with_state,
                  with_state is None, target.supports("scale") and record.scale is not None,
                  target.chunk_sizes if target.supports("chunk_size") else (), bool(chunked),
                  (min_steps, max_steps), long_steps, min_batch, any(spec.domain in ("log_decay", "unit_interval", "positive")
                                             for spec in record.inputs) or record.log_decay is not None,
                  (max(1, int(reached.work * work_share)), reach.TOKEN_OVERHEAD, record.states))


#: The size a record's heads are named by where it groups none (``Operation.groups`` name the rest).
HEADS = "H"


def _head_sizes(record):
    """(few, many) of each group of heads (many drawn a multiple of few); ``(H, H)`` for a
    record that names heads H without grouping them."""
    if record.groups:
        return tuple(record.groups)
    letters = {s for spec in record.inputs for s in spec.shape}
    return ((HEADS, HEADS),) if HEADS in letters else ()


def _feature_sizes(record):
    """The sizes of the record's shapes other than B, T and the heads."""
    heads = {s for pair in _head_sizes(record) for s in pair}
    letters = [s for spec in record.inputs for s in spec.shape] + [s for _, shape in record.states for s in shape]
    return tuple(dict.fromkeys(s for s in letters if s not in ("B", "T") and s not in heads))


def _state_elements(states, sizes):
    """One sequence's state elements (every part), for the work budget."""
    return sum(int(np.prod([sizes[s] for s in shape])) for _, shape in states)


def _fitted(wanted, least, work, per_unit):
    """``wanted`` cut down so that ``per_unit`` times it stays within ``work``, never below ``least``."""
    return max(least, min(wanted, work // max(per_unit, 1)))


_SMALL_FEATURE = st.integers(1, 8)
_FEW_HEADS = st.integers(1, 3)
_MANY_HEADS = st.sampled_from((4, 8, 16))
_MANY_SEQUENCES = st.sampled_from(MANY_SEQUENCES)
_TILE_FEATURE = st.sampled_from(TILE_SIZES)
_FEW_OR_MANY = st.integers(1, 4)
_STATE_KIND = st.sampled_from(STATE_KINDS)


@st.composite
def _cases(draw, name, groups, grouped, features, varlen_ok, varlen_sometimes, state_ok, state_sometimes, scale_ok,
           chunk_sizes, chunked, steps_range, long_steps, min_batch, has_regimes, budget):
    min_steps, max_steps = steps_range
    work, overhead, states = budget
    sizes = {}
    # one draw in four a serving batch: many sequences of many heads (sequences x heads past 64)
    serving = draw(_FEW_OR_MANY) == 4
    for few, many in groups:
        sizes[few] = draw(_MANY_HEADS) if serving else draw(_FEW_HEADS)
        sizes[many] = sizes[few] * (draw(st.integers(1, 3)) if grouped and many != few else 1)
    for letter in features:  # one size in two a tile edge (a serving batch's: small), every row sees several
        sizes[letter] = draw(_TILE_FEATURE) if not serving and draw(_BOOLEAN) else draw(_SMALL_FEATURE)
    # bounded by the sizes drawn and the state they make: zero, one or several sequences per token costs this much
    elements = _state_elements(states, {**sizes, "B": 1, "T": 1})
    regime = draw(st.sampled_from(REGIMES)) if has_regimes else "typical"
    # a tiny decay overflows a chunk's exp(-gc) in float64 only past 709 / 30 tokens of one chunk
    long = long_steps > max_steps and (draw(st.integers(1, 4)) > 1 if regime == "tiny" else draw(_FEW_OR_MANY) == 4)
    steps = draw(st.integers(max_steps + 1, long_steps) if long else st.integers(min_steps, max_steps))
    wanted = draw(_MANY_SEQUENCES) if serving else draw(st.integers(min_batch, max(min_batch, 3)))
    varlen = varlen_ok and (not varlen_sometimes or draw(_BOOLEAN))
    count = _fitted(wanted, 1 if varlen else min_batch, work, max(steps, min_steps) * elements)
    steps = _fitted(steps, min_steps, work, overhead + count * elements)
    lengths, batch = None, max(min_batch, count)
    if varlen:
        lengths = tuple(draw(st.lists(st.sampled_from((0, 1, steps, max(1, steps // 2))) | st.integers(0, steps),
                                      min_size=count, max_size=count)))
        batch, steps = 1, sum(lengths)
    with_state = state_ok and (not state_sometimes or draw(_BOOLEAN))
    state_kind = draw(_STATE_KIND) if with_state else "carried"
    scale = draw(st.sampled_from((None, 0.5))) if scale_ok else None
    chunk = None
    if chunk_sizes:
        options = tuple(chunk_sizes) if chunked else (None,) + tuple(chunk_sizes)
        if regime == "tiny" and draw(st.integers(1, 4)) > 1:  # the longest chunks, where exp(-gc) overflows first
            options = options[:1] if not chunked else (max(chunk_sizes),)
        chunk = draw(st.sampled_from(options))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    return OperationCase(name, tuple(sorted(sizes.items())), batch, steps, lengths, with_state, scale, chunk, regime,
                         seed, state_kind)


_BOOLEAN = st.booleans()


# --- data ----------------------------------------------------------------------------------

def sizes_of(case):
    return dict(case.sizes, B=case.batch, T=case.steps)


def make_inputs(case):
    """{name: float64 array} of the record's inputs, each in its domain under the case's regime."""
    record = operation_record(case.operation)
    rng = streams.rng(case.seed, "operation_data")
    sizes = sizes_of(case)
    return {spec.name: _in_domain(rng, spec.domain, tuple(sizes[s] for s in spec.shape), case.regime)
            for spec in record.inputs}


def _in_domain(rng, domain, shape, regime):
    normal = rng.standard_normal(shape)
    if domain == "log_decay":
        typical = -np.exp(normal - 1.0)
        return {"typical": typical, "none": np.zeros(shape),
                "tiny": np.where(rng.random(shape) < 0.8, -30.0, -rng.uniform(0.0, 30.0, shape))}[regime]
    if domain == "unit_interval":
        ends = rng.choice([0.0, 1.0], shape)
        return {"typical": rng.uniform(0.0, 1.0, shape), "none": ends,
                "tiny": np.where(rng.random(shape) < 0.5, ends, rng.uniform(0.0, 1.0, shape))}[regime]
    if domain == "unit_norm":
        norm = np.linalg.norm(normal, axis=-1, keepdims=True)
        return np.where(norm > 0.0, normal / np.where(norm > 0.0, norm, 1.0), 1.0)
    if domain == "positive":
        return {"typical": np.exp(normal - 1.0), "none": np.full(shape, 1e-4),
                "tiny": np.where(rng.random(shape) < 0.8, 30.0, rng.uniform(1.0, 30.0, shape))}[regime]
    if domain == "negative":
        return -np.exp(0.5 * normal)
    return normal


#: How far a long context's state lies from a fresh one's: its norm, and a stabilizer's distance from 0.
LONG_CONTEXT_SCALE = 40.0


def make_state(case):
    """The initial state's parts (N, ...), float64, or None without one: carried states (normal,
    standard deviation 0.5); with ``fresh_and_carried`` some sequences' states exactly 0 (the
    first or the last among them, and at least one carried where there are two); with
    ``long_context`` every part LONG_CONTEXT_SCALE times larger."""
    if not case.with_state:
        return None
    record = operation_record(case.operation)
    rng = streams.rng(case.seed, "operation_state")
    scale = LONG_CONTEXT_SCALE * 0.5 if case.state_kind == "long_context" else 0.5
    parts = tuple(scale * rng.standard_normal(shape) for shape in record.state_shapes(sizes_of(case), case.sequences))
    if case.state_kind == "fresh_and_carried":
        fresh = rng.random(case.sequences) < 0.5
        fresh[int(rng.integers(2)) * (case.sequences - 1)] = True
        if case.sequences > 1 and fresh.all():
            fresh[int(rng.integers(case.sequences))] = False
        for part in parts:
            part[fresh] = 0.0
    return parts


def tensors(arrays, ctx, grad=False):
    """float64 arrays -> tensors of the row's dtype and device (leaves that require grad)."""
    if arrays is None:
        return None
    made = [to_torch(a, ctx.dtype, ctx.device) for a in arrays]
    return [t.requires_grad_() for t in made] if grad else made


# --- the call ----------------------------------------------------------------------------------

def call(case, ctx, args, state, grad=False, lengths=None):
    """The target's ``(o, final_state parts)`` for ``args`` (tensors in the record's order) from
    ``state`` (tensors, or None), validated; ``lengths`` overrides the case's varlen batch (a
    relation's run of one sequence: None there)."""
    record = operation_record(case.operation)
    lengths = case.lengths if lengths == "case" else lengths
    kwargs = {record.argument("output_final_state"): True}
    if case.scale is not None:
        kwargs[record.argument("scale")] = case.scale
    if state is not None:
        kwargs[record.argument("initial_state")] = state[0] if record.single_state else tuple(state)
    if lengths is not None:
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        kwargs[record.argument("cu_seqlens")] = torch.as_tensor(offsets, device=ctx.device)
    if case.chunk_size is not None:
        kwargs[record.argument("chunk_size")] = case.chunk_size
    try:
        result = ctx.utility(CALL, ctx.target.factory, args, kwargs, grad=grad)
    except TargetCrashed as crash:
        if lengths is not None and isinstance(crash.__cause__, REFUSALS):
            raise Unsupported(f"{ctx.target.impl} refused cu_seqlens: {one_line(crash.__cause__)}") from None
        raise
    sizes = dict(sizes_of(case), T=args[0].shape[1], B=args[0].shape[0])
    count = len(lengths) if lengths is not None else sizes["B"]
    hooks.holds(case, assert_operation_result, result, record.name,
                  tuple(sizes[s] for s in record.output), record.state_shapes(sizes, count), ctx.dtype,
                  state_dtypes(ctx.dtype), ctx.device, record.state_names)
    o, final = result
    return o, ((final,) if record.single_state else tuple(final))


def state_dtypes(dtype):
    """The dtypes an operation may return its final state in: the input's, or float32 for a
    half-precision input (kernels keep their state in float32, as FLA's do)."""
    return (dtype, torch.float32) if dtype in (torch.float16, torch.bfloat16) else (dtype,)


def oracle(case, ctx, inputs, state, lengths="case"):
    """((o, final parts), (their bounds)) of the oracle on the rounded inputs the target got."""
    record = operation_record(case.operation)
    lengths = case.lengths if lengths == "case" else lengths
    offsets = None if lengths is None else np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    (o, final), (bound, final_bound) = reference.operation_with_bound(
        record, inputs, ctx.precision, scale=case.scale, initial_state=_state_arg(record, state),
        cu_seqlens=offsets, chunk_size=case.chunk_size)
    parts = (lambda x: (x,)) if record.single_state else tuple
    return (o, parts(final)), (bound, parts(final_bound))


def _state_arg(record, state):
    if state is None:
        return None
    return state[0] if record.single_state else tuple(state)


def rounded(case, ctx, grad=False):
    """(args as tensors, state as tensors or None, the same as float64 arrays: what the target
    received, which the oracle computes from)."""
    record = operation_record(case.operation)
    inputs, state = make_inputs(case), make_state(case)
    args = tensors([inputs[spec.name] for spec in record.inputs], ctx, grad)
    state_tensors = tensors(state, ctx, grad)
    got = {spec.name: as_numpy(t) for spec, t in zip(record.inputs, args)}
    return args, state_tensors, got, None if state_tensors is None else tuple(as_numpy(t) for t in state_tensors)


def names(record):
    """What the comparisons call the output and the final state's parts."""
    return "o", tuple(f"final_state.{name}" if not record.single_state else "final_state" for name in record.state_names)

