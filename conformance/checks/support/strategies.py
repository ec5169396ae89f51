"""Hypothesis strategies for recurrent configurations; public so users can reuse them.

Every strategy validates its arguments up front (``hypothesis.errors.InvalidArgument``
naming the argument, its value and what is allowed; no argument is ever ignored) and
shrinks toward the smallest configuration: one layer, forward only, batch 1, length 1,
size 1, default weight scale.  Array data is not drawn element by element: a drawn seed
feeds ``conformance.data``.
"""
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from reference.cells import variant

from . import reach

from ...config import KIND_MODES, PackingCase, RNNConfig

ALL_MODES = tuple(dict.fromkeys(mode for modes in KIND_MODES.values() for mode in modes))

#: Options a configuration may use; a target that cannot build one has it removed.
FEATURES = ("no_bias", "bidirectional", "multi_layer", "proj_size", "batch_first", "hx",
            "unbatched", "non_contiguous")

#: Sizes where kernels change strategy (vector widths, tiles); drawn besides small ones.
EDGE_SIZES = (16, 31, 32, 33, 63, 64, 65, 100, 101, 127, 128, 129)

#: Multipliers of torch's default init bound 1/sqrt(H): default, tiny, large, saturating.
WEIGHT_SCALES = (1.0, 0.01, 3.0, 10.0)
#: The largest weight scale a production width takes (the saturating one is left to small widths).
WIDE_WEIGHT_SCALE = 3.0
#: ReLU RNNs (a variant whose record says ``unbounded``) grow without bound at large scales;
#: these keep them finite in float16.
RELU_WEIGHT_SCALES = (1.0, 0.01, 0.5)


def _check_int(name, value, low, high=None):
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InvalidArgument(f"{name}={value!r}: expected an int {allowed}")


def sizes(*, max_value=130):
    """Layer widths in [1, max_value]: mostly small, sometimes an edge size from EDGE_SIZES
    or any value up to max_value.  Shrinks toward 1 (an edge size shrinks to a small one)."""
    _check_int("max_value", max_value, 1)
    edges = [s for s in EDGE_SIZES if s <= max_value]
    choices = [st.integers(1, min(8, max_value)), st.integers(1, max_value)]
    return st.one_of(choices + ([st.sampled_from(edges)] if edges else []))


def steps(*, max_steps=12, long_steps=300, long_chance=8):
    """Sequence lengths: mostly in [1, max_steps]; one draw in ``long_chance`` is long,
    in [max(max_steps + 1, long_steps // 3), long_steps]; ``long_steps=0`` draws no long
    ones.  Shrinks toward 1 (a long draw shrinks to a short one first)."""
    _check_int("max_steps", max_steps, 1)
    _check_int("long_steps", long_steps, 0)
    _check_int("long_chance", long_chance, 1)
    if 0 < long_steps <= max_steps:
        raise InvalidArgument(f"long_steps={long_steps!r}: expected 0 (no long sequences) or more than "
                              f"max_steps={max_steps!r}")
    return _steps(max_steps, long_steps, long_chance)


# The composites are written once, at module level: a composite defined inside the function that
# returns it is a new one per call, and Hypothesis reads each new one's source (milliseconds).

