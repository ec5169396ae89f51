"""What is under test: loading a target by name, inferring its kind, and building it per config."""
import inspect
from dataclasses import dataclass, field, fields
from typing import Optional

import torch

from reference import names
from reference.cells import variant

from . import watch
from .importing import resolve
from ..config import (CELL_KINDS, COPYING_HOOK, DTYPE_NAMES, KIND_MODES, LAYER_KINDS, MAPPING_HOOK,
                      PACKING_FUNCTIONS, SCAN_ERROR_LIMIT, TORCH_NAMES, TORCH_VARIANTS, UTILITY_KINDS, VARIANT_KIND,
                      VARIANT_KINDS, RNNConfig, selecting)
from ..errors import HookError, Unsupported, UsageError, one_line

#: The dtypes a row can run in, by name.
DTYPES = {name: getattr(torch, name) for name in DTYPE_NAMES}
DEFAULT_IMPLS = {"rnn": "torch.nn.RNN", "gru": "torch.nn.GRU", "lstm": "torch.nn.LSTM",
                 "rnn_cell": "torch.nn.RNNCell", "gru_cell": "torch.nn.GRUCell", "lstm_cell": "torch.nn.LSTMCell",
                 "packing_utils": "torch.nn.utils.rnn"}
TORCH_CLASSES = (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU), ("rnn", torch.nn.RNN),
                 ("lstm_cell", torch.nn.LSTMCell), ("gru_cell", torch.nn.GRUCell), ("rnn_cell", torch.nn.RNNCell))
#: Gate count -> kind (how a kind is inferred from parameters: the rows of ``weight_ih`` over the hidden size).
_GATES = {variant(modes[0]).gates: kind for kind, modes in LAYER_KINDS.items() if modes}
#: (input_size, hidden_size) a target is built with to see its parameters and probe its features,
#: in order: the first its constructor does not refuse (a kernel may refuse odd or wide sizes).
PROBE_SIZES = ((3, 5), (2, 1), (8, 8), (16, 16), (64, 64))

#: Constructor errors that mean "this configuration is not supported", not "this is a bug".
REFUSALS = (NotImplementedError, TypeError, ValueError)

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
                                       "reference.VARIANTS or `package.module:NAME` of a reference.Variant"),
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
                       "padding_side",)
DECLARABLE = DECLARABLE_FEATURES + tuple(DTYPES) + ("cpu", "cuda")

#: Probe configuration per feature the constructor may refuse.
_PROBE = RNNConfig(mode="LSTM", input_size=2, hidden_size=3)
_PROBES = {"no_bias": dict(bias=False), "bidirectional": dict(bidirectional=True),
           "multi_layer": dict(num_layers=2), "batch_first": dict(batch_first=True),
           "proj_size": dict(proj_size=2),
           **{v.feature: dict(mode=v.mode) for v in TORCH_VARIANTS.values() if v.feature},
           "dropout": dict(num_layers=2, dropout=0.5)}


