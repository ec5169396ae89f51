"""Single-step cells (torch.nn.RNNCell, GRUCell, LSTMCell, or a drop-in replacement): their
checks, in the families they belong to: parity (``cell_matches_oracle``) and gradients
(``cell_gradients_match_oracle``) against ``reference.cell`` and its backward, the
metamorphic relations of a cell (``hx=None`` is zeros, unbatched is a batch of one, a loop
of the cell is the one-layer sequence with the same weights), and its contract (torch's
parameter names and shapes; invalid input refused).

A cell's example is an ``RNNConfig`` of one layer and one step: its sizes, bias, scale,
batch (or unbatched), initial state (or None) and layout; the cell sees the step's input
(B, I) or (I,) and the state (B, H) or (H,).
"""
import torch
from hypothesis import strategies as st

import reference
from reference.cells import variant
from reference import names

from ..reproduce import hooks as reproducers
from ..reproduce.claims import assert_cell_structure, assert_torch_parameters
from .support import streams
from ..config import CELL_KINDS
from .support.data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, parameter_shapes, to_torch
from ..errors import CheckFailure
from .registry import register
from .support.strategies import configs, features_of
from .support.tolerances import compare, compare_exact, compare_runs
from .support.backprop import backward, differentiable, gradient_of, parameters_received_gradients
from .support.relations import map_states

#: The options a cell call can have (the others belong to sequences and layers).
CELL_FEATURES = ("no_bias", "hx", "unbatched", "non_contiguous")


def _cases(target, max_steps=1, drop=(), min_batch=1, max_size=130, max_batch=8):
    features = tuple(f for f in features_of(target) if f in CELL_FEATURES and f not in drop)
    return configs(modes=target.modes, features=features, max_size=max_size, max_layers=1, max_steps=max_steps,
                   long_steps=0, min_batch=min_batch, max_batch=max_batch)


def _arguments(config, ctx, grad=False):
    """The cell's input and state for config as tensors (leaves with ``grad``), and its
    weights under the cell's names."""
    x = to_torch(make_input(config)[0], ctx.dtype, ctx.device, config.contiguous)
    hx = make_hx(config)
    hx = None if hx is None else (tuple(part[0] for part in hx) if isinstance(hx, tuple) else hx[0])
    hx = hx_to_torch(hx, ctx.dtype, ctx.device, config.contiguous)
    if grad:
        x.requires_grad_()
        for part in (() if hx is None else hx if isinstance(hx, tuple) else (hx,)):
            part.requires_grad_()
    return x, hx, names.layer_as_cell(make_weights(config))


def _validated(result, config, x, ctx):
    """(h', c' or None) after checking the structure, shape, dtype and device torch's cell returns."""
    lstm = config.paired
    shape = tuple(x.shape[:-1]) + (config.hidden_size,)
    reproducers.holds(config, assert_cell_structure, result, shape, ctx.dtype, ctx.device, lstm)
    parts = result if lstm else (result,)
    return parts[0], (parts[1] if lstm else None)


def _states(value, mode):
    """(h,) or (h, c) of a cell's result or bound."""
    return tuple(value) if variant(mode).paired else (value,)


@register("parity", strategy=_cases, kinds=tuple(CELL_KINDS))
def check_cell_matches_oracle(config, ctx):
    """h' (and c') of one cell call equal the oracle for drawn sizes (1 to past 128), bias,
    hx or None, batched or unbatched, non-contiguous input and weights up to saturating."""
    x, hx, weights = _arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    h, c = _validated(ctx.invoke(module, x, hx), config, x, ctx)
    expected, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    return [compare(name, got, value, b, ctx.dtype, config) for name, got, value, b in
            zip(("h'", "c'"), (h, c), _states(expected, config.mode), _states(bound, config.mode))]


@register("gradients", strategy=_cases, kinds=tuple(CELL_KINDS), requires=("backward",))
def check_cell_gradients_match_oracle(config, ctx):
    """d input, d hx, d cx and every weight gradient of one cell call equal the oracle's,
    the upstream gradient through h' (and c')."""
    x, hx, weights = _arguments(config, ctx, grad=True)
    module, weights = ctx.build(config, weights, train=True)
    target = differentiable(ctx, module, weights)
    expected, bound = _backward(config, ctx, target.call, x, hx, weights)
    pairs = [("input", x)] + list(zip(("hx", "cx"), () if hx is None else hx if isinstance(hx, tuple) else (hx,)))
    return [compare(f"grad {name}", gradient_of(tensor), expected[name], bound[name], ctx.dtype, config)
            for name, tensor in pairs + target.weights if name in expected]


