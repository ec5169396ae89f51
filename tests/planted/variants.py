"""Correct pure-torch layers of the oracle's variants that torch does not have (ONNX's options,
and the README's IndRNN), each declaring its variant; then planted bugs, at least three per
variant, each one mistake a real implementation of that variant makes.

Each layer is ``TorchLSTM``/``TorchGRU`` of ``torch_rnn.py`` with its variant's parameters and
one step rewritten, so the layers, directions, packing and states around it are the same
tested code.
"""
import torch

from examples.indrnn import IndRNN
from tests.planted.torch_rnn import TorchGRU, TorchLSTM


class _VariantLSTM(TorchLSTM):
    """TorchLSTM without a projection, its extra parameters registered after torch's."""

    extra = ()  # (kind, rows in units of H)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        for layer in range(num_layers):
            for suffix in self.suffixes(layer):
                for kind, rows in self.extra:
                    self.add(f"{kind}{suffix}", (rows * hidden_size,), device, dtype)

    def params(self, suffix):
        return super().params(suffix)[:4] + tuple(getattr(self, f"{kind}{suffix}") for kind, _ in self.extra)

    def gate(self, a):
        return torch.sigmoid(a)

    def candidate(self, a):
        return torch.tanh(a)

    def squash(self, c):
        return torch.tanh(c)

    def cut(self, a):
        return a


class PeepholeLSTM(_VariantLSTM):
    """ONNX's LSTM with peepholes: p_i * c and p_f * c join i and f, p_o * c' joins o."""

    rnn_conformance_variant = "LSTM_PEEPHOLE"
    extra = (("weight_p", 3),)

    def peepholes(self, p):
        return p.chunk(3)  # i, f, o

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, p = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        p_i, p_f, p_o = self.peepholes(p)
        i, f = self.gate(i + p_i * c), self.gate(f + self.forget_peephole(p_f, c))
        c_next = f * c + i * torch.tanh(g)
        o = self.gate(o + p_o * self.output_sees(c, c_next))
        return [o * torch.tanh(c_next), c_next]

    def forget_peephole(self, p_f, c):
        return p_f * c

    def output_sees(self, c, c_next):
        return c_next


class CoupledLSTM(_VariantLSTM):
    """ONNX's input_forget: f = 1 - i, gate blocks i, g, o."""

    rnn_conformance_variant = "LSTM_COUPLED"
    gates = 3

    def split(self, gates):
        return gates.chunk(3, dim=1)  # i, g, o

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh = params
        h, c = state
        i, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        i = torch.sigmoid(i)
        c_next = self.remember(i, c) + i * torch.tanh(g)
        return [torch.sigmoid(o) * torch.tanh(c_next), c_next]

    def remember(self, i, c):
        return (1 - i) * c


class _GatedLSTM(_VariantLSTM):
    """An LSTM whose gate, candidate and cell activations and gate-input cut are methods."""

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        i, f, o = self.gate(self.cut(i)), self.gate(self.cut(f)), self.gate(self.cut(o))
        c_next = self.keep(f * c + i * self.candidate(self.cut(g)))
        return [o * self.squash(c_next), c_next]

    def keep(self, c):
        return c


class ClippedLSTM(_GatedLSTM):
    """ONNX's clip=1: every gate's input clamped to [-1, 1] before its activation."""

    rnn_conformance_variant = "LSTM_CLIP"

    def cut(self, a):
        return a.clamp(-1.0, 1.0)


class HardSigmoidLSTM(_GatedLSTM):
    """ONNX's activations (HardSigmoid, Tanh, Tanh): gates min(max(0.2 x + 0.5, 0), 1)."""

    rnn_conformance_variant = "LSTM_HARD_SIGMOID"

    def gate(self, a):
        return (0.2 * a + 0.5).clamp(0.0, 1.0)