@dataclass
class Target:
    """A recurrent class or factory with torch's constructor and forward contract.

    unsupported: feature, dtype or device -> why (declared or probed); activation_error: the
    absolute error of one sigmoid/tanh evaluation it declares (0: as exact as torch's);
    declarations: what it declared and where (recorded in the report); naming: TORCH_NAMES,
    MAPPING_HOOK or COPYING_HOOK (``naming_of``); variant: the mode of the variant it
    declared (kind ``variant`` or ``variant_cell``), else None; scan_error: the error per step,
    in roundoffs of the dtype, it declares as a scan rather than a step loop (0: a step loop).
    """

    impl: str
    kind: str
    factory: object
    unsupported: dict = field(default_factory=dict)
    activation_error: float = 0.0
    declarations: dict = field(default_factory=dict)
    naming: str = TORCH_NAMES
    variant: Optional[str] = None
    scan_error: float = 0.0

    def __str__(self):
        return self.impl

    @property
    def kind_modes(self):
        """The modes its kind covers: its declared variant's, or the torch kind's."""
        return (self.variant,) if self.variant else KIND_MODES[self.kind]

    @property
    def modes(self):
        """The modes it is checked on: its kind's, less those that select a feature it lacks."""
        return tuple(m for m in self.kind_modes
                     if getattr(TORCH_VARIANTS.get(m), "feature", None) not in self.unsupported)

    def supports(self, feature):
        return feature not in self.unsupported

    @property
    def is_cell(self):
        return self.kind in CELL_KINDS

    @property
    def is_utility(self):
        return self.kind in UTILITY_KINDS

    def build(self, config: RNNConfig, device, dtype):
        """A module for ``config`` on device/dtype; raises Unsupported when the constructor
        refuses it (NotImplementedError, TypeError, ValueError)."""
        args, options = self.constructor_arguments(config)
        return self.constructor(described_as=str(config))(*args, **options).to(device=device, dtype=dtype)

    def constructor(self, mode=None, described_as=None):
        """The target's factory as every check builds it (a layer, a cell, a seed model's
        recurrent layer): with the keywords that select ``mode``'s variant, and a refusal
        (NotImplementedError, TypeError, ValueError) raised as Unsupported, which makes the
        draw unsupported, never a failure."""
        selected = selecting(mode) if mode else {}

        def build(*args, **options):
            try:
                return self.factory(*args, **selected, **options)
            except REFUSALS as exc:
                called = described_as or ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in options.items())])
                raise Unsupported(f"{self.impl}({called}) raised {one_line(exc)}") from None
        return build

    def constructor_arguments(self, config):
        """(positional, keyword) arguments of torch's constructor for config."""
        options = cell_constructor_options(config) if self.is_cell else constructor_options(config)
        return (config.input_size, config.hidden_size), options


def constructor_options(config):
    """Keyword arguments of torch's constructor for config; proj_size, nonlinearity and
    dropout only when they differ from the default, so classes without them still build."""
    options = dict(num_layers=config.num_layers, bias=config.bias, batch_first=config.batch_first,
                   bidirectional=config.bidirectional)
    if config.dropout:
        options["dropout"] = config.dropout
    if config.proj_size:
        options["proj_size"] = config.proj_size
    options.update(selecting(config.mode))
    options.update(sized(config))
    return options


def sized(config):
    """The constructor keywords of the sizes its variant names beyond I, H, P (CfC's
    ``backbone_units=U``)."""
    keywords = dict(variant(config.mode).sizes)
    return {keywords[letter]: value for letter, value in config.sizes}


def cell_constructor_options(config):
    """Keyword arguments of torch's cell constructors: bias, and those selecting the variant
    (nonlinearity for a ReLU cell)."""
    return dict(bias=config.bias, **selecting(config.mode))


def naming_of(module):
    """How ``module``'s parameters relate to torch's names: MAPPING_HOOK when it has that hook
    (whether or not it also copies), COPYING_HOOK, else TORCH_NAMES."""
    for hook in (MAPPING_HOOK, COPYING_HOOK):
        if callable(getattr(module, hook, None)):
            return hook
    return TORCH_NAMES


def load_weights(module, tensors):
    """Loads a torch-named state dict: through the target's copying hook if it has one, else
    through its mapping hook (the parameters it returns, copied in), else load_state_dict."""
    if callable(getattr(module, COPYING_HOOK, None)):
        module.load_torch_state_dict(tensors)
    elif callable(getattr(module, MAPPING_HOOK, None)):
        own = mapped_parameters(module, tensors)
        with torch.no_grad():
            module.load_state_dict(own, strict=False)
    else:
        module.load_state_dict(tensors, strict=True)


def mapped_parameters(module, tensors):
    """``module.rnn_conformance_from_torch(tensors)``, checked: a dict naming every parameter of
    the module (buffers optional), each a tensor of the parameter's shape.  Raises HookError
    with one line saying how the hook's result departs from that."""
    own = module.rnn_conformance_from_torch(tensors)
    where = f"{type(module).__name__}.{MAPPING_HOOK}"
    if not isinstance(own, dict):
        raise HookError(f"{where} returned a {type(own).__name__}; expected a dict of the module's own parameter "
                        f"names -> tensors")
    parameters = dict(module.named_parameters())
    known = set(parameters) | {name for name, _ in module.named_buffers()}
    unknown, missing = sorted(set(own) - known), sorted(set(parameters) - set(own))
    if unknown or missing:
        detail = "; ".join(part for part in (f"names no parameter or buffer of it: {unknown}" if unknown else "",
                                             f"misses its parameters {missing}" if missing else "") if part)
        raise HookError(f"{where} {detail}: it must return every parameter of the module by its own name")
    for name, value in own.items():
        expected = parameters[name] if name in parameters else module.get_buffer(name)
        if not torch.is_tensor(value) or tuple(value.shape) != tuple(expected.shape):
            got = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise HookError(f"{where} returned {name} as {got}; the parameter has shape {tuple(expected.shape)}")
    return own


