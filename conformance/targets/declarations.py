"""What a target says of itself: the class attributes and options it declares through (what
it does not support, how accurate its activations and scan are, the variant it computes), the
features it lacks without saying so, and reading them onto a Target.  Imports no torch."""
from reference import names
from reference.cells import variant
from reference.recurrences import is_operation, operation_record

from ..config import (COPYING_HOOK, DTYPE_NAMES, MAPPING_HOOK, OPERATION_FEATURES, OPERATION_KIND, PACKING_FUNCTIONS, SCAN_ERROR_LIMIT,
                      VARIANT_KINDS)
from ..errors import UsageError, one_line

#: Class attribute through which a target declares features, dtypes and devices it does not support.
DECLARATION = "rnn_conformance_unsupported"
#: Class attribute through which a target declares the absolute error of one sigmoid/tanh evaluation.
ACTIVATION_DECLARATION = "rnn_conformance_activation_error"
#: Class attribute through which a target that is not a step loop (a log-space or parallel scan)
#: declares its error per step, in roundoffs of the dtype (``reference.Precision.scan`` is that
#: many unit roundoffs); ``--scan-error`` overrides.
SCAN_DECLARATION = "rnn_conformance_scan_error"
#: Class attribute through which a target names the variant it computes (``--variant``): a mode of
#: ``reference.VARIANTS`` or ``package.module:NAME`` of a ``reference.Variant`` of one's own.
VARIANT_DECLARATION = "rnn_conformance_variant"
#: Class attribute through which an operation target that takes ``chunk_size`` names the chunk
#: sizes it accepts (default ``OPERATION_CHUNK_SIZES``).
CHUNK_DECLARATION = "rnn_conformance_chunk_sizes"
#: The chunk sizes an operation that takes ``chunk_size`` is called with unless it declares its own.
OPERATION_CHUNK_SIZES = (1, 2, 4, 16, 64)
#: What a target of a variant torch does not implement lacks: torch's facts about it (its cell
#: class, its dropout readout block), which some checks compare with.
TORCH_VARIANT = "torch_variant"
#: What a target lacks whose variant takes sizes or side inputs of its own (CfC's backbone_units and
#: timespans): the seed models build and call their recurrent layer with torch's arguments only.
TORCH_ARGUMENTS = "torch_arguments"
#: What a target lacks whose variant declares a state positive (a log-space scan's h): an explicit
#: zero initial state lies outside its domain.
ZERO_STATE = "zero_state"

#: Each class attribute a target may declare itself through -> (the option that adds to it, or
#: None; what it declares): the table docs/declarations.md is written from.
CLASS_DECLARATIONS = {
    DECLARATION: ("--unsupported", "features, autograd (`backward`), dtypes and devices it does not support: their "
                                   "rows are unsupported"),
    ACTIVATION_DECLARATION: ("--activation-error", "the absolute error of one sigmoid/tanh evaluation of its "
                                                   "kernels, charged by the bound model at every activation of the "
                                                   "forward and through backward (default 0)"),
    SCAN_DECLARATION: ("--scan-error", "its error per step, in roundoffs of the dtype, when it computes its "
                                       "recurrence as a scan, not a step loop (default 0)"),
    VARIANT_DECLARATION: ("--variant", "the variant it computes when torch has no such layer: a mode of "
                                       "reference.VARIANTS or `package.module:NAME` of a reference.Variant; for an "
                                       "operation, the record it computes: one of reference.OPERATIONS or "
                                       "`package.module:NAME` of a reference.Operation"),
    CHUNK_DECLARATION: (None, "(an operation taking `chunk_size`) the chunk sizes it accepts, default "
                              f"{', '.join(map(str, OPERATION_CHUNK_SIZES))}"),
    MAPPING_HOOK: (None, "(a method) its own parameters as differentiable functions of torch-named tensors: "
                         "weight gradients are compared under torch's names"),
    COPYING_HOOK: (None, "(a method) loads torch-named weights by copying them into its own: weight gradients "
                         "cannot be compared, and the run says so"),
}
#: Features a target lacks without declaring it -> when: rows that need one are unsupported, named.
AUTOMATIC = {
    TORCH_VARIANT: "its variant is not one of torch's: the checks that compare with torch's own cell or dropout "
                   "block",
    TORCH_ARGUMENTS: "its variant takes sizes or side inputs of its own: the seed models build and call their layer "
                     "with torch's arguments only",
    ZERO_STATE: "its variant declares a state positive: an explicit zero initial state lies outside its domain",
}
#: What a target may declare unsupported: input features, its own options, autograd, dtypes, devices.
DECLARABLE_FEATURES = ("packed", "no_bias", "bidirectional", "multi_layer", "proj_size", "batch_first", "hx",
                       "unbatched", "non_contiguous", "relu", "dropout", "backward") + PACKING_FUNCTIONS + (
                       "padding_side",) + OPERATION_FEATURES
DECLARABLE = DECLARABLE_FEATURES + tuple(DTYPE_NAMES) + ("cpu", "cuda")


