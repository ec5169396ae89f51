"""What the checks of a single-step cell (torch.nn.RNNCell, GRUCell, LSTMCell, or a drop-in
replacement) share: its cases, its arguments, and its validated result.  The checks are in the
family modules (``cell_*``).

A cell's example is an ``RNNConfig`` of one layer and one step: its sizes, bias, scale,
batch (or unbatched), initial state (or None) and layout; the cell sees the step's input
(B, I) or (I,) and the state (B, H) or (H,).
"""
import reference
from reference import names
from reference.cells import variant

from ...reproduce import hooks
from ...reproduce.claims import assert_cell_structure
from . import streams
from .backprop import backward
from .data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, to_torch
from .strategies import configs, features_of

#: The options a cell call can have (the others belong to sequences and layers).
CELL_FEATURES = ("no_bias", "hx", "unbatched", "non_contiguous")


def cell_cases(target, max_steps=1, drop=(), min_batch=1, max_size=130, max_batch=8, production=False):
    """The configurations a cell check draws: one layer, ``max_steps`` steps, the cell's features
    but those in ``drop``; with ``production``, widths and batches past where kernels tile."""
    features = tuple(f for f in features_of(target) if f in CELL_FEATURES and f not in drop)
    return configs(modes=target.modes, features=features, max_size=max_size, max_layers=1, max_steps=max_steps,
                   long_steps=0, min_batch=min_batch, max_batch=max_batch, production=production)


def cell_arguments(config, ctx, grad=False):
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


def cell_result(result, config, x, ctx):
    """(h', c' or None) after checking the structure, shape, dtype and device torch's cell returns."""
    lstm = config.paired
    shape = tuple(x.shape[:-1]) + (config.hidden_size,)
    hooks.holds(config, assert_cell_structure, result, shape, ctx.dtype, ctx.device, lstm)
    parts = result if lstm else (result,)
    return parts[0], (parts[1] if lstm else None)


def cell_states(value, mode):
    """(h,) or (h, c) of a cell's result or bound."""
    return tuple(value) if variant(mode).paired else (value,)


def cell_backward(config, ctx, call, x, hx, weights):
    """One cell call and backward from h' (and c') with a drawn upstream gradient; returns the
    oracle's gradients and their bounds."""
    h, c = cell_result(ctx.invoke(call, x, hx, grad=True), config, x, ctx)
    rng = streams.rng(config.seed, "upstream_gradient")
    upstream = [None if r is None else to_torch(rng.standard_normal(tuple(r.shape)), ctx.dtype, ctx.device)
                for r in (h, c)]
    backward(config, (h, c), upstream, ctx)
    grad_h, grad_c = map(as_numpy, upstream)
    return reference.cell_backward_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx),
                                              grad_h=grad_h, grad_c=grad_c)


def cell_call(ctx, module, config, x, hx):
    """(h', c' or None) of one validated cell call."""
    return cell_result(ctx.invoke(module, x, hx), config, x, ctx)