def default_targets(declared=None):
    """torch's layers, cells and packing utilities (DEFAULT_IMPLS), with what the user declared
    for every target (see ``declare``); the utilities are probed (an older torch's
    pad_sequence has no padding_side)."""
    targets = [declare(Target(impl, kind, resolve(impl)), declared) for kind, impl in DEFAULT_IMPLS.items()]
    for target in targets:
        if target.is_utility:
            target.unsupported.update(_probe_utilities(target))
    return targets


def target_again(description):
    """A target from its ``describe()`` (in a worker process): the class is imported again,
    nothing is probed again."""
    return described(description, resolve(description["impl"]))


def described(description, factory):
    """The Target of a ``describe()``, with ``factory`` (None in a parent that never imports it);
    a field an older description lacks keeps its default."""
    return Target(factory=factory, **{name: dict(value) if isinstance(value, dict) else value
                                      for name, value in description.items() if name in _DESCRIBED})


def describe(target):
    """What a worker needs to rebuild ``target`` (plain data, picklable): every field of Target
    but its factory, so that a field added to Target travels without a second list of them."""
    return {name: dict(value) if isinstance(value, dict) else value
            for name, value in ((name, getattr(target, name)) for name in _DESCRIBED)}


#: The fields of a Target that its description carries: all but the factory.
_DESCRIBED = tuple(f.name for f in fields(Target) if f.name != "factory")


def load_target(impl, kind=None, declared=None):
    """The target named ``package.module:Attr`` (or a dotted path), its kind given or inferred,
    its declarations read, its unsupported features probed.  Raises UsageError with one line
    on any problem."""
    if kind is not None and kind not in KIND_MODES:
        raise UsageError(f"--kind {kind!r} is not a kind: expected one of {', '.join(KIND_MODES)}")
    factory = resolve(impl)
    mode = _declared_variant(impl, factory, kind, (declared or {}).get("variant"))
    kind, naming = _infer_kind(impl, factory, kind, mode)
    target = declare(Target(impl, kind, factory, naming=naming, variant=mode), declared)
    if mode is not None and mode not in TORCH_VARIANTS:
        target.unsupported[TORCH_VARIANT] = f"its variant {mode} is not one of torch's: no torch cell or readout block"
        own = [keyword for _, keyword in variant(mode).sizes] + [name for name, _ in variant(mode).side_inputs]
        if own:
            target.unsupported[TORCH_ARGUMENTS] = (f"its variant {mode} takes {', '.join(own)}: the seed models build "
                                                   f"and call their recurrent layer with torch's arguments only")
        positive = [state for state, domain in variant(mode).domains if domain == "positive"]
        if positive:
            target.unsupported[ZERO_STATE] = (f"its variant {mode} declares {', '.join(positive)} positive: an "
                                              f"explicit zero initial state lies outside its domain")
    if naming != TORCH_NAMES:  # known before any example: the name checks are unsupported at no cost
        target.unsupported["torch_names"] = f"its parameters have their own names, mapped by {naming}"
    target.unsupported.update(_probe_features(target))
    return target


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


def _declared_variant(impl, factory, kind, given):
    """The mode of the variant the target declares (``--variant``, or its class attribute
    VARIANT_DECLARATION), checked: it names a Variant the oracle can run.  None when it
    declares none.  Raises UsageError with one line on a bad declaration."""
    in_class = getattr(factory, VARIANT_DECLARATION, None)
    if given is not None and in_class is not None and given != in_class:
        raise UsageError(f"--variant {given} but {impl}.{VARIANT_DECLARATION} = {in_class!r}")
    mode = given if given is not None else in_class
    source = "--variant" if given is not None else f"{impl}.{VARIANT_DECLARATION}"
    if mode is None:
        if kind in VARIANT_KINDS:
            raise UsageError(f"--kind {kind} needs the variant: pass --variant MODE|package.module:NAME, or give "
                             f"{impl} the class attribute {VARIANT_DECLARATION}")
        return None
    if not isinstance(mode, str):
        raise UsageError(f"{source} = {mode!r}: expected a string, a mode of reference.VARIANTS or "
                         f"package.module:NAME")
    try:
        record = variant(mode)
    except ValueError as exc:
        raise UsageError(f"{source}: {one_line(exc)}") from None
    _try_description(record, source)
    return mode


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