@st.composite
def _steps(draw, max_steps, long_steps, long_chance):
    if long_steps > max_steps and draw(st.integers(1, long_chance)) == long_chance:
        return draw(st.integers(max(max_steps + 1, long_steps // 3), long_steps))
    return draw(st.integers(1, max_steps))


def sequence_lengths(batch, total_steps, *, sorted_descending=False):
    """A tuple of ``batch`` lengths in [1, total_steps] following one of the patterns that
    break packing code: arbitrary, all equal, containing 1, longest not first.  Sorted
    in decreasing order when ``sorted_descending``.  Shrinks toward all lengths 1 and the
    arbitrary pattern."""
    _check_int("batch", batch, 1)
    _check_int("total_steps", total_steps, 1)
    return _lengths(batch, total_steps, sorted_descending)


_LENGTH_PATTERNS = st.sampled_from(["arbitrary", "all_equal", "contains_one", "longest_last"])


def draw_sequence_lengths(draw, batch, total_steps, sorted_descending=False):
    """``sequence_lengths``' draw, for use inside another composite (building a composite
    strategy per draw costs milliseconds: Hypothesis reads the function's source)."""
    lengths = draw(st.lists(st.integers(1, total_steps), min_size=batch, max_size=batch))
    pattern = draw(_LENGTH_PATTERNS)
    if pattern == "all_equal":
        lengths = [lengths[0]] * batch
    elif pattern == "contains_one":
        lengths[draw(st.integers(0, batch - 1))] = 1
    elif pattern == "longest_last":
        lengths.append(lengths.pop(lengths.index(max(lengths))))
    return tuple(sorted(lengths, reverse=True) if sorted_descending else lengths)


_lengths = st.composite(draw_sequence_lengths)


def configs(*, modes=ALL_MODES, features=None, max_size=130, max_layers=4, max_steps=12,
            long_steps=300, min_batch=1, max_batch=8, packed=False, sorted_lengths=False, production=False,
            work_share=1.0):
    """``RNNConfig`` examples over ``modes`` using only the options in ``features`` (default:
    every one of FEATURES that the input can have: all but "unbatched" when packed or when
    min_batch > 1).

    Batches have min_batch..max_batch sequences (unbatched input, when drawn, has none).
    packed=True draws per-sequence lengths (a PackedSequence is always batched, so
    ``features`` must not contain "unbatched"), sorted in decreasing order with
    sorted_lengths=True (which needs packed=True); the padded length is the longest
    sequence, or more.

    production=True (or a tuple of some of ``PRODUCTION_DIMENSIONS``) makes most draws (two in
    three with four dimensions, three in five with three) reach where production kernels break,
    along one dimension: an input or hidden size from the row's
    reach (``reach.current()``: 256 to 1024, tile edges and one past them), sequences past 512
    steps, or batches past 64; the other dimensions of such a draw are cut until it costs at
    most ``work_share`` of the reach's work (weights x steps x sequences).

    Shrinks toward the first mode, input and hidden size 1, one layer, one step, batch 1
    (then unbatched, when allowed), every flag off, weight scale 1 and data seed 0; packed
    lengths shrink toward all 1 with no extra padding; a production size toward the smallest
    one that still fails (257 where 256 passes).
    """
    if features is None:
        features = tuple(f for f in FEATURES if not ((packed or min_batch > 1) and f == "unbatched"))
    if isinstance(modes, str) or not modes:
        raise InvalidArgument(f"modes={modes!r}: expected a non-empty tuple of modes, e.g. {ALL_MODES}")
    for mode in modes:
        try:
            variant(mode)
        except ValueError as exc:
            raise InvalidArgument(f"modes={modes!r}: {exc}") from None
    unknown = set(features) - set(FEATURES)
    if unknown:
        raise InvalidArgument(f"features={tuple(features)!r} contains {sorted(unknown)}: expected a subset of "
                              f"{FEATURES}")
    _check_int("max_size", max_size, 1)
    _check_int("max_layers", max_layers, 1)
    _check_int("min_batch", min_batch, 1)
    _check_int("max_batch", max_batch, min_batch)
    if sorted_lengths and not packed:
        raise InvalidArgument("sorted_lengths=True: needs packed=True (only packed input has lengths)")
    if packed and "unbatched" in features:
        raise InvalidArgument("features contains 'unbatched' with packed=True: a PackedSequence is always batched")
    if min_batch > 1 and "unbatched" in features:
        raise InvalidArgument(f"min_batch={min_batch!r} with 'unbatched' in features: unbatched input has no batch")
    if not isinstance(work_share, (int, float)) or isinstance(work_share, bool) or not 0 < work_share <= 1:
        raise InvalidArgument(f"work_share={work_share!r}: expected a number in (0, 1]")
    parts = dict(mode=st.sampled_from(tuple(modes)), size=sizes(max_value=max_size),
                 production=_production(work_share, _dimensions(production, long_steps)) if production else None,
                 min_batch=min_batch,
                 layers=st.integers(1, max_layers), steps=steps(max_steps=max_steps, long_steps=long_steps),
                 batch=st.integers(min_batch, max_batch), seed=st.integers(0, 2**32 - 1),
                 scales={m: st.sampled_from(RELU_WEIGHT_SCALES if variant(m).unbounded else WEIGHT_SCALES)
                         for m in modes})
    return _configs(parts, frozenset(features), packed, sorted_lengths)


#: Strategies drawn inside ``_configs``, built once (building a strategy costs more than drawing it).
_BOOLEANS = st.booleans()
_EXTRA_PADDING = st.sampled_from([0, 0, 1, 3])


#: The dimensions a production draw takes past the small ones, one per draw: hidden size, input
#: size, steps, batch.
PRODUCTION_DIMENSIONS = ("H", "I", "T", "B")


def _dimensions(production, long_steps):
    """The production dimensions ``production`` names (True: all), validated; without long
    sequences (``long_steps=0``: a cell's one step) never steps."""
    chosen = PRODUCTION_DIMENSIONS if production is True else production
    if isinstance(chosen, str) or not set(chosen) <= set(PRODUCTION_DIMENSIONS):
        raise InvalidArgument(f"production={production!r}: expected True, False or a tuple of "
                              f"{PRODUCTION_DIMENSIONS}")
    return tuple(d for d in chosen if long_steps or d != "T")


def _production(work_share, dimensions):
    """(a strategy of the production dimension or None (most draws take one), the reach's
    strategies of each, its work)."""
    reached = reach.current()
    return (st.sampled_from((None,) * ((len(dimensions) + 1) // 2) + dimensions), st.sampled_from(reached.layer_sizes),
            st.integers(513, max(513, reached.layer_steps)), st.integers(65, max(65, reached.layer_batch)),
            max(1, int(reached.layer_work * work_share)))


def _cost(config):
    """Weights times steps times sequences: what a layer example costs the oracle and torch."""
    record = variant(config.mode)
    width = config.out_size
    per_layer = record.gates * config.hidden_size * (config.input_size + width)
    deeper = record.gates * config.hidden_size * (width * config.directions + width)
    weights = config.directions * (per_layer + (config.num_layers - 1) * deeper)
    return weights * config.steps * (config.batch or 1)


def _fit(config, big, work, min_batch):
    """``config`` cut (steps, then batch, then to one layer and direction, then its widths; never
    its production dimension ``big``) until it costs at most ``work``."""
    for field_name, least, own in (("steps", 1, "T"), ("batch", min_batch, "B")):
        value = getattr(config, field_name)
        if big == own or value is None or _cost(config) <= work:
            continue
        config = config.with_(**{field_name: max(least, value * work // _cost(config))})
    if _cost(config) > work:
        config = config.with_(num_layers=1, bidirectional=False)
    while _cost(config) > work and big not in ("H", "I") and max(config.hidden_size, config.input_size) > 1:
        # a long or large batch's layer: its widths halved (the larger first)
        if config.hidden_size >= config.input_size:
            hidden = config.hidden_size // 2
            config = config.with_(hidden_size=hidden, proj_size=min(config.proj_size, hidden - 1))
        else:
            config = config.with_(input_size=config.input_size // 2)
    return config


@st.composite
def _configs(draw, parts, features, packed, sorted_lengths):
    mode = draw(parts["mode"])
    big = draw(parts["production"][0]) if parts["production"] else None
    widths = parts["production"][1] if big else None
    hidden = draw(widths) if big == "H" else draw(parts["size"])
    config = RNNConfig(
        mode=mode, input_size=draw(widths) if big == "I" else draw(parts["size"]), hidden_size=hidden,
        num_layers=draw(parts["layers"]) if "multi_layer" in features else 1,
        bidirectional=_flag(draw, features, "bidirectional"),
        bias=not _flag(draw, features, "no_bias"),
        batch_first=_flag(draw, features, "batch_first"),
        with_hx=_flag(draw, features, "hx"),
        contiguous=not _flag(draw, features, "non_contiguous"),
        weight_scale=draw(parts["scales"][mode]),
        seed=draw(parts["seed"]),
    )
    if variant(mode).sizes:  # drawn like H (only for a variant that names sizes: torch's draws stay as they were)
        config = config.with_(sizes=tuple((letter, draw(parts["size"])) for letter, _ in variant(mode).sizes))
    if variant(mode).projection and hidden > 1 and _flag(draw, features, "proj_size"):
        config = config.with_(proj_size=draw(st.integers(1, hidden - 1)))
    total = draw(parts["production"][2]) if big == "T" else draw(parts["steps"])
    batch = draw(parts["production"][3]) if big == "B" else draw(parts["batch"])
    if big in ("H", "I") and config.weight_scale > WIDE_WEIGHT_SCALE:
        # at a production width pre-activations already reach tens at scale 3; at 10 they reach
        # hundreds, where exp underflows float32 and a recurrence's own 0 / 0 (minLSTM's f / (f + i),
        # sLSTM's c / n) is what the draw would find, not the width's bugs
        config = config.with_(weight_scale=WIDE_WEIGHT_SCALE)
    if big:  # the other dimensions cut to the budget before lengths are drawn within them
        config = _fit(config.with_(steps=total, batch=batch), big, parts["production"][4], parts["min_batch"])
        total, batch = config.steps, config.batch
    if packed:
        lengths = draw_sequence_lengths(draw, batch, total, sorted_lengths)
        if big == "T" and max(lengths) < total:  # the long sequence is the point of the draw
            lengths = (total,) + lengths[1:] if sorted_lengths else lengths[:-1] + (total,)
        return config.with_(batch=batch, lengths=lengths, steps=max(lengths) + draw(_EXTRA_PADDING))
    unbatched = big != "B" and _flag(draw, features, "unbatched")  # drawn after batch: shrinking prefers batch 1
    return config.with_(steps=total, batch=None if unbatched else batch)


#: How far past the longest sequence a drawn total_length reaches (mostly past it).
_TOTAL_EXTRA = st.sampled_from([0, 1, 3])
#: Padding values a packing case may use: exact in every checked dtype, and 7 looks like data.
PADDING_VALUES = (0.0, -1.0, 0.5, 7.0)


def packing_cases(functions, *, max_batch=8, many=None, max_steps=12, long_steps=None, padding_side=True,
                  enforce_sorted=None):
    """``PackingCase`` examples of the utilities (or round trips) named in ``functions``.

    Batches have 1..max_batch sequences, and one draw in eight up to ``many`` (default: the
    row's reach, ``reach.current().layer_batch``: past 64); one in eight sequences is long, up to
    ``long_steps`` (default: the reach's layer steps, past 512); lengths follow
    ``sequence_lengths``' patterns (all equal, containing 1, longest last), sorted in
    decreasing order when the case enforces sorting; the padded length is the longest, or
    more; the trailing shape ``*`` has zero to two dimensions.  ``padding_side=False`` never
    draws "left" (a pad_sequence without that argument); ``enforce_sorted`` fixes that flag
    (None draws it).  Shrinks toward the first function, one sequence of length 1, no
    trailing dimensions and every option off.
    """
    if isinstance(functions, str) or not functions:
        raise InvalidArgument(f"functions={functions!r}: expected a non-empty tuple of names")
    reached = reach.current()
    many = reached.layer_batch if many is None else many
    long_steps = reached.layer_steps if long_steps is None else long_steps
    _check_int("max_batch", max_batch, 1)
    _check_int("many", many, max_batch)
    if enforce_sorted not in (None, True, False):
        raise InvalidArgument(f"enforce_sorted={enforce_sorted!r}: expected None, True or False")
    function = st.sampled_from(tuple(functions))
    batch = st.integers(1, max_batch)
    many_batch = st.integers(max_batch + 1, many) if many > max_batch else batch
    length = steps(max_steps=max_steps, long_steps=long_steps)
    sides = st.sampled_from(("right", "left") if padding_side else ("right",))
    return _packing_case(function, batch, many_batch, length, sides, enforce_sorted)


@st.composite
def _packing_case(draw, function, batch, many_batch, length, sides, enforce_sorted):
    name = draw(function)
    sequences = draw(many_batch) if draw(st.integers(1, 8)) == 8 else draw(batch)
    sort = draw(_BOOLEANS) if enforce_sorted is None else enforce_sorted
    lengths = draw_sequence_lengths(draw, sequences, draw(length), sort)
    total_length = max(lengths) + draw(_TOTAL_EXTRA) if draw(_BOOLEANS) else None
    return PackingCase(name, lengths, steps=max(lengths) + draw(_EXTRA_PADDING),
                       features=tuple(draw(st.lists(st.integers(1, 3), max_size=2))),
                       batch_first=draw(_BOOLEANS), enforce_sorted=sort,
                       padding_value=draw(st.sampled_from(PADDING_VALUES)), total_length=total_length,
                       padding_side=draw(sides), lengths_as_list=draw(_BOOLEANS),
                       contiguous=not draw(_BOOLEANS), seed=draw(st.integers(0, 2**32 - 1)))


def _flag(draw, features, name):
    return name in features and draw(_BOOLEANS)


def features_of(target):
    """The strategy features a target can build."""
    return tuple(f for f in FEATURES if target.supports(f))