class ResetBeforeGRU(TorchGRU):
    """ONNX's linear_before_reset=0 (Keras' reset_after=False): n = tanh(W_in x + b_in + W_hn (r h) + b_hn)."""

    rnn_conformance_variant = "GRU_RESET_BEFORE"

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, _ = params
        h = state[0]
        x_r, x_z, x_n = self.split(self.linear(x, w_ih, b_ih))
        w_hr, w_hz, w_hn = w_hh.chunk(3)
        b_hr, b_hz, b_hn = (None, None, None) if b_hh is None else b_hh.chunk(3)
        r = torch.sigmoid(x_r + self.linear(h, w_hr, b_hr))
        z = torch.sigmoid(x_z + self.linear(h, w_hz, b_hz))
        n = torch.tanh(x_n + self.reset_hidden(self.resetting(r, z), h, w_hn, b_hn))
        return [self.blend(z, n, h)]

    def resetting(self, r, z):
        """The gate that resets h."""
        return r

    def reset_hidden(self, r, h, w_hn, b_hn):
        return self.linear(r * h, w_hn, b_hn)


class PeepholeLSTMCell(torch.nn.Module):
    """One step of LSTM_PEEPHOLE with torch.nn.LSTMCell's contract (kind variant_cell)."""

    rnn_conformance_variant = "LSTM_PEEPHOLE"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        shapes = {"weight_ih": (4 * hidden_size, input_size), "weight_hh": (4 * hidden_size, hidden_size)}
        if bias:
            shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
        shapes["weight_p"] = (3 * hidden_size,)
        for name, shape in shapes.items():
            self.register_parameter(name, torch.nn.Parameter(
                torch.empty(shape, device=device, dtype=dtype).uniform_(-hidden_size ** -0.5, hidden_size ** -0.5)))

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"LSTMCell: expected input (B, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(input.shape)}")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            h = c = x.new_zeros(x.shape[0], self.hidden_size)
        else:
            h, c = hx
            expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
            if tuple(h.shape) != expected or tuple(c.shape) != expected:
                raise ValueError(f"LSTMCell: expected hx of shape {expected}, got {tuple(h.shape)}, {tuple(c.shape)}")
            h, c = (h, c) if batched else (h.unsqueeze(0), c.unsqueeze(0))
        gates = x @ self.weight_ih.t() + h @ self.weight_hh.t()
        if getattr(self, "bias_ih", None) is not None:
            gates = gates + self.bias_ih + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        p_i, p_f, p_o = self.peepholes()
        i, f = torch.sigmoid(i + p_i * c), torch.sigmoid(f + p_f * c)
        c = f * c + i * torch.tanh(g)
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def peepholes(self):
        return self.weight_p.chunk(3)


#: The correct layers and cells: each must pass every check that applies to it.
CORRECT = (PeepholeLSTM, CoupledLSTM, ClippedLSTM, HardSigmoidLSTM, ResetBeforeGRU, IndRNN, PeepholeLSTMCell)


# --- planted bugs -------------------------------------------------------------------------------

class PeepholeOutputSeesOldCell(PeepholeLSTM):
    """o's peephole reads c (the previous cell) instead of c' (the new one)."""

    def output_sees(self, c, c_next):
        return c


class PeepholesInONNXOrder(PeepholeLSTM):
    """weight_p read as ONNX lays out P (i, o, f) while it holds i, f, o."""

    def peepholes(self, p):
        p_i, p_o, p_f = p.chunk(3)
        return p_i, p_f, p_o


class PeepholeMissingOnForget(PeepholeLSTM):
    """The forget gate gets no peephole."""

    def forget_peephole(self, p_f, c):
        return torch.zeros_like(c)


class PeepholeCellInONNXOrder(PeepholeLSTMCell):
    """The cell reads weight_p as ONNX lays out P (i, o, f)."""

    def peepholes(self):
        p_i, p_o, p_f = self.weight_p.chunk(3)
        return p_i, p_f, p_o


class PeepholeGradientDetached(PeepholeLSTM):
    """The peepholes are used detached: right values, no gradient reaches weight_p."""

    def peepholes(self, p):
        return p.detach().chunk(3)


class CoupledForgetEqualsInput(CoupledLSTM):
    """f = i instead of 1 - i."""

    def remember(self, i, c):
        return i * c