def _infer_kind(impl, factory, kind, mode=None):
    """(kind, naming) of the target: its kind given or inferred from its class or parameters
    (``variant``/``variant_cell`` when it declares a variant, ``mode``), and how its
    parameters relate to torch's names (``naming_of``)."""
    module_class = isinstance(factory, type) and issubclass(factory, torch.nn.Module)
    if kind in UTILITY_KINDS or (kind is None and not module_class and any(
            hasattr(factory, name) for name in PACKING_FUNCTIONS)):
        return _utilities_kind(impl, factory, kind), TORCH_NAMES
    if not callable(factory):
        raise UsageError(f"--impl {impl} is not a class or factory (a {type(factory).__name__}): expected a "
                         f"recurrent class or factory, or a module providing the packing utilities "
                         f"({', '.join(PACKING_FUNCTIONS)})")
    declared = next((k for k, cls in TORCH_CLASSES if isinstance(factory, type) and issubclass(factory, cls)), None)
    if mode is not None:
        declared = None
        if kind is not None and kind not in VARIANT_KINDS:
            raise UsageError(f"--kind {kind} but {impl} declares the variant {mode}: its kind is "
                             f"{' or '.join(VARIANT_KINDS)} (a layer or a cell)")
    if kind is not None and declared is not None and declared != kind:
        raise UsageError(f"--kind {kind} but {impl} subclasses {DEFAULT_IMPLS[declared]}")
    module, (input_size, hidden_size) = _built_for_inference(impl, factory)
    parameters = dict(module.named_parameters()) if isinstance(module, torch.nn.Module) else {}
    layer_weight, cell_weight = parameters.get(names.name("weight_ih", 0)), parameters.get("weight_ih")
    weight = layer_weight if layer_weight is not None else cell_weight
    naming = naming_of(module)
    if weight is None and naming == TORCH_NAMES:
        raise UsageError(f"--impl {impl} is not a recurrent module: {impl}({input_size}, {hidden_size}) has no "
                         f"parameter 'weight_ih_l0' or 'weight_ih' (torch's names) and no {MAPPING_HOOK} or "
                         f"{COPYING_HOOK} hook")
    if kind is None and mode is not None:
        kind = VARIANT_KINDS[1] if layer_weight is None and cell_weight is not None else VARIANT_KIND
    if kind is None and declared is None:
        whole, part = divmod(weight.shape[0], hidden_size) if weight is not None else (0, 1)
        gates = None if part else _GATES.get(whole)
        if gates is None:
            raise UsageError(f"--impl {impl}: cannot infer its kind from its parameters; pass --kind "
                             f"{'|'.join(KIND_MODES)}")
        kind = gates if layer_weight is not None else f"{gates}_cell"
    return kind or declared, naming


def _built_for_inference(impl, factory):
    """(the module, its (input_size, hidden_size)): the target built with the first of
    PROBE_SIZES its constructor does not refuse.  Raises UsageError when it refuses them all or
    raises anything else."""
    _callable_as_torch(impl, factory)
    refusals = []
    for sizes in PROBE_SIZES:
        try:
            with watch.calling(f"the constructor {impl}{sizes}"):
                return factory(*sizes), sizes
        except REFUSALS as exc:
            refusals.append(exc)
        except Exception as exc:
            refusals = [exc]
            break
    tried = ", ".join(f"({i}, {h})" for i, h in PROBE_SIZES[:len(refusals)])
    raise UsageError(f"--impl {impl}: building it as {impl}(input_size, hidden_size) with {tried} raised "
                     f"{one_line(refusals[-1])}") from None


