"""The seams between the suite and a standalone reproducer: a failed row's shrunk example is
replayed once more under a ``trace``, and the hooks the suite calls (``Context``, the tolerance
model, the checks' helpers) turn each call into the target, and each claim made on a result,
into a statement the script runs.  ``scripts`` writes the script.

``holds`` states a claim of ``claims``: a false one fails the check, whether or not a trace is
recording.  Every other hook only records, and never fails the check: a value it cannot express
marks the trace incomplete (a call into the target the script would miss: no script is written)
or, for a comparison, leaves that comparison out of the script.
"""
import functools

import numpy as np

from ..errors import CheckFailure
from . import claims, standalone
from .trace import Unexpressible, active, paused, tracing  # noqa: F401 (the suite's entry points)


def _silently(method):
    """A hook of the trace: a value it cannot express makes its result opaque, never an error
    in the check."""
    def hook(*args, **kwargs):
        trace = active()
        if trace is None or trace.paused:
            return None
        try:
            return method(trace, *args, **kwargs)
        except Unexpressible as exc:
            trace.incomplete = trace.incomplete or f"{method.__name__}: {exc}"
            trace.opaque(kwargs.get("result"))
            return None
    return hook


@_silently
def constructed(trace, factory_args, factory_kwargs, device, dtype, result=None):
    """The target built (``result``: the module; None when its constructor raised)."""
    keywords = "".join(f", {k}={{}}" for k in factory_kwargs)
    trace.root("build(" + ", ".join("{}" for _ in factory_args) + keywords + ").to(device={}, dtype={})",
               tuple(factory_args) + tuple(factory_kwargs.values()) + (device, dtype), "module", result)


@_silently
def loading(trace, module, tensors, train, loader):
    """Weights about to be loaded into ``module`` by ``loader``, then its mode set: a loader of
    the suite's that ``standalone`` mirrors under the same name (``load_weights``,
    ``load_model``), without the suite's checks of a mapping hook's result."""
    if not callable(getattr(standalone, loader.__name__, None)):
        raise Unexpressible(f"weights loaded by {loader.__name__}")
    trace.root(f"call('load_state_dict', {loader.__name__}, {{}}, {{}})", (module, tensors))
    trace.root("call('train', {}.train, {})", (module, bool(train)))


@_silently
def model(trace, module, name, arguments, options, device, dtype):
    """The suite's seed model ``name`` (its source goes into the script) built on the target,
    given the constructor keywords ``options`` that select its variant."""
    trace.models = True
    keywords = "".join(f", {k}={v!r}" for k, v in options.items())
    recurrent = f"partial(target(){keywords})" if options else "target()"
    trace.root(f"{name}(" + ", ".join("{}" for _ in arguments) + f", {recurrent}).to(device={{}}, dtype={{}})",
               tuple(arguments) + (device, dtype), "model", module)


@_silently
def torch_module(trace, module, path, arguments, options, device, dtype, state):
    """torch's own module ``path`` (what a relation compares the target with, e.g. its cell in
    a loop) built with ``arguments`` and ``options`` and holding ``state`` (name -> tensor):
    the script builds and loads it too, and reaches its parameters as it does a target's."""
    keywords = "".join(f", {k}={v!r}" for k, v in options.items())
    trace.root(f"{path}(" + ", ".join("{}" for _ in arguments) + keywords + ").to(device={}, dtype={})",
               tuple(arguments) + (device, dtype), "reference", module)
    trace.root("{}.load_state_dict({})", (module, state))
    parameters(module)


@_silently
def parameters(trace, module):
    """``module``'s parameters, by name, as the script reaches them after loading."""
    reads = set()
    variable = trace.express(module, reads)
    index = next(iter(reads))
    for name, parameter in module.named_parameters():
        trace.name(parameter, f"{variable}.get_parameter({name!r})", index)
    for name, submodule in module.named_modules():
        if name:
            trace.name(submodule, f"{variable}.get_submodule({name!r})", index)


@_silently
def invoked(trace, fn, args, grad, transform, result=None):
    fn, keywords = _keywords(fn)
    callee = "{}" if transform.eager else f"transformed({transform.name!r}, {{}})"
    trace.root(f"call('forward', {callee}" + ", {}" * len(args) + "".join(f", {k}={{}}" for k in keywords)
               + ", grad={})", (fn,) + tuple(args) + tuple(keywords.values()) + (grad,), "r", result)


def _keywords(fn):
    """(the callable, its bound keyword arguments): a forward called with a variant's side inputs
    is ``functools.partial(module, timespans=...)``, which a script writes as a keyword."""
    if isinstance(fn, functools.partial) and not fn.args:
        return fn.func, dict(fn.keywords)
    return fn, {}


@_silently
def mapped(trace, module, tensors, result=None):
    """The target's mapping hook called on leaves under torch's names: its own parameters."""
    trace.root("call('rnn_conformance_from_torch', {}.rnn_conformance_from_torch, {}, grad=True)",
               (module, tensors), "own", result)
    for name, value in result.items():
        trace.name(value, f"{trace.names[id(result)][1]}[{name!r}]", trace.names[id(result)][2])


@_silently
def utility(trace, name, args, kwargs, grad, result=None):
    """A call of the target's packing utility ``name``."""
    keywords = "".join(f", {k}={{}}" for k in kwargs)
    trace.root(f"call({name!r}, function({name!r})" + ", {}" * len(args) + keywords + ", grad={})",
               tuple(args) + tuple(kwargs.values()) + (grad,), "r", result)


