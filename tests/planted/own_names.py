"""LSTMs whose parameters have their own names, as library authors write them: one fused
weight ``W`` (I+H, 4H) and one bias ``b`` (4H,) per layer and direction, gates in the order
i, f, o, g.  ``FusedLSTM`` loads torch's weights by copying (``load_torch_state_dict``),
``MappedFusedLSTM`` by the differentiable mapping hook ``rnn_conformance_from_torch``; both
are correct.  Each planted bug below is a copy of either with one gradient mistake whose
forward pass is exact: the suite must reject every one.
"""
import torch
from torch import nn

#: torch's gate blocks (i, f, g, o) in this layer's order (i, f, o, g).
OWN_ORDER = (0, 1, 3, 2)


class FusedLSTM(nn.Module):
    """A correct LSTM with its own parameter names (W_l{layer}{_r}, b_l{layer}{_r}); no
    projections (refused), no PackedSequence input (declared)."""

    rnn_conformance_unsupported = ("packed",)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__()
        if proj_size:
            raise NotImplementedError("FusedLSTM has no projections")
        self.hidden_size, self.num_layers, self.bias = hidden_size, num_layers, bias
        self.batch_first, self.dropout, self.directions = batch_first, dropout, 2 if bidirectional else 1
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * self.directions
            for direction in range(self.directions):
                key = self.key(layer, direction)
                setattr(self, f"W{key}", nn.Parameter(torch.randn(width + hidden_size, 4 * hidden_size) * 0.1))
                if bias:
                    setattr(self, f"b{key}", nn.Parameter(torch.zeros(4 * hidden_size)))

    @staticmethod
    def key(layer, direction):
        return f"_l{layer}" + ("_r" if direction else "")

    @staticmethod
    def torch_suffix(layer, direction):
        return f"_l{layer}" + ("_reverse" if direction else "")

    def own_parameters(self, state_dict):
        """This layer's parameters from torch-named tensors, with differentiable operations."""
        own = {}
        for layer in range(self.num_layers):
            for direction in range(self.directions):
                suffix, key = self.torch_suffix(layer, direction), self.key(layer, direction)
                fused = torch.cat([state_dict[f"weight_ih{suffix}"], state_dict[f"weight_hh{suffix}"]], dim=1)
                own[f"W{key}"] = self.reorder(fused).t()
                if self.bias:
                    own[f"b{key}"] = self.reorder(state_dict[f"bias_ih{suffix}"] + state_dict[f"bias_hh{suffix}"])
        return own

    def reorder(self, rows):
        blocks = rows.split(self.hidden_size, dim=0)
        return torch.cat([blocks[i] for i in OWN_ORDER], dim=0)

    def load_torch_state_dict(self, state_dict):
        with torch.no_grad():
            for name, value in self.own_parameters(state_dict).items():
                getattr(self, name).copy_(value)

    # ---- what a planted bug changes --------------------------------------------------------
    def weight(self, layer, direction):
        return getattr(self, f"W{self.key(layer, direction)}")

    def bias_of(self, layer, direction):
        return getattr(self, f"b{self.key(layer, direction)}", None)

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, input, hx=None):
        if input.dim() not in (2, 3) or input.shape[-1] != self.weight(0, 0).shape[0] - self.hidden_size:
            raise ValueError(f"input of shape {tuple(input.shape)} does not fit this layer")
        batched = input.dim() == 3
        x = (input.transpose(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        if x.shape[0] == 0:
            raise ValueError("a sequence of length 0")
        lead = self.num_layers * self.directions
        if hx is None:
            zeros = x.new_zeros(lead, x.shape[1], self.hidden_size)
            h0, c0 = zeros, zeros
        else:
            h0, c0 = (h.unsqueeze(1) for h in hx) if not batched else hx
            if any(tuple(h.shape) != (lead, x.shape[1], self.hidden_size) for h in (h0, c0)):
                raise ValueError(f"hx of shapes {[tuple(h.shape) for h in hx]} does not fit this layer")
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                out, h, c = self.run_direction(x, h0[index], c0[index], layer, direction)
                outputs.append(out)
                finals_h.append(h)
                finals_c.append(c)
            x = torch.cat(outputs, dim=-1)
            if layer < self.num_layers - 1:
                x = nn.functional.dropout(x, self.dropout, self.training)
        h_n, c_n = torch.stack(finals_h), torch.stack(finals_c)
        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)

    def run_direction(self, x, h, c, layer, direction):
        w, b = self.weight(layer, direction), self.bias_of(layer, direction)
        steps = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
        outputs = [None] * x.shape[0]
        for t in steps:
            z = torch.cat([x[t], h], dim=-1) @ w
            if b is not None:
                z = z + b
            i, f, o, g = z.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs[t] = h
        return torch.stack(outputs), h, c


class MappedFusedLSTM(FusedLSTM):
    """The same layer with the mapping hook instead of the copying one: its weight gradients
    are compared through torch.func.functional_call."""

    load_torch_state_dict = None

    def rnn_conformance_from_torch(self, state_dict):
        return self.own_parameters(state_dict)


class _DetachedWeights:
    """The fused weight is detached inside the step: the layer can never learn it."""

    def weight(self, layer, direction):
        return super().weight(layer, direction).detach()


class _DetachedBias:
    """The bias is detached inside the step."""

    def bias_of(self, layer, direction):
        bias = super().bias_of(layer, direction)
        return None if bias is None else bias.detach()


class _HalfWeightGradient:
    """The forward value of W is exact (W/2 + W/2), its gradient half of the true one."""

    def weight(self, layer, direction):
        w = super().weight(layer, direction)
        return w * 0.5 + w.detach() * 0.5


class _FrozenReverse:
    """The reverse direction's parameters are frozen (requires_grad=False)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, parameter in self.named_parameters():
            if name.endswith("_r"):
                parameter.requires_grad_(False)


class FusedLSTMDetachedWeights(_DetachedWeights, FusedLSTM):
    pass


class FusedLSTMDetachedBias(_DetachedBias, FusedLSTM):
    pass


class FusedLSTMHalfWeightGradient(_HalfWeightGradient, FusedLSTM):
    pass


class FusedLSTMFrozenReverse(_FrozenReverse, FusedLSTM):
    pass


class MappedFusedLSTMDetachedWeights(_DetachedWeights, MappedFusedLSTM):
    pass


class MappedFusedLSTMDetachedBias(_DetachedBias, MappedFusedLSTM):
    pass


class MappedFusedLSTMHalfWeightGradient(_HalfWeightGradient, MappedFusedLSTM):
    pass


class MappedFusedLSTMFrozenReverse(_FrozenReverse, MappedFusedLSTM):
    pass


class MappedFusedLSTMMissingBias(MappedFusedLSTM):
    """A mistake in the hook itself: it forgets the biases (the suite names the hook)."""

    def rnn_conformance_from_torch(self, state_dict):
        return {k: v for k, v in self.own_parameters(state_dict).items() if not k.startswith("b")}