def _callable_as_torch(impl, factory):
    """Raises UsageError when ``factory`` cannot be called the way the suite builds a target,
    torch's way (input_size and hidden_size by position, the rest by keyword): which call it
    makes, what the signature says, and how to adapt it (a factory)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C extension type: its call says for itself
        return
    try:
        signature.bind(*PROBE_SIZES[0])
    except TypeError as exc:
        raise UsageError(
            f"--impl {impl}: the suite builds a target as torch builds its kind, {impl}(input_size, hidden_size, "
            f"num_layers=..., bias=..., batch_first=..., bidirectional=...), and {impl}{signature} cannot take "
            f"that ({exc}); adapt it with a factory that takes torch's arguments and builds yours, e.g. "
            f"def make(input_size, hidden_size, **options): return YourClass(...), then --impl module:make "
            f"--kind KIND") from None


def _utilities_kind(impl, provider, kind):
    """packing_utils, when ``provider`` (a module, class or object) has at least one of the
    packing utilities as a callable attribute."""
    found = [name for name in PACKING_FUNCTIONS if callable(getattr(provider, name, None))]
    if not found:
        raise UsageError(f"--impl {impl}{'' if kind is None else f' --kind {kind}'} provides none of the packing "
                         f"utilities: expected callables named {', '.join(PACKING_FUNCTIONS)}")
    if kind is None and provider is not torch.nn.utils.rnn and all(
            getattr(provider, name) is getattr(torch.nn.utils.rnn, name) for name in found):
        raise UsageError(f"--impl {impl} has only torch's own packing utilities ({', '.join(found)}, imported from "
                         f"torch.nn.utils.rnn): checking them would check torch, not {impl}; name your class "
                         f"(--impl {impl}:MyLSTM), or pass --kind packing_utils to check them anyway")
    return "packing_utils"


def _probe_utilities(target):
    """The utilities the provider lacks, and ``padding_side`` when its pad_sequence does not
    take that argument (torch before 2.6)."""
    unsupported = {name: f"{target.impl} has no callable {name}" for name in PACKING_FUNCTIONS
                   if not callable(getattr(target.factory, name, None))}
    pad = getattr(target.factory, "pad_sequence", None)
    if callable(pad) and "padding_side" not in target.unsupported:
        try:
            takes = "padding_side" in inspect.signature(pad).parameters
        except (TypeError, ValueError):  # no signature (a compiled function): try the argument
            try:
                with watch.calling("pad_sequence (probing padding_side)"):
                    pad([torch.zeros(1)], padding_side="left")
                takes = True
            except TypeError:
                takes = False
        if not takes:
            unsupported["padding_side"] = f"{target.impl}.pad_sequence takes no padding_side argument"
    return unsupported


def _probe_features(target):
    """Features whose probe configuration the constructor refuses, on the first dtype and
    device the target supports and the first probe sizes it builds plainly (none probed when
    it builds none: its refusals are then seen draw by draw); for packing utilities: the
    functions it lacks."""
    if target.is_utility:
        return _probe_utilities(target)
    unsupported = {}
    dtype = next((DTYPES[d] for d in DTYPES if target.supports(d)), torch.float32)
    device = "cpu" if target.supports("cpu") or not torch.cuda.is_available() else "cuda"
    base = _probe_base(target, device, dtype)
    for feature, changes in _PROBES.items():
        selects = changes.get("mode")  # a feature that selects a variant: probed on its kind only
        projects = base is not None and base.hidden_size > 1 and any(variant(m).projection for m in target.kind_modes)
        if base is None or feature in target.unsupported or (feature == "proj_size" and not projects) or (
                selects is not None and selects not in target.kind_modes) or (
                target.is_cell and feature != "no_bias" and selects is None):
            continue
        if feature == "proj_size":
            changes = dict(proj_size=min(2, base.hidden_size - 1))
        try:
            with watch.calling(f"the constructor (probing {feature})"):
                target.build(base.with_(**changes), device, dtype)
        except Unsupported as exc:
            unsupported[feature] = str(exc)
    return unsupported


def _probe_base(target, device, dtype):
    """The plain configuration features are probed from: the first of _PROBE's sizes and
    PROBE_SIZES the constructor builds; None when it refuses them all."""
    for input_size, hidden_size in ((_PROBE.input_size, _PROBE.hidden_size),) + PROBE_SIZES:
        config = _PROBE.with_(mode=target.kind_modes[0], input_size=input_size, hidden_size=hidden_size)
        try:
            with watch.calling("the constructor (probing the plain configuration)"):
                target.build(config, device, dtype)
            return config
        except Unsupported:
            continue
    return None