def _backward(config, ctx, call, x, hx, weights):
    """One cell call and backward from h' (and c') with a drawn upstream gradient; returns the
    oracle's gradients and their bounds."""
    h, c = _validated(ctx.invoke(call, x, hx, grad=True), config, x, ctx)
    rng = streams.rng(config.seed, "upstream_gradient")
    upstream = [None if r is None else to_torch(rng.standard_normal(tuple(r.shape)), ctx.dtype, ctx.device)
                for r in (h, c)]
    backward(config, (h, c), upstream, ctx)
    grad_h, grad_c = map(as_numpy, upstream)
    return reference.cell_backward_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx),
                                              grad_h=grad_h, grad_c=grad_c)


def _flow_cases(target):
    """Small cells with hx given (so that weight_hh gets a gradient), weights not saturating."""
    return _cases(target, drop=("hx",), max_size=12, max_batch=3).map(
        lambda c: c.with_(with_hx=target.supports("hx"), weight_scale=min(c.weight_scale, 1.0)))


@register("gradients", strategy=_flow_cases, kinds=tuple(CELL_KINDS), requires=("backward",))
def check_cell_parameters_receive_gradients(config, ctx):
    """Every trainable parameter of the cell, whatever its name, receives a finite gradient
    that is not identically zero (with hx given every weight of torch's cell gets one): a
    frozen or detached weight or bias fails, named.  As training runs: the input and state do not
    require grad, only the parameters do."""
    x, hx, weights = _arguments(config, ctx)
    module, weights = ctx.build(config, weights, train=True)
    expected, bound = _backward(config, ctx, module, x, hx, weights)
    parameters_received_gradients(module, expected, bound, ctx, config, f"{config.mode} cell")
    return []


def _call(ctx, module, config, x, hx):
    """(h', c' or None) of one validated cell call."""
    return _validated(ctx.invoke(module, x, hx), config, x, ctx)


@register("metamorphic", strategy=lambda target: _cases(target, drop=("hx",)), kinds=tuple(CELL_KINDS))
def check_cell_hx_none_equals_zeros(config, ctx):
    """hx=None gives bit for bit what explicit zeros give (called after them: a cell that
    remembers its last state when given None fails)."""
    x, _, weights = _arguments(config, ctx)
    module, _ = ctx.build(config, weights)
    zeros = torch.zeros(tuple(x.shape[:-1]) + (config.hidden_size,), dtype=ctx.dtype, device=ctx.device)
    explicit = _call(ctx, module, config, x, (zeros, zeros.clone()) if config.paired else zeros)
    implicit = _call(ctx, module, config, x, None)
    return [compare_exact(name, got, other, ctx.dtype, config, ("hx=None", "explicit zeros"))
            for name, got, other in zip(("h'", "c'"), implicit, explicit) if got is not None]


@register("metamorphic", strategy=lambda target: _cases(target, drop=("unbatched",)), kinds=tuple(CELL_KINDS))
def check_cell_unbatched_equals_batch_of_one(config, ctx):
    """One unbatched call (I,) equals the same call as a batch of one (1, I), within twice
    the oracle's bound (the two may take different kernels)."""
    config = config.with_(batch=None)
    x, hx, weights = _arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    single = _call(ctx, module, config, x, hx)
    lift = lambda t: t.unsqueeze(0)
    batch = _call(ctx, module, config.with_(batch=1), lift(x), map_states(hx, lift))
    _, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    return [compare_runs(name, got, other[0], b, ctx.dtype, config, ("unbatched", "batch of one"))
            for name, got, other, b in zip(("h'", "c'"), single, batch, _states(bound, config.mode))
            if got is not None]


@register("metamorphic", strategy=lambda target: _cases(target, drop=("unbatched",), min_batch=2),
          kinds=tuple(CELL_KINDS))
def check_cell_batch_permutation_permutes_results(config, ctx):
    """Permuting the batch rows of the input and hx permutes h' (and c') the same way,
    within twice the oracle's bound (another batch order may take another kernel path)."""
    x, hx, weights = _arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    order = streams.rng(config.seed, "batch_permutation").permutation(config.batch).tolist()
    whole = _call(ctx, module, config, x, hx)
    permuted = _call(ctx, module, config, x[order], map_states(hx, lambda h: h[order]))
    _, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    return [compare_runs(name, got, other[order], b[order], ctx.dtype, config,
                         (f"batch permuted to {order}", "whole batch, rows reordered"))
            for name, got, other, b in zip(("h'", "c'"), permuted, whole, _states(bound, config.mode))
            if got is not None]


@register("metamorphic", strategy=lambda target: _cases(target, drop=("unbatched",), min_batch=2),
          kinds=tuple(CELL_KINDS))
