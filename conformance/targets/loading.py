"""What is under test: loading a target by name, inferring its kind, and building it per config."""
import inspect
from dataclasses import dataclass, field, fields
from typing import Optional

import torch

from reference import names
from reference.cells import variant
from reference.recurrences import is_operation

from . import watch
from .declarations import TORCH_ARGUMENTS, TORCH_VARIANT, ZERO_STATE, declare, declared_variant
from .importing import resolve
from .operations import operation_target
from ..config import (CELL_KINDS, COPYING_HOOK, DTYPE_NAMES, KIND_MODES, LAYER_KINDS, MAPPING_HOOK,
                      PACKING_FUNCTIONS, TORCH_NAMES, TORCH_VARIANTS, UTILITY_KINDS, VARIANT_KIND,
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
    in roundoffs of the dtype, it declares as a scan rather than a step loop (0: a step loop; for
    an operation, its chunked form's, ``reference.operations``' chunk charge); chunk_sizes: the
    chunk sizes an operation accepts.
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
    chunk_sizes: tuple = ()

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
    mode = declared_variant(impl, factory, kind, (declared or {}).get("variant"))
    if mode is not None and is_operation(mode):
        return operation_target(Target, impl, factory, kind, mode, declared)
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