@_silently
def gradient(trace, tensor, result=None):
    """``result`` is the gradient of the leaf ``tensor`` (zeros where none reached it)."""
    trace.root("grad_of({})", (tensor,), "g", result)






@_silently
def utility_refuses(trace, name, args, kwargs):
    """The target's utility ``name`` must raise on these arguments."""
    keywords = "".join(f", {k}={{}}" for k in kwargs)
    trace.root(f"expect_raises({name!r}, function({name!r})" + ", {}" * len(args) + keywords + ")",
               tuple(args) + tuple(kwargs.values()))


@_silently
def packed_input(trace, fields, result=None):
    """A packed input built with the target's PackedSequence class (torch's when it has none)."""
    trace.root("call('PackedSequence', getattr(target(), 'PackedSequence', PackedSequence)" + ", {}" * len(fields)
               + ")", tuple(fields), "p", result)


@_silently
def seeded(trace, seed):
    """torch's generator seeded here (dropout masks drawn after it are the example's)."""
    trace.root("torch.manual_seed({})", (seed,))


@_silently
def layouts(trace, tensors):
    """The shape and strides of each of ``tensors``, taken before a call (in the script, of the
    script's own tensors: they need not be laid out as the suite's were)."""
    for value in tensors:
        reads = set()
        expression = trace.express(value, reads)
        variable = trace.fresh("layout")
        index = trace.statement(f"{variable} = ({expression}.shape, {expression}.stride())", reads)
        trace.layouts[id(value)] = (value, variable, index)


def holds(config, claim, *args):
    """Checks ``claim`` (an ``assert_*`` of ``claims``) on ``args``: a false claim is a
    CheckFailure on ``config`` with the claim's own line.  Under a trace, the script states the
    same claim on its own values (``standalone.expect``)."""
    _claimed(claim.__name__, args)
    checked(config, claim, *args)


def holds_layout(config, what, tensor, before):
    """``claims.assert_same_layout`` on ``tensor`` (``before``: its (shape, strides) before the
    call); the script compares with the layout ``layouts`` took before its own call."""
    _same_layout(what, tensor)
    checked(config, claims.assert_same_layout, what, tensor, before)


def checked(config, claim, *args):
    """Checks ``claim`` on ``args`` without writing it into a script (one that a claim the
    script states anyway includes, as ``assert_close`` includes ``assert_same_shape``): a false
    claim is a CheckFailure on ``config`` with the claim's own line."""
    try:
        claim(*args)
    except claims.ClaimFailed as failure:
        raise CheckFailure(config, str(failure)) from None


@_silently
def _claimed(trace, name, args):
    trace.root(f"expect({name}" + ", {}" * len(args) + ")", args)


@_silently
def _same_layout(trace, what, tensor):
    known = trace.layouts.get(id(tensor))
    if known is None or known[0] is not tensor:
        raise Unexpressible("a layout taken where the trace does not see")
    reads = set()
    trace.statement(f"expect(assert_same_layout, {what!r}, {trace.express(tensor, reads)}, {known[1]})",
                    reads | {known[2]}, root=True)


@_silently
def listed(trace, items, result=None):
    """``result`` is a copy of the list ``items`` taken before a call."""
    reads = set()
    listing = trace.assign(items, f"[{', '.join(trace.express(item, reads) for item in items)}]", reads, "items")
    trace.assign(result, f"list({listing})", {trace.names[id(items)][2]}, "before")





@_silently
def refused(trace, fn, args):
    fn, keywords = _keywords(fn)
    trace.root("expect_raises('forward', {}" + ", {}" * len(args) + "".join(f", {k}={{}}" for k in keywords) + ")",
               (fn,) + tuple(args) + tuple(keywords.values()))


@_silently
def backward(trace, results, grads):
    trace.root("call('backward', torch.autograd.backward, {}, {})", (list(results), list(grads)))


@_silently
def packed(trace, x, lengths, batch_first, enforce_sorted, result=None):
    trace.root("pack_padded_sequence({}, {}, batch_first={}, enforce_sorted={})",
               (x, lengths, batch_first, enforce_sorted), "p", result)



def compared(kind, quantity, got, other, tolerance, sides=None):
    """A comparison of the tolerance model, stated in the script as the claim ``assert_<kind>``:
    "close" (other: the exact values), "runs" (other: another run), "identical", or "either"
    (other: the allowed outcomes, tolerance: the tolerance of each)."""
    trace = active()
    if trace is None or trace.paused:
        return
    try:
        if kind == "runs" and other is None:
            raise Unexpressible("the other run is not a tensor")
        if kind == "close":
            other = np.asarray(other, np.float64)
        arguments = [quantity] + ([tuple(sides)] if kind in ("runs", "identical") else []) + [got, other]
        if kind == "either":
            arguments.append(tolerance)
        elif tolerance is not None:
            arguments.append(np.broadcast_to(np.asarray(tolerance, np.float64), np.shape(claims.numbers(got))).copy())
        trace.root(f"expect(assert_{kind}" + ", {}" * len(arguments) + ")", arguments)
    except Unexpressible as exc:
        trace.not_checked.append(f"{quantity} ({exc})")
        trace.statement(f"# not checked here: {quantity} ({exc}, outside what the script can repeat)", (), root=True)