def check_cell_batch_split_matches_whole(config, ctx):
    """Calling the cell on two parts of the batch gives each part's rows of calling it on
    the whole batch, within twice the oracle's bound."""
    x, hx, weights = _arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    cut = int(streams.rng(config.seed, "batch_split").integers(1, config.batch))
    whole = _call(ctx, module, config, x, hx)
    _, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    results = []
    for part in (slice(0, cut), slice(cut, config.batch)):
        got = _call(ctx, module, config, x[part], map_states(hx, lambda h: h[part]))
        results += [compare_runs(name, g, w[part], b[part], ctx.dtype, config,
                                 (f"rows {part.start}:{part.stop} called apart", "whole batch"))
                    for name, g, w, b in zip(("h'", "c'"), got, whole, _states(bound, config.mode)) if g is not None]
    return results


@register("metamorphic", strategy=lambda target: _cases(target, max_steps=8, drop=("unbatched",)),
          kinds=tuple(CELL_KINDS), against_torch=True)
def check_cell_loop_equals_sequence(config, ctx):
    """The cell called step after step over a sequence, each state fed to the next call,
    equals the one-layer sequence with the same weights: every step's h' is the sequence's
    output there, the last state its h_n (and c_n)."""
    weights = names.layer_as_cell(make_weights(config))
    module, weights = ctx.build(config, weights)
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    hx = make_hx(config)
    state = None if hx is None else hx_to_torch(tuple(p[0] for p in hx) if isinstance(hx, tuple) else hx[0],
                                                ctx.dtype, ctx.device)
    outputs = []
    for t in range(config.steps):
        h, c = _call(ctx, module, config, x[t], state)
        state = (h, c) if c is not None else h
        outputs.append(h)
    layer = names.cell_as_layer(weights, variant(config.mode).kinds)
    expected, bound = reference.rnn_with_bound(as_numpy(x), layer, ctx.precision, mode=config.mode,
                                               hx=None if hx is None else as_numpy(hx_to_torch(hx, ctx.dtype, "cpu")))
    (out, finals), (out_bound, final_bounds) = [(r[0], _states(r[1], config.mode)) for r in (expected, bound)]
    results = [compare("output (the cell's h' at each step)", torch.stack(outputs), out, out_bound, ctx.dtype,
                       config)]
    for name, got, value, b in zip(("h_n", "c_n"), _states(state, config.mode), finals, final_bounds):
        results.append(compare(f"{name} (the cell's last state)", got, value[0], b[0], ctx.dtype, config))
    return results


@register("contract", strategy=_cases, kinds=tuple(CELL_KINDS), requires=("torch_names",))
def check_cell_parameters_named_like_torch(config, ctx):
    """state_dict keys and shapes are torch's cell's (weight_ih (G*H, I), weight_hh (G*H, H),
    bias_ih and bias_hh (G*H,) with bias), every one a trainable parameter."""
    module = ctx.construct(config)
    ctx.call("state_dict", module.state_dict)
    ctx.call("named_parameters", lambda: list(module.named_parameters()))
    expected = {name: tuple(np_shape) for name, np_shape in
                names.layer_as_cell(parameter_shapes(config)).items()}
    reproducers.holds(config, assert_torch_parameters, module, expected)
    return []


#: What a cell must refuse, as torch's cells do.
VIOLATIONS = ("input size", "hidden size of hx", "3-D input", "unbatched input, batched hx")


@register("contract", strategy=lambda target: _cases(target, drop=("unbatched",)), kinds=tuple(CELL_KINDS))
def check_cell_invalid_input_rejected(config, ctx):
    """A wrong input size, hx of the wrong hidden size, 3-D input and unbatched input with a
    batched hx raise an error instead of returning: every violation tried on every drawn
    configuration."""
    module, _ = ctx.build(config, names.layer_as_cell(make_weights(config)))
    for violation in VIOLATIONS:
        batch, size, hidden = config.batch, config.input_size, config.hidden_size
        x_shape, h_shape = (batch, size), (batch, hidden)
        if violation == "input size":
            x_shape = (batch, size + 1)
        elif violation == "hidden size of hx":
            h_shape = (batch, hidden + 1)
        elif violation == "3-D input":
            x_shape = (1, batch, size)
        else:
            # torch 2.13 does not refuse hx (B, H) with unbatched input when B == H: RNNCell
            # returns a result, LSTMCell (and GRUCell at H=1) crash with SIGSEGV; with B != H all
            # three raise (tests/checks/test_torch_bugs.py)
            x_shape, h_shape = (size,), (hidden + 1 if batch == hidden else batch, hidden)
        x = torch.zeros(x_shape, dtype=ctx.dtype, device=ctx.device)
        h = torch.zeros(h_shape, dtype=ctx.dtype, device=ctx.device)
        hx = (h, h.clone()) if config.paired else h
        if not ctx.rejects(module, x, hx):
            raise CheckFailure((config, violation), f"accepted {violation} (input {x_shape}, hx {h_shape}) and "
                                                    f"returned a result; torch raises an error")
    return []