def declare(target, declared=None):
    """Reads the target's class declarations and the user's (``declared``: {"unsupported":
    names, "activation_error": float}, from the command line); the user's add to the class's
    and override its activation error.  Raises UsageError naming an unknown declaration."""
    declared = declared or {}
    in_class = getattr(target.factory, DECLARATION, ())
    if isinstance(in_class, str) or not all(isinstance(name, str) for name in in_class):
        raise UsageError(f"{target.impl}.{DECLARATION} = {in_class!r}: expected a tuple of names")
    for source, declarations in (("declared by the target", in_class),
                                 ("declared with --unsupported", declared.get("unsupported", ()))):
        for name in declarations:
            if name not in DECLARABLE:
                raise UsageError(f"{target.impl}: cannot declare {name!r} unsupported ({source}): expected "
                                 f"one of {', '.join(DECLARABLE)}")
            target.unsupported.setdefault(name, source)
            target.declarations.setdefault("unsupported", {})[name] = source
    for name, attribute, meaning, limit in (
            ("activation_error", ACTIVATION_DECLARATION, "the absolute error of one sigmoid/tanh", 1.0),
            ("scan_error", SCAN_DECLARATION, "its scan's error per step in roundoffs of the dtype", SCAN_ERROR_LIMIT)):
        error, source = declared.get(name), CLASS_DECLARATIONS[attribute][0]
        if error is None:
            error, source = getattr(target.factory, attribute, 0.0), f"class attribute {attribute}"
        if isinstance(error, bool) or not isinstance(error, (int, float)) or not 0.0 <= error < limit:
            raise UsageError(f"{source} = {error!r}: expected {meaning} in [0, {limit:g})")
        setattr(target, name, float(error))
        if error:
            target.declarations[name] = {"value": float(error), "source": source}
    return target


def declared_variant(impl, factory, kind, given):
    """The mode of the variant the target declares (``--variant``, or its class attribute
    VARIANT_DECLARATION), checked: it names a Variant the oracle can run.  None when it
    declares none.  Raises UsageError with one line on a bad declaration."""
    in_class = getattr(factory, VARIANT_DECLARATION, None)
    if given is not None and in_class is not None and given != in_class:
        raise UsageError(f"--variant {given} but {impl}.{VARIANT_DECLARATION} = {in_class!r}")
    mode = given if given is not None else in_class
    source = "--variant" if given is not None else f"{impl}.{VARIANT_DECLARATION}"
    if mode is None:
        if kind in VARIANT_KINDS or kind == OPERATION_KIND:
            raise UsageError(f"--kind {kind} needs the {'record' if kind == OPERATION_KIND else 'variant'}: pass "
                             f"--variant NAME|package.module:NAME, or give {impl} the class attribute "
                             f"{VARIANT_DECLARATION}")
        return None
    if not isinstance(mode, str):
        raise UsageError(f"{source} = {mode!r}: expected a string, a mode of reference.VARIANTS or "
                         f"package.module:NAME")
    if is_operation(mode):
        _try_operation(operation_record(mode), source)
        return mode
    try:
        record = variant(mode)
    except ValueError as exc:
        raise UsageError(f"{source}: {one_line(exc)}") from None
    _try_description(record, source)
    return mode


def _try_operation(record, source):
    """Runs the oracle once on the operation (two sequences of three tokens, every size 2, values,
    bounds and gradients): a record whose shapes do not fit its step says so in one line."""
    import numpy as np

    import reference

    letters = dict.fromkeys(s for spec in record.inputs for s in spec.shape if s not in ("B", "T"))
    sizes = {letter: 2 + n for n, letter in enumerate(letters)}  # distinct: a transposed use shows
    for few, many in record.groups:
        sizes[many] = sizes[few] * 2
    sizes.update(B=2, T=3)
    inputs = {spec.name: np.full(tuple(sizes[s] for s in spec.shape),
                                 {"log_decay": -0.5, "negative": -0.5, "unit_norm": 0.5 ** 0.5}.get(spec.domain, 0.5))
              for spec in record.inputs}
    try:
        with np.errstate(all="ignore"):
            reference.operation_backward_with_bound(record, inputs, reference.Precision(2.0 ** -24, 2.0 ** -24))
    except Exception as exc:  # the user's step: any mistake in it is theirs
        raise UsageError(f"{source}: the operation {record.name} fails on two sequences of three tokens, sizes "
                         f"{', '.join(f'{k}={v}' for k, v in sizes.items() if k not in ('B', 'T'))}: "
                         f"{one_line(exc)}") from None


def _try_description(record, source):
    """Runs the oracle once on the variant (two steps, both directions, values, bounds and
    gradients): a description whose step cannot run is the description's mistake, said in one
    line before any example, never a suite error in every row."""
    import numpy as np

    import reference

    weights = {}
    sizes = {letter: 2 for letter, _ in record.sizes}
    for suffix in names.suffixes(0, 2):
        weights.update({kind + suffix: np.full(shape, 0.25) for kind, shape in record.shapes(2, 3, sizes=sizes).items()})
    side = {name: np.ones((2, 1)) for name, _ in record.side_inputs}
    try:
        with np.errstate(all="ignore"):
            reference.rnn_backward_with_bound(np.ones((2, 1, 2)), weights, reference.Precision(2.0 ** -24, 2.0 ** -24),
                                              mode=record, bidirectional=True, grad_output=np.ones((2, 1, 6)),
                                              side=side)
    except Exception as exc:  # the user's step: any mistake in it is theirs
        raise UsageError(f"{source}: the variant {record.name} fails on a two-step input: {one_line(exc)}") from None
