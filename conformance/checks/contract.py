"""Family 5, contract: torch's parameter names and shapes, output shapes, and clear errors for bad input."""
from typing import NamedTuple

import torch
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence

from reference import names

from ..config import CELL_KINDS
from ..reproduce import hooks
from ..reproduce.claims import assert_refused, assert_torch_parameters, assert_unmodified
from .registry import register
from .support.cells import cell_cases
from .support.data import frozen_names, hx_to_torch, make_hx, make_input, make_weights, pack, parameter_shapes, to_torch
from .support.strategies import configs, features_of


#: Inputs torch rejects with an error, and how to make each from a valid configuration.
INVALID_INPUTS = ("wrong input size, no hx", "wrong input size, with hx", "h0 of the wrong batch size",
                  "h0 with too few layers", "c0 of the wrong hidden size", "4-D input",
                  "zero-length sequence", "unbatched input with batched hx")


@register("contract", strategy=lambda target: configs(modes=target.modes, features=features_of(target),
                                                       max_size=40, max_steps=3, long_steps=0),
          requires=("torch_names",))
def check_parameters_named_like_torch(config, ctx):
    """state_dict keys and shapes are torch's (weight_ih_l0, bias_hh_l1_reverse, weight_hr_l0, ...)."""
    module = ctx.construct(config)
    ctx.call("named_parameters", lambda: list(module.named_parameters()))
    ctx.call("state_dict", module.state_dict)
    frozen = tuple(sorted(frozen_names(config)))  # its variant's masks and buffers: loaded, not trained
    hooks.holds(config, assert_torch_parameters, module, parameter_shapes(config), frozen)
    return []


@register("contract", strategy=lambda target: configs(modes=target.modes, features=features_of(target),
                                                       max_size=40, max_steps=5, long_steps=0))
def check_outputs_have_torch_shapes(config, ctx):
    """output, h_n and c_n have torch's structure, shapes, dtype and device for every layout
    (what the boundary validates on every call, here on its own)."""
    module, _ = ctx.build(config, make_weights(config))
    ctx.forward(module, config, to_torch(make_input(config), ctx.dtype, ctx.device))
    return []


class InvalidInput(NamedTuple):
    config: object
    violation: str

    def __str__(self):
        return f"{self.config}; input broken by: {self.violation}"


def _invalid_cases(target):
    batched = tuple(f for f in features_of(target) if f != "unbatched")
    return configs(modes=target.modes, features=batched, max_size=12, max_steps=4, long_steps=0,
                   max_batch=4).map(lambda c: c.with_(batch=max(c.batch, 2)))


def _make_invalid(config, violation):
    """(x, hx) as numpy for config, broken in the way ``violation`` names."""
    lead = config.num_layers * config.directions
    x, hx = make_input(config), make_hx(config.with_(with_hx=True))
    h0, c0, *rest = hx if config.paired else (hx, None)  # rest: a variant's states after c0 (sLSTM's n0, m0)
    if violation.startswith("wrong input size"):
        x = make_input(config.with_(input_size=config.input_size + 1))
        if violation.endswith("no hx"):
            h0 = c0 = None
    elif violation == "h0 of the wrong batch size":
        h0 = h0[:, :-1]
    elif violation == "h0 with too few layers":
        h0 = h0[: lead - 1] if lead > 1 else h0[:0]
    elif violation == "c0 of the wrong hidden size":
        c0 = c0[..., :-1] if config.hidden_size > 1 else c0.repeat(2, axis=-1)
    elif violation == "4-D input":
        x, h0, c0 = x[None], None, None
    elif violation == "zero-length sequence":
        x = x[:, :0] if config.batch_first else x[:0]
    elif violation == "unbatched input with batched hx":
        x = x[0] if config.batch_first else x[:, 0]
    if h0 is None:
        return x, None
    return x, ((h0, c0, *rest) if config.paired else h0)


def _applies(config, violation):
    return not (violation == "c0 of the wrong hidden size" and not config.paired)