class CoupledGateOrderIOG(CoupledLSTM):
    """Blocks read as i, o, g."""

    def split(self, gates):
        i, o, g = gates.chunk(3, dim=1)
        return i, g, o


class CoupledForgetsEverything(CoupledLSTM):
    """The cell state is not carried: c' = i * g."""

    def remember(self, i, c):
        return torch.zeros_like(c)


class ClipAfterActivation(ClippedLSTM):
    """The clamp applied to the activations' outputs (where it changes nothing) instead of inputs."""

    def cut(self, a):
        return a

    def gate(self, a):
        return torch.sigmoid(a).clamp(-1.0, 1.0)


class ClipOnlyCandidate(ClippedLSTM):
    """Only g's input is clamped; i, f and o are not."""

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g.clamp(-1.0, 1.0))
        return [torch.sigmoid(o) * torch.tanh(c_next), c_next]


class ClipAlsoTheCellState(ClippedLSTM):
    """The cell state itself is clamped to [-1, 1] too (ONNX clips gate inputs only)."""

    def keep(self, c):
        return c.clamp(-1.0, 1.0)


class HardSigmoidTorchSlope(HardSigmoidLSTM):
    """torch's hardsigmoid (x / 6 + 1/2) where ONNX's (0.2 x + 0.5) is meant."""

    def gate(self, a):
        return torch.nn.functional.hardsigmoid(a)


class HardSigmoidUnclamped(HardSigmoidLSTM):
    """0.2 x + 0.5 without the clamp to [0, 1]."""

    def gate(self, a):
        return 0.2 * a + 0.5


class HardSigmoidOnCandidate(HardSigmoidLSTM):
    """The hard sigmoid also replaces the candidate's tanh."""

    def candidate(self, a):
        return self.gate(a)


class ResetAfterMatmul(ResetBeforeGRU):
    """torch's GRU (linear_before_reset=1): r * (W_hn h + b_hn)."""

    def reset_hidden(self, r, h, w_hn, b_hn):
        return r * self.linear(h, w_hn, b_hn)


class ResetScalesHiddenBias(ResetBeforeGRU):
    """The hidden bias inside the reset: W_hn (r h) + r * b_hn."""

    def reset_hidden(self, r, h, w_hn, b_hn):
        return self.linear(r * h, w_hn, None) + (0 if b_hn is None else r * b_hn)


class ResetWithUpdateGate(ResetBeforeGRU):
    """The update gate z resets h before the matmul, instead of r."""

    def resetting(self, r, z):
        return z


class IndRNNRecurrenceAfterActivation(IndRNN):
    """h' = relu(W x + b) + u * h: the recurrence added outside the activation."""

    def step(self, gx, h, u, b_hh):
        return torch.relu(gx) + u * h + (0 if b_hh is None else b_hh)


class IndRNNHiddenBiasIgnored(IndRNN):
    """bias_hh is never added."""

    def step(self, gx, h, u, b_hh):
        return torch.relu(gx + u * h)


class IndRNNReverseReadsForward(IndRNN):
    """The reverse direction steps forward in time."""

    def step_order(self, steps, reverse):
        return range(steps)


#: (bug, variant): every planted bug of the variants.
PLANTED = [(bug, bug.rnn_conformance_variant) for bug in (
    PeepholeOutputSeesOldCell, PeepholesInONNXOrder, PeepholeMissingOnForget, PeepholeGradientDetached,
    PeepholeCellInONNXOrder,
    CoupledForgetEqualsInput, CoupledGateOrderIOG, CoupledForgetsEverything,
    ClipAfterActivation, ClipOnlyCandidate, ClipAlsoTheCellState,
    HardSigmoidTorchSlope, HardSigmoidUnclamped, HardSigmoidOnCandidate,
    ResetAfterMatmul, ResetScalesHiddenBias, ResetWithUpdateGate,
    IndRNNRecurrenceAfterActivation, IndRNNHiddenBiasIgnored, IndRNNReverseReadsForward)]
