"""Inputs that require grad, and the gradients a check reads after backward: shared by the
gradient checks and the dropout checks."""
import torch

from ..data import make_hx, make_input, to_torch


def leaf(array, ctx, contiguous):
    return None if array is None else to_torch(array, ctx.dtype, ctx.device, contiguous).requires_grad_()


def leaves(config, ctx):
    """The config's input and initial state (None, h0 or (h0, c0)) as tensors that require grad."""
    hx = make_hx(config)
    if hx is not None:
        hx = (tuple(leaf(h, ctx, config.contiguous) for h in hx) if isinstance(hx, tuple)
              else leaf(hx, ctx, config.contiguous))
    return leaf(make_input(config), ctx, config.contiguous), hx


def differentiated(module, x, hx):
    """(name, leaf) pairs whose .grad is compared: input, h0, c0, and the parameters when
    they carry torch's names (a target with a mapping hook has its own)."""
    pairs = [("input", x)]
    if hx is not None:
        pairs += list(zip(("h0", "c0"), hx if isinstance(hx, tuple) else (hx,)))
    if not callable(getattr(module, "load_torch_state_dict", None)):
        pairs += list(module.named_parameters())
    return pairs


def gradient_of(tensor):
    """A leaf's gradient; None (nothing reached it) is a zero gradient."""
    return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad
