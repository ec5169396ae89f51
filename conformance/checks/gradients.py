"""Family 3, gradients: torch autograd through the target equals ``reference.rnn_backward`` for
the input, h0, c0 and every weight, within the backward error bound; and every trainable
parameter, whatever its name, receives a gradient."""
from typing import NamedTuple

import torch

from hypothesis import strategies as st
from torch.nn.utils.rnn import pad_packed_sequence

import reference

from ..config import CELL_KINDS
from .registry import register
from .support import streams
from .support.backprop import backward, differentiable, differentiated, gradient_of, leaves, parameters_received_gradients
from .support.cells import cell_arguments, cell_backward, cell_cases
from .support.data import as_numpy, frozen_names, make_weights, pack, side_inputs, to_torch
from .support.relations import inputs, names_of
from .support.strategies import configs, features_of
from .support.tolerances import compare


#: Where the upstream gradient enters: everywhere at once, or through one result only.
UPSTREAM = ("random", "output", "h_n", "c_n")


class GradientCase(NamedTuple):
    """A configuration and the upstream gradient it is differentiated with."""

    config: object
    through: str
    upstream_contiguous: bool

    def one_smaller(self):
        """The configuration's sizes one smaller each (``RNNConfig.one_smaller``), the same upstream gradient."""
        return [(name, value, self._replace(config=smaller)) for name, value, smaller in self.config.one_smaller()]

    def __str__(self):
        layout = "" if self.upstream_contiguous else ", non-contiguous"
        return f"{self.config}; upstream gradient: {self.through}{layout}"


def _cases(packed):
    def strategy(target):
        features = tuple(f for f in features_of(target) if not (packed and f == "unbatched"))
        base = configs(modes=target.modes, features=features, max_size=40, max_layers=3, max_steps=8,
                       long_steps=40, max_batch=5, packed=packed,
                       production=() if packed else ("H", "I", "B"), work_share=0.05)
        return _gradient_case(base, features)
    return strategy


@st.composite
def _gradient_case(draw, base, features):
    config = draw(base)
    through = draw(st.sampled_from([u for u in UPSTREAM if u != "c_n" or config.paired]))
    contiguous = "non_contiguous" not in features or draw(st.booleans())
    return GradientCase(config, through, contiguous)


def _upstream(case, results, ctx):
    """One upstream gradient per result the case differentiates through, rounded to the
    dtype (None elsewhere); standard normal, non-contiguous on request."""
    rng = streams.rng(case.config.seed, "upstream_gradient")
    grads = []
    for name, value in zip(names_of(case.config), results):
        if value is None or case.through not in ("random", name):
            grads.append(None)
            continue
        shape = tuple(value.shape)
        grads.append(to_torch(rng.standard_normal(shape), ctx.dtype, ctx.device, case.upstream_contiguous))
    return grads


def _oracle(config, ctx, x, hx, weights, upstream):
    """The oracle's gradients and their bounds, under torch's names, for the upstream
    gradients of (output (padded), h_n, c_n)."""
    grad_output, grad_h_n, grad_c_n, *grad_more = map(as_numpy, upstream)
    x = as_numpy(x)
    return reference.rnn_backward_with_bound(
        x, weights, ctx.precision, mode=config.mode, num_layers=config.num_layers,
        bidirectional=config.bidirectional, batch_first=config.batch_first, hx=as_numpy(hx),
        lengths=config.lengths, grad_output=grad_output, grad_h_n=grad_h_n, grad_c_n=grad_c_n,
        grad_states=tuple(grad_more), side=side_inputs(config, x, ctx.dtype))


def run_gradients(case, ctx, packed):
    """Forward and backward through the target, then every gradient against the oracle's."""
    config = case.config
    module, weights = ctx.build(config, make_weights(config), train=True)
    target = differentiable(ctx, module, weights)
    x, hx = leaves(config, ctx)
    forward = ctx.forward(target.call, config, pack(x, config) if packed else x, hx, grad=True)
    output = forward.output
    results = (forward.output_data, forward.h_n, forward.c_n) + forward.more
    upstream = _upstream(case, results, ctx)
    backward(case, results, upstream, ctx)
    grad_output = upstream[0]
    if packed and grad_output is not None:
        grad_output, _ = pad_packed_sequence(output._replace(data=grad_output), batch_first=config.batch_first,
                                             total_length=config.steps)
    expected, bound = _oracle(config, ctx, x, hx, weights, (grad_output,) + tuple(upstream[1:]))
    frozen = frozen_names(config)  # not trained: no gradient to compare
    finite = all(bool(torch.isfinite(r).all()) for r in results if isinstance(r, torch.Tensor))
    return [compare(f"grad {name}", gradient_of(tensor), expected[name], bound[name], ctx.dtype, case,
                    forward_finite=finite)
            for name, tensor in differentiated(target, x, hx, config.states)
            if name in expected and name not in frozen]  # extra parameters: contract's


