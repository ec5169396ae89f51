"""torch's layer contract, written once for the worked examples of modern recurrences (minGRU,
minLSTM, sLSTM, RG-LRU, CfC, SRU): a subclass says its parameters' shapes, its states and one
step; this class stacks layers, runs both directions, takes batch-first, unbatched and packed
input and an initial state of one tensor (one state) or a tuple (several), and returns
``(output, h_n)`` or ``(output, (h_n, c_n, ...))`` as ``torch.nn.LSTM`` does.

Pure torch: a standalone reproducer of one of these layers' failures runs where only torch
and numpy are installed.  Each layer's description for the oracle (a ``reference.Variant``)
lives in a module of its own (``examples/modern_variants.py``), named by string.
"""
import math

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


class Recurrent(nn.Module):
    """A stack of recurrent layers with torch.nn.LSTM's contract.

    Subclasses set ``states`` (names, the first the output ``h``), ``sizes`` (keywords of sizes
    beyond I and H, e.g. ``("backbone_units",)``), ``side_inputs`` (forward's keywords of
    per-step values, (T, B) or (B, T) batch-first, padded in batch order for packed input too),
    ``frozen`` (kinds not trained), and define ``shapes(in_size)`` (kind -> shape of one
    direction of one layer) and ``step(x, state, p, side)`` -> new state tuple, where ``x``
    is the layer's input at the step (B, I), ``p(kind)`` a parameter (None when absent) and
    ``side`` the side inputs at the step ((B, 1) each).  ``run_direction`` may be overridden
    (a parallel scan).
    """

    states = ("h",)
    sizes = ()
    side_inputs = ()
    frozen = ()

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, **sizes):
        super().__init__()
        if dropout:
            raise NotImplementedError(f"{type(self).__name__} here has no dropout between layers")
        unknown = set(sizes) - set(self.sizes)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {sorted(unknown)}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.directions = bias, batch_first, 2 if bidirectional else 1
        for keyword in self.sizes:
            setattr(self, keyword, sizes.get(keyword, hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self.suffixes(layer):
                for kind, shape in self.shapes(in_size).items():
                    if kind.startswith("bias") and not bias:
                        continue
                    value = torch.empty(shape, device=device, dtype=dtype).uniform_(-bound, bound)
                    self.register_parameter(kind + suffix, nn.Parameter(value, requires_grad=kind not in self.frozen))

    def suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][:self.directions]

    def state_size(self, state):
        return self.hidden_size

    # -- what a subclass writes --

    def shapes(self, in_size):
        raise NotImplementedError

    def step(self, x, state, p, side):
        raise NotImplementedError

    def run_direction(self, x, state, p, side, lengths, reverse):
        """One direction of one layer over x (T, B, I) from ``state`` (a tuple of (B, .)):
        returns (output (T, B, H), final state).  With ``lengths``, each sequence runs over
        its own steps (the reverse direction from its own last one), its state held after
        them, its output zero there."""
        steps = x.size(0)
        live = None if lengths is None else (torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)).to(x.device)
        out = [None] * steps
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            new = self.step(x[t], state, p, {k: v[t] for k, v in side.items()})
            if live is not None:
                mask = live[t].unsqueeze(1)
                new = tuple(torch.where(mask, n, s) for n, s in zip(new, state))
                out[t] = torch.where(mask, new[0], torch.zeros_like(new[0]))
            else:
                out[t] = new[0]
            state = new
        return torch.stack(out), state

    # -- the contract --

    def forward(self, input, hx=None, **side):
        unknown = set(side) - set(self.side_inputs)
        if unknown:
            raise TypeError(f"forward() got unexpected keyword arguments {sorted(unknown)}")
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
        if x.size(-1) != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.size(-1)}")
        side = {name: self._side(name, side.get(name), x, batched) for name in self.side_inputs}
        state0 = self._initial_state(hx, x, batched)
        finals, layer_in = [[] for _ in self.states], x
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self.suffixes(layer)):
                p = lambda kind, suffix=suffix: getattr(self, kind + suffix, None)
                start = tuple(s[layer * self.directions + d] for s in state0)
                out, final = self.run_direction(layer_in, start, p, side, lengths, d == 1)
                outputs.append(out)
                for collected, value in zip(finals, final):
                    collected.append(value)
            layer_in = torch.cat(outputs, dim=-1)
        state = tuple(torch.stack(f) for f in finals)
        if packed:
            order = input.sorted_indices
            out, lens = layer_in, lengths
            if order is not None:
                out, lens = layer_in[:, order.to(x.device)], lengths[order.cpu()]
            data = pack_padded_sequence(out, lens, enforce_sorted=True).data
            output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output, state = layer_in.squeeze(1), tuple(s.squeeze(1) for s in state)
        else:
            output = layer_in.transpose(0, 1) if self.batch_first else layer_in
        return output, (state if len(self.states) > 1 else state[0])

    def _side(self, name, values, x, batched):
        """A side input as (T, B, 1); ones where it is not given."""
        if values is None:
            return x.new_ones(x.size(0), x.size(1), 1)
        if batched and self.batch_first:
            values = values.transpose(0, 1)
        values = values if batched else values.unsqueeze(1)
        if tuple(values.shape[:2]) != tuple(x.shape[:2]):
            raise ValueError(f"{name} has shape {tuple(values.shape)}; expected one value per step and sequence")
        return values.reshape(x.size(0), x.size(1), 1).to(x.dtype)

    def _initial_state(self, hx, x, batched):
        count, batch = self.num_layers * self.directions, x.size(1)
        if hx is None:
            return tuple(x.new_zeros(count, batch, self.state_size(s)) for s in self.states)
        parts = tuple(hx) if len(self.states) > 1 else (hx,)
        if len(parts) != len(self.states) or not all(torch.is_tensor(p) for p in parts):
            raise RuntimeError(f"hx must be {'a tuple of ' if len(self.states) > 1 else ''}"
                               f"{len(self.states)} tensor{'s' if len(self.states) > 1 else ''}: "
                               f"{', '.join(s + '0' for s in self.states)}")
        state = []
        for name, part in zip(self.states, parts):
            expected = (count, batch, self.state_size(name)) if batched else (count, self.state_size(name))
            if tuple(part.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {tuple(part.shape)} for {name}0")
            state.append(part if batched else part.unsqueeze(1))
        return tuple(state)


def reverse_each(x, lengths):
    """Each sequence of x (T, B, ...) reversed within its own length (padding stays put);
    x itself reversed when ``lengths`` is None."""
    if lengths is None:
        return x.flip(0)
    steps = x.size(0)
    t = torch.arange(steps).unsqueeze(1)
    index = torch.where(t < lengths.unsqueeze(0), lengths.unsqueeze(0) - 1 - t, t).to(x.device)
    return x.gather(0, index.reshape(steps, -1, *([1] * (x.dim() - 2))).expand_as(x))


def last_of_each(x, lengths):
    """x (T, B, H) at each sequence's last step (B, H)."""
    if lengths is None:
        return x[-1]
    index = (lengths - 1).to(x.device).reshape(1, -1, 1).expand(1, x.size(1), x.size(2))
    return x.gather(0, index)[0]
