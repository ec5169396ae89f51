"""Single-step cells (torch.nn.RNNCell, GRUCell, LSTMCell, or a drop-in replacement): their
checks, in the families they belong to: parity (``cell_matches_oracle``) and gradients
(``cell_gradients_match_oracle``) against ``reference.cell`` and its backward.

A cell's example is an ``RNNConfig`` of one layer and one step: its sizes, bias, scale,
batch (or unbatched), initial state (or None) and layout; the cell sees the step's input
(B, I) or (I,) and the state (B, H) or (H,).
"""
import torch

import reference
from reference import names

from .. import streams
from ..config import CELL_KINDS
from ..data import as_numpy, hx_to_torch, make_hx, make_input, make_weights, to_torch
from ..errors import CheckFailure
from ..registry import register
from ..strategies import configs, features_of
from ..tolerances import compare
from .backprop import gradient_of

#: The options a cell call can have (the others belong to sequences and layers).
CELL_FEATURES = ("no_bias", "hx", "unbatched", "non_contiguous")


def _cases(target):
    features = tuple(f for f in features_of(target) if f in CELL_FEATURES)
    return configs(modes=target.modes, features=features, max_size=130, max_layers=1, max_steps=1, long_steps=0,
                   max_batch=8)


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
    lstm = config.mode == "LSTM"
    parts = result if lstm and isinstance(result, tuple) and len(result) == 2 else (result,)
    if lstm and len(parts) != 2:
        raise CheckFailure(config, f"an LSTM cell returns the pair (h', c'); got {type(result).__name__}")
    shape = tuple(x.shape[:-1]) + (config.hidden_size,)
    for name, part in zip(("h'", "c'"), parts):
        if not torch.is_tensor(part):
            raise CheckFailure(config, f"{name} is a {type(part).__name__}, expected a tensor")
        if tuple(part.shape) != shape:
            raise CheckFailure(config, f"{name} has shape {tuple(part.shape)}; torch returns {shape}")
        if part.dtype != ctx.dtype or part.device.type != torch.device(ctx.device).type:
            raise CheckFailure(config, f"{name} is {part.dtype} on {part.device}, expected {ctx.dtype} on {ctx.device}")
    return parts[0], (parts[1] if lstm else None)


def _pair(value, mode):
    return value if mode == "LSTM" else (value, None)


@register("parity", strategy=_cases, kinds=tuple(CELL_KINDS))
def check_cell_matches_oracle(config, ctx):
    """h' (and c') of one cell call equal the oracle for drawn sizes (1 to past 128), bias,
    hx or None, batched or unbatched, non-contiguous input and weights up to saturating."""
    x, hx, weights = _arguments(config, ctx)
    module, weights = ctx.build(config, weights)
    h, c = _validated(ctx.call("forward", module, x, hx), config, x, ctx)
    expected, bound = reference.cell_with_bound(as_numpy(x), weights, ctx.precision, config.mode, as_numpy(hx))
    (e_h, e_c), (b_h, b_c) = _pair(expected, config.mode), _pair(bound, config.mode)
    results = [compare("h'", h, e_h, b_h, ctx.dtype, config)]
    if c is not None:
        results.append(compare("c'", c, e_c, b_c, ctx.dtype, config))
    return results


@register("gradients", strategy=_cases, kinds=tuple(CELL_KINDS), requires=("backward",))
def check_cell_gradients_match_oracle(config, ctx):
    """d input, d hx, d cx and every weight gradient of one cell call equal the oracle's,
    the upstream gradient through h' (and c')."""
    x, hx, weights = _arguments(config, ctx, grad=True)
    module, weights = ctx.build(config, weights, train=True)
    h, c = _validated(ctx.call("forward", module, x, hx, grad=True), config, x, ctx)
    rng = streams.rng(config.seed, "upstream_gradient")
    chosen = [(r, rng.standard_normal(tuple(r.shape))) for r in (h, c) if r is not None]
    if any(not r.requires_grad for r, _ in chosen):
        raise CheckFailure(config, "a result does not require grad although its inputs and weights do "
                                   "(an inference-only target declares backward unsupported)")
    ctx.call("backward", torch.autograd.backward, [r for r, _ in chosen],
             [to_torch(g, ctx.dtype, ctx.device) for _, g in chosen])
    upstream = [as_numpy(to_torch(g, ctx.dtype, "cpu")) for _, g in chosen] + [None]
    expected, bound = reference.cell_backward_with_bound(as_numpy(x), weights, ctx.precision, config.mode,
                                                         as_numpy(hx), grad_h=upstream[0], grad_c=upstream[1])
    pairs = [("input", x)] + list(zip(("hx", "cx"), () if hx is None else hx if isinstance(hx, tuple) else (hx,)))
    if not callable(getattr(module, "load_torch_state_dict", None)):
        pairs += list(module.named_parameters())
    return [compare(f"grad {name}", gradient_of(tensor), expected[name], bound[name], ctx.dtype, config)
            for name, tensor in pairs if name in expected]