@register("gradients", strategy=_cases(packed=False), requires=("backward",))
def check_gradients_match_oracle(case, ctx):
    """d input, d h0, d c0 and every weight gradient equal the BPTT oracle, the upstream
    gradient through output, h_n, c_n or all, contiguous or not."""
    return run_gradients(case, ctx, packed=False)


@register("gradients", strategy=_cases(packed=True), requires=("backward", "packed"))
def check_packed_gradients_match_oracle(case, ctx):
    """The same through pack_padded_sequence(enforce_sorted=False): padding gets zero gradient."""
    return run_gradients(case, ctx, packed=True)


def _flow_configs(target):
    """Small configurations in which every weight of torch's layer gets a gradient: at least
    two steps (W_hh reads h_1), weights not saturating."""
    return configs(modes=target.modes, features=features_of(target), max_size=8, max_layers=2, max_steps=3,
                   long_steps=0, max_batch=2).map(lambda c: c.with_(steps=max(c.steps, 2), weight_scale=min(
                       c.weight_scale, 1.0)))


@register("gradients", strategy=_flow_configs, requires=("backward",))
def check_parameters_receive_gradients(config, ctx):
    """Every trainable parameter of the target, whatever its name, receives a finite gradient
    that is not identically zero (every weight of torch's layer gets one here): a frozen or
    detached weight or bias fails, named, also in a target whose names are its own.  As training
    runs: the input and initial state do not require grad, only the parameters do."""
    module, weights = ctx.build(config, make_weights(config), train=True)
    x, hx = inputs(config, ctx)
    forward = ctx.forward(module, config, x, hx, grad=True)
    results = (forward.output, forward.h_n, forward.c_n) + forward.more
    upstream = _upstream(GradientCase(config, "random", True), results, ctx)
    backward(config, results, upstream, ctx)
    expected, bound = _oracle(config, ctx, x, hx, weights, upstream)
    frozen = frozen_names(config)
    parameters_received_gradients(module, {k: v for k, v in expected.items() if k not in frozen}, bound, ctx, config,
                                  config.mode, frozen)
    return []


# --- single-step cells ----------------------------------------------------------------------

@register("gradients", strategy=cell_cases, kinds=tuple(CELL_KINDS), requires=("backward",))
def check_cell_gradients_match_oracle(config, ctx):
    """d input, d hx, d cx and every weight gradient of one cell call equal the oracle's,
    the upstream gradient through h' (and c')."""
    x, hx, weights = cell_arguments(config, ctx, grad=True)
    module, weights = ctx.build(config, weights, train=True)
    target = differentiable(ctx, module, weights)
    expected, bound = cell_backward(config, ctx, target.call, x, hx, weights)
    pairs = [("input", x)] + list(zip(("hx", "cx"), () if hx is None else hx if isinstance(hx, tuple) else (hx,)))
    return [compare(f"grad {name}", gradient_of(tensor), expected[name], bound[name], ctx.dtype, config)
            for name, tensor in pairs + target.weights if name in expected]


def _flow_cases(target):
    """Small cells with hx given (so that weight_hh gets a gradient), weights not saturating."""
    return cell_cases(target, drop=("hx",), max_size=12, max_batch=3).map(
        lambda c: c.with_(with_hx=target.supports("hx"), weight_scale=min(c.weight_scale, 1.0)))


@register("gradients", strategy=_flow_cases, kinds=tuple(CELL_KINDS), requires=("backward",))
def check_cell_parameters_receive_gradients(config, ctx):
    """Every trainable parameter of the cell, whatever its name, receives a finite gradient
    that is not identically zero (with hx given every weight of torch's cell gets one): a
    frozen or detached weight or bias fails, named.  As training runs: the input and state do not
    require grad, only the parameters do."""
    x, hx, weights = cell_arguments(config, ctx)
    module, weights = ctx.build(config, weights, train=True)
    expected, bound = cell_backward(config, ctx, module, x, hx, weights)
    parameters_received_gradients(module, expected, bound, ctx, config, f"{config.mode} cell")
    return []
