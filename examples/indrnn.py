"""A variant of your own, checked by the suite: IndRNN (Li et al., 2018), whose recurrent
weight is a vector, each unit seeing only its own past:

    h' = relu(W_ih x + b_ih + u * h + b_hh)        u = weight_hh, shape (H,)

Two things make it checkable, in two files:

* ``examples/indrnn_variant.py:INDRNN``, the description: a ``reference.Variant`` with its step
  written in the oracle's primitives, its state and its parameters' names and shapes.
* ``IndRNN`` here, a layer with torch's contract (constructor, forward, packed input, states)
  that names the variant it computes by string: ``rnn_conformance_variant``.  This module
  imports nothing of the suite, so a standalone reproducer of one of its failures runs where
  only torch and numpy are installed.

    rnn-conformance --impl examples.indrnn:IndRNN --dtypes float64,float32

(from the checkout's root, where ``examples`` is importable; or ``--variant
examples.indrnn_variant:INDRNN`` for a class that does not declare it).
"""
import math

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


class IndRNN(nn.Module):
    """Stacked, bidirectional, batch-first, packed IndRNN layers with torch.nn.RNN's contract."""

    rnn_conformance_variant = "examples.indrnn_variant:INDRNN"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout:
            raise NotImplementedError("IndRNN here has no dropout between layers")
        self.hidden_size, self.num_layers, self.batch_first = hidden_size, num_layers, batch_first
        self.directions, self.bias = 2 if bidirectional else 1, bias
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self.suffixes(layer):
                shapes = {"weight_ih": (hidden_size, in_size), "weight_hh": (hidden_size,)}
                if bias:
                    shapes.update(bias_ih=(hidden_size,), bias_hh=(hidden_size,))
                for kind, shape in shapes.items():
                    self.register_parameter(kind + suffix, nn.Parameter(
                        torch.empty(shape, device=device, dtype=dtype).uniform_(-bound, bound)))

    def suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][:self.directions]

    def step(self, gx, h, u, b_hh):
        return torch.relu(gx + u * h + (0 if b_hh is None else b_hh))

    def step_order(self, steps, reverse):
        return range(steps - 1, -1, -1) if reverse else range(steps)

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            x, lengths = pad_packed_sequence(input)
            batched = True
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
            batched, lengths = input.dim() == 3, None
            x = (input.transpose(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        if x.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        count = self.num_layers * self.directions
        expected = (count, x.size(1), self.hidden_size) if batched else (count, self.hidden_size)
        if hx is None:
            hx = x.new_zeros(count, x.size(1), self.hidden_size)
        elif tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
        else:
            hx = hx if batched else hx.unsqueeze(1)
        live = None if lengths is None else torch.arange(x.size(0)).unsqueeze(1) < lengths.unsqueeze(0)
        finals, layer_in = [], x
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self.suffixes(layer)):
                get = lambda kind: getattr(self, kind + suffix, None)
                gx = layer_in @ get("weight_ih").t() + (0 if get("bias_ih") is None else get("bias_ih"))
                h, out = hx[layer * self.directions + d], [None] * x.size(0)
                for t in self.step_order(x.size(0), d == 1):
                    new = self.step(gx[t], h, get("weight_hh"), get("bias_hh"))
                    if live is not None:
                        mask = live[t].to(x.device).unsqueeze(1)
                        new, out[t] = torch.where(mask, new, h), torch.where(mask, new, torch.zeros_like(new))
                    else:
                        out[t] = new
                    h = new
                outputs.append(torch.stack(out))
                finals.append(h)
            layer_in = torch.cat(outputs, dim=-1)
        h_n = torch.stack(finals)
        if packed:
            order = input.sorted_indices
            out, lens = layer_in, lengths
            if order is not None:
                out, lens = layer_in[:, order.to(x.device)], lengths[order.cpu()]
            data = pack_padded_sequence(out, lens, enforce_sorted=True).data
            return PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices), h_n
        if not batched:
            return layer_in.squeeze(1), h_n.squeeze(1)
        return (layer_in.transpose(0, 1) if self.batch_first else layer_in), h_n