@register("contract", strategy=_invalid_cases)
def check_invalid_input_rejected(config, ctx):
    """Wrong input size (with or without hx), wrongly shaped hx, 4-D input, zero-length
    sequences and mixed batched/unbatched input raise an error instead of returning: every
    violation tried on every drawn configuration (drawn as one of them, a violation went
    untried in a whole row one seed in thirty)."""
    module, _ = ctx.build(config, make_weights(config))
    for violation in INVALID_INPUTS:
        if not _applies(config, violation):
            continue
        x, hx = _make_invalid(config, violation)
        x, hx = to_torch(x, ctx.dtype, ctx.device), hx_to_torch(hx, ctx.dtype, ctx.device)
        hooks.checked(InvalidInput(config, violation), assert_refused,
                      f"accepted {violation} (input {tuple(x.shape)}) and returned a result",
                      ctx.rejects(module, *((x,) if hx is None else (x, hx))))
    return []


def _snapshot(value):
    """Copies of the tensors a forward call is given: the input (or the PackedSequence's
    fields) and h0 (c0), keyed by what a message calls them."""
    if isinstance(value, PackedSequence):
        return {f"input.{name}": getattr(value, name).clone() for name in value._fields
                if getattr(value, name) is not None}
    return {"input": value.clone()}


def first_change(before, after):
    """The first (name, index, was, is now) where ``after`` differs from ``before`` bit for bit."""
    for name, old in before.items():
        new = after[name]
        hooks.compared("identical", f"{name} (after the call)", new, old, None, ("after the call", "before it"))
        same = (old == new) | (torch.isnan(old) & torch.isnan(new)) if old.is_floating_point() else old == new
        if not bool(same.all()):
            index = tuple(int(i) for i in torch.nonzero(~same)[0])
            return name, index, old[index].item(), new[index].item()
    return None


@register("contract", strategy=lambda target: st.one_of(
    [configs(modes=target.modes, features=features_of(target), max_size=20, max_steps=5, long_steps=0)]
    + ([configs(modes=target.modes, features=tuple(f for f in features_of(target) if f != "unbatched"),
                max_size=20, max_steps=5, long_steps=0, packed=True)] if target.supports("packed") else [])))
def check_forward_leaves_inputs_unchanged(config, ctx):
    """forward does not write into what it is given: the input (or the PackedSequence's data
    and indices), h0 and c0 hold the same bits after the call as before."""
    module, _ = ctx.build(config, make_weights(config))
    x = to_torch(make_input(config), ctx.dtype, ctx.device, config.contiguous)
    given = x if config.lengths is None else pack(x, config)
    hx = hx_to_torch(make_hx(config), ctx.dtype, ctx.device, config.contiguous)
    parts = lambda: {**_snapshot(given), **{name: h.clone() for name, h in zip(
        [f"{state}0" for state in config.states], () if hx is None else hx if isinstance(hx, tuple) else (hx,))}}
    before = parts()
    ctx.forward(module, config, given, hx)
    hooks.checked(config, assert_unmodified, "forward modified its argument", first_change(before, parts()),
                  "; torch never writes into its inputs")
    return []


# --- single-step cells ----------------------------------------------------------------------

@register("contract", strategy=cell_cases, kinds=tuple(CELL_KINDS), requires=("torch_names",))
def check_cell_parameters_named_like_torch(config, ctx):
    """state_dict keys and shapes are torch's cell's (weight_ih (G*H, I), weight_hh (G*H, H),
    bias_ih and bias_hh (G*H,) with bias), every one a trainable parameter."""
    module = ctx.construct(config)
    ctx.call("state_dict", module.state_dict)
    ctx.call("named_parameters", lambda: list(module.named_parameters()))
    expected = {name: tuple(np_shape) for name, np_shape in
                names.layer_as_cell(parameter_shapes(config)).items()}
    hooks.holds(config, assert_torch_parameters, module, expected)
    return []


#: What a cell must refuse, as torch's cells do.
CELL_VIOLATIONS = ("input size", "hidden size of hx", "3-D input", "unbatched input, batched hx")


@register("contract", strategy=lambda target: cell_cases(target, drop=("unbatched",)), kinds=tuple(CELL_KINDS))
def check_cell_invalid_input_rejected(config, ctx):
    """A wrong input size, hx of the wrong hidden size, 3-D input and unbatched input with a
    batched hx raise an error instead of returning: every violation tried on every drawn
    configuration."""
    module, _ = ctx.build(config, names.layer_as_cell(make_weights(config)))
    for violation in CELL_VIOLATIONS:
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
        hooks.checked((config, violation), assert_refused,
                      f"accepted {violation} (input {x_shape}, hx {h_shape}) and returned a result",
                      ctx.rejects(module, x, hx))
    return []
