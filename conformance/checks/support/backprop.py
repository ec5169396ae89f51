"""Inputs that require grad, the target as a gradient check runs it (through its mapping hook
when its parameters have their own names), and the gradients a check reads after backward:
shared by the gradient checks, the cells', the seed models' and the dropout checks."""
import re
from functools import partial
from typing import NamedTuple

import numpy as np
import torch

from ...reproduce import hooks, standalone
from ...reproduce.claims import assert_requires_grad, assert_trained
from .data import make_hx, make_input, to_torch
from ...errors import NotRepresentable
from ...targets.loading import COPYING_HOOK, MAPPING_HOOK, TORCH_NAMES, mapped_parameters, naming_of
from .tolerances import absolute_floor, representable


def leaf(array, ctx, contiguous):
    return None if array is None else to_torch(array, ctx.dtype, ctx.device, contiguous).requires_grad_()


def leaves(config, ctx):
    """The config's input and initial state (None, h0 or (h0, c0)) as tensors that require grad."""
    hx = make_hx(config)
    if hx is not None:
        hx = (tuple(leaf(h, ctx, config.contiguous) for h in hx) if isinstance(hx, tuple)
              else leaf(hx, ctx, config.contiguous))
    return leaf(make_input(config), ctx, config.contiguous), hx


class Differentiable(NamedTuple):
    """How a gradient check calls the target, and the weights (torch's names, tensors) whose
    ``.grad`` it compares with the oracle's."""

    call: object
    weights: list


def differentiable(ctx, module, rounded, part=""):
    """``module`` as a gradient check runs it, holding the weights ``rounded`` (torch's names,
    float64 numpy, as loaded).  With torch's names: the module and its parameters.  With the
    mapping hook: a ``torch.func.functional_call`` of it on the parameters the hook computes
    from leaves under torch's names, and those leaves (so a detached or mis-scaled own weight
    shows in torch's gradients).  With only the copying hook: the module and no weights (the
    run says they were not compared).  ``part`` names the recurrent submodule when ``module``
    is a model built on it; the model's other parameters are compared by their names."""
    target = module.get_submodule(part) if part else module
    prefix = f"{part}." if part else ""
    naming = naming_of(target)
    if naming == TORCH_NAMES:
        return Differentiable(module, list(module.named_parameters()))
    others = [(name, p) for name, p in module.named_parameters() if part and not name.startswith(prefix)]
    if naming == COPYING_HOOK:
        return Differentiable(module, others)
    torch_named = {name: torch.as_tensor(value).to(ctx.dtype).to(ctx.device).requires_grad_()
                   for name, value in rounded.items()}
    own = ctx.call(MAPPING_HOOK, mapped_parameters, target, torch_named, grad=True)
    hooks.mapped(target, torch_named, result=own)
    replaced = {prefix + name: value for name, value in own.items()}
    call = partial(standalone.functional, module, replaced)
    return Differentiable(call, others + [(prefix + name, t) for name, t in torch_named.items()])


def backward(case, results, upstream, ctx):
    """Backward from each result that has an upstream gradient (None: not differentiated
    through); a result that does not require grad fails (its inputs and weights do)."""
    chosen = [(r, g) for r, g in zip(results, upstream) if g is not None]
    hooks.holds(case, assert_requires_grad, "a result", [r for r, _ in chosen],
                      "its inputs and weights do (an inference-only target declares backward unsupported)")
    ctx.call("backward", torch.autograd.backward, [r for r, _ in chosen], [g for _, g in chosen])


def _is_weight(name):
    """Whether a gradient's name is a parameter's (``weight_ih_l0``, a cell's ``weight_ih``), not
    the input's or an initial state's (``h0``, sLSTM's ``n0``; a cell's ``hx``, ``cx``)."""
    return name not in ("input", "hx", "cx") and not re.fullmatch(r"[a-z][a-z0-9]*0", name)


def differentiated(run, x, hx, states=("h", "c")):
    """(name, tensor) pairs whose .grad is compared: input, h0, c0, and ``run``'s weights."""
    pairs = [("input", x)]
    if hx is not None:
        parts = hx if isinstance(hx, tuple) else (hx,)
        pairs += list(zip([f"{state}0" for state in states], parts))
    return pairs + list(run.weights)


def gradient_of(tensor):
    """A leaf's gradient; None (nothing reached it) is a zero gradient."""
    with hooks.paused():
        gradient = standalone.grad_of(tensor)
    hooks.gradient(tensor, result=gradient)
    return gradient


def parameters_received_gradients(module, expected, bound, ctx, case, kind_name, frozen=frozenset()):
    """Raises CheckFailure naming the first trainable-parameter problem of ``module`` (whatever
    its names) after a backward pass: frozen (requires_grad False), no gradient at all (a
    detached weight), a non-finite gradient, or one identically zero although every weight of
    torch's layer gets a gradient here that no correct rounding can make zero (``expected`` and
    ``bound``: the oracle's gradients under torch's names; ``frozen``: the names its variant
    declares not trained, left alone).  Raises NotRepresentable when that cannot be told on this
    example (some torch weight's exact gradient is within its bound of zero everywhere, or a
    gradient overflows the dtype)."""
    weights = [name for name in expected if _is_weight(name)]
    floor = absolute_floor(ctx.dtype)
    if not all(representable(expected[name], bound[name], ctx.dtype) for name in expected):
        raise NotRepresentable("an exact gradient overflows the dtype")
    if not all(np.any(np.abs(expected[name]) > bound[name] + floor) for name in weights):
        raise NotRepresentable("some weight's exact gradient may round to zero here")
    hooks.holds(case, assert_trained, module, kind_name, tuple(sorted(frozen)))
