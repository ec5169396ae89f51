"""A correct pure-torch reimplementation of torch.nn.RNN, GRU and LSTM: the suite must accept it.

Written step by step from torch's documentation, with every decision that a real
implementation can get wrong in a method of its own, so that ``bugs.py`` can plant one
mistake per subclass.
"""
import math

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


class TorchRecurrent(nn.Module):
    """Base of the three classes: parameters, input handling, layers, directions, packing."""

    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if hidden_size < 1 or input_size < 1 or num_layers < 1:
            raise ValueError("input_size, hidden_size and num_layers must be positive")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError("proj_size must be in [0, hidden_size)")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.directions = 2 if bidirectional else 1
        out = proj_size or hidden_size
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else self.layer_input_size(out)
            for suffix in self.suffixes(layer):
                self.add(f"weight_ih{suffix}", (self.gates * hidden_size, in_size), device, dtype)
                self.add(f"weight_hh{suffix}", (self.gates * hidden_size, out), device, dtype)
                if bias:
                    self.add(f"bias_ih{suffix}", (self.gates * hidden_size,), device, dtype)
                    self.add(f"bias_hh{suffix}", (self.gates * hidden_size,), device, dtype)
                if proj_size:
                    self.add(f"weight_hr{suffix}", (proj_size, hidden_size), device, dtype)

    def layer_input_size(self, out):
        return out * self.directions

    def suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][:self.directions]

    def add(self, name, shape, device, dtype):
        bound = 1.0 / math.sqrt(self.hidden_size)
        self.register_parameter(name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype).uniform_(-bound, bound)))

    def params(self, suffix):
        get = lambda name: getattr(self, name + suffix, None)
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    # ---- forward ----------------------------------------------------------------------------
    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            x, lengths = pad_packed_sequence(input)
            batched = True
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
            batched, lengths = input.dim() == 3, None
            x = self.to_time_major(input) if batched else input.unsqueeze(1)
        self.check_input(x, hx)
        states = self.initial_states(x, hx, batched)
        output, finals = self.run_layers(x, lengths, states)
        if packed:
            output = self.pack_like(output, input)
        elif not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            finals = [f.squeeze(1) for f in finals]
        return output, self.format_state(finals)

    def to_time_major(self, x):
        return x.transpose(0, 1) if self.batch_first else x

    def check_input(self, x, hx):
        if x.size(-1) != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {x.size(-1)}")
        if x.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")

    def state_sizes(self):
        return [self.proj_size or self.hidden_size]

    def initial_states(self, x, hx, batched):
        count, batch = self.num_layers * self.directions, x.size(1)
        parts = [None] * len(self.state_sizes()) if hx is None else (list(hx) if isinstance(hx, tuple) else [hx])
        states = []
        for part, size in zip(parts, self.state_sizes()):
            if part is None:
                states.append(x.new_zeros(count, batch, size))
                continue
            if part.dim() != (3 if batched else 2):
                raise RuntimeError("For unbatched 2-D input, hx should also be 2-D (and 3-D for batched input)")
            part = part if batched else part.unsqueeze(1)
            if tuple(part.shape) != (count, batch, size):
                raise RuntimeError(f"Expected hidden size {(count, batch, size)}, got {tuple(part.shape)}")
            states.append(part)
        return states

    def format_state(self, finals):
        return finals[0]

    def run_layers(self, x, lengths, states):
        finals = [[] for _ in states]
        layer_input = x
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = self.between_layers(layer_input)
            outputs = []
            for direction, suffix in enumerate(self.suffixes(layer)):
                start = [s[self.state_index(layer, direction)] for s in states]
                out, last = self.run_direction(layer_input, lengths, start, self.params(suffix), direction == 1)
                outputs.append(out)
                for store, value in zip(finals, last):
                    store.append(value)
            layer_input = self.concat_directions(outputs)
        return layer_input, [self.stack_finals(f) for f in finals]

    def between_layers(self, x):
        """Dropout on every layer's input but the first, in training mode only."""
        return nn.functional.dropout(x, self.dropout, self.training)

    def state_index(self, layer, direction):
        return layer * self.directions + direction

    def stack_finals(self, finals):
        return torch.stack(finals)

    def concat_directions(self, outputs):
        return torch.cat(outputs, dim=-1)

    def step_order(self, steps, reverse):
        return range(steps - 1, -1, -1) if reverse else range(steps)

    def run_direction(self, x, lengths, state, params, reverse):
        steps = x.size(0)
        outputs = [None] * steps
        for step, t in enumerate(self.step_order(steps, reverse)):
            new = self.cell(x[t], self.carry(state, step), params)
            if lengths is not None:
                live = self.live_mask(t, lengths, x)
                new = [torch.where(live, n, s) for n, s in zip(new, state)]
                outputs[t] = torch.where(live, new[0], torch.zeros_like(new[0]))
            else:
                outputs[t] = new[0]
            state = new
        return self.collect_outputs(outputs, reverse), state

    def carry(self, state, step):
        """The state a step starts from (autograd must see it unchanged)."""
        return state

    def live_mask(self, t, lengths, x):
        return (t < lengths).to(x.device).unsqueeze(1)

    def collect_outputs(self, outputs, reverse):
        return torch.stack(outputs)

    def pack_like(self, output, packed_input):
        order = packed_input.sorted_indices
        _, lengths = pad_packed_sequence(packed_input)
        if order is not None:
            output, lengths = output[:, order.to(output.device)], lengths[order.cpu()]
        data = pack_padded_sequence(output, lengths, enforce_sorted=True).data
        return PackedSequence(data, packed_input.batch_sizes, packed_input.sorted_indices,
                              packed_input.unsorted_indices)

    @staticmethod
    def linear(x, weight, bias):
        y = x @ weight.t()
        return y if bias is None else y + bias


class TorchRNN(TorchRecurrent):
    """torch.nn.RNN: h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def activation(self, a):
        return torch.tanh(a) if self.nonlinearity == "tanh" else torch.relu(a)

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, _ = params
        return [self.activation(self.linear(x, w_ih, b_ih) + self.linear(state[0], w_hh, b_hh))]


class TorchGRU(TorchRecurrent):
    """torch.nn.GRU, reset gate applied after the hidden matmul."""

    gates = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def split(self, projection):
        return projection.chunk(3, dim=1)

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, _ = params
        h = state[0]
        x_r, x_z, x_n = self.split(self.linear(x, w_ih, b_ih))
        h_r, h_z, h_n = self.split(self.linear(h, w_hh, b_hh))
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return [self.blend(z, n, h)]

    def blend(self, z, n, h):
        return (1 - z) * n + z * h


class TorchLSTM(TorchRecurrent):
    """torch.nn.LSTM, gates i, f, g, o, optional projection h = W_hr (o * tanh(c))."""

    gates = 4

    def state_sizes(self):
        return [self.proj_size or self.hidden_size, self.hidden_size]

    def format_state(self, finals):
        return finals[0], finals[1]

    def split(self, gates):
        return gates.chunk(4, dim=1)

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        return [self.output(o, c, w_hr), c]

    def output(self, o, c, w_hr):
        h = o * torch.tanh(c)
        return h if w_hr is None else h @ w_hr.t()
