"""Weights, inputs and initial states of an example, made deterministically from its config.

Arrays are float64 numpy; ``to_torch`` rounds them to the dtype under test and ``as_numpy``
reads back exactly what the target received, which is what the oracle is given.
"""
import math

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from reference import names
from reference.cells import variant

from ...reproduce import hooks
from . import streams
from ...config import RNNConfig


#: Value written into padded positions: a target that reads padding goes visibly wrong.
PADDING_VALUE = 7.0


def parameter_shapes(config: RNNConfig):
    """The state_dict a module of this config has: name -> shape, from its variant's record
    (torch's docs for torch's variants)."""
    record, shapes = variant(config.mode), {}
    for layer in range(config.num_layers):
        in_size = config.input_size if layer == 0 else config.out_size * config.directions
        for suffix in names.suffixes(layer, config.directions):
            for kind, shape in record.shapes(in_size, config.hidden_size, config.proj_size, config.bias,
                                             dict(config.sizes)).items():
                shapes[kind + suffix] = shape
    return shapes


def make_weights(config: RNNConfig):
    """Uniform weights in +-weight_scale/sqrt(H), torch's init scaled."""
    rng = streams.rng(config.seed, "weights")
    bound = config.weight_scale / math.sqrt(config.hidden_size)
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in parameter_shapes(config).items()}


def input_shape(config: RNNConfig):
    """(T, B, I), (B, T, I) with batch_first, or (T, I) unbatched."""
    if config.batch is None:
        return (config.steps, config.input_size)
    if config.batch_first:
        return (config.batch, config.steps, config.input_size)
    return (config.steps, config.batch, config.input_size)


def make_input(config: RNNConfig):
    """Standard-normal input; positions past a sequence's length hold PADDING_VALUE."""
    x = streams.rng(config.seed, "input").standard_normal(input_shape(config))
    if config.lengths is not None:
        for b, length in enumerate(config.lengths):
            index = (b, slice(length, None)) if config.batch_first else (slice(length, None), b)
            x[index] = PADDING_VALUE
    return x


def make_hx(config: RNNConfig):
    """None, h0, or (h0, c0) for LSTM (a tuple of every state for a variant of several): h0
    (L*D, B, P) uniform in +-1, the others (L*D, B, H) normal * 2; a state whose variant
    declares it positive (non-negative) uniform in [0.05, 2] ([0, 2]).  Every layer and
    direction gets different values."""
    if not config.with_hx:
        return None
    rng = streams.rng(config.seed, "initial_state")
    lead = (config.num_layers * config.directions,) + (() if config.batch is None else (config.batch,))
    record = variant(config.mode)
    parts = []
    for state in record.states:
        shape = lead + (config.out_size if state == "h" else config.hidden_size,)
        domain = record.domain(state)
        if domain != "real":
            parts.append(rng.uniform(0.05 if domain == "positive" else 0.0, 2.0, size=shape))
        else:
            parts.append(rng.uniform(-1.0, 1.0, size=shape) if state == "h" else 2.0 * rng.standard_normal(shape))
    return tuple(parts) if config.paired else parts[0]


def frozen_names(config: RNNConfig):
    """The parameter names of the config's module that its variant declares not trained."""
    frozen = variant(config.mode).frozen
    return {name for name in parameter_shapes(config) if names.parse(name)[0] in frozen}


def side_inputs(config: RNNConfig, x, dtype):
    """{name: float64 array} of the variant's side inputs (``reference.Variant.side_inputs``)
    for the input ``x`` (float64 numpy, in the config's layout), as the target receives them
    in ``dtype``: each a function of x's first feature at the same step and sequence, so that
    every relation that permutes, splits, reverses or pads x moves them with it.  Positive:
    0.05 + 2 sigmoid(x); non-negative: 2 sigmoid(x) - 0.5 clipped at 0; real: x.  Empty for a
    variant without side inputs."""
    wanted = variant(config.mode).side_inputs
    if not wanted:
        return {}
    first = np.asarray(x, dtype=np.float64)[..., 0]
    found = {}
    for name, domain in wanted:
        values = 0.05 + 2.0 / (1.0 + np.exp(-first)) if domain == "positive" else \
            np.maximum(2.0 / (1.0 + np.exp(-first)) - 0.5, 0.0) if domain == "nonnegative" else first.copy()
        found[name] = as_numpy(to_torch(values, dtype, "cpu"))
    return found


def to_torch(array, dtype, device, contiguous=True):
    """A tensor of ``dtype`` on ``device`` holding ``array``; non-contiguous on request
    (a strided view into a wider buffer, so that strides differ from a dense copy)."""
    values = torch.as_tensor(np.asarray(array), dtype=torch.float64).to(dtype)
    if contiguous or values.dim() == 0:
        return values.to(device)
    wide = torch.zeros(values.shape[:-1] + (2 * values.shape[-1],), dtype=dtype, device=device)
    view = wide[..., ::2]
    view.copy_(values)
    return view


def as_numpy(value):
    """float64 numpy copy of a tensor, a tuple of tensors, or None (a copy even where the tensor
    is float64 on the CPU already: a target may write into its inputs afterwards)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return tuple(as_numpy(v) for v in value)
    return value.detach().to("cpu", torch.float64, copy=True).numpy()


def hx_to_torch(hx, dtype, device, contiguous=True):
    if hx is None:
        return None
    if isinstance(hx, tuple):
        return tuple(to_torch(part, dtype, device, contiguous) for part in hx)
    return to_torch(hx, dtype, device, contiguous)


def pack(x, config, lengths=None, enforce_sorted=False):
    """``pack_padded_sequence`` of x in the config's layout with ``lengths`` (default: the config's)."""
    lengths = list(config.lengths if lengths is None else lengths)
    with hooks.paused():
        packed = pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64), batch_first=config.batch_first,
                                      enforce_sorted=enforce_sorted)
    hooks.packed(x, torch.tensor(lengths), config.batch_first, enforce_sorted, result=packed)
    return packed
