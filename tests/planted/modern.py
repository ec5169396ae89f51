"""Planted bugs of the modern recurrences' worked examples (``examples/min_rnn.py``,
``rglru.py``, ``cfc.py``, ``sru.py``, ``slstm.py``): each class is the correct example with
one mistake real code makes, the rest of the layer the same tested code.  ``PLANTED`` lists
(class, the example it breaks); ``CORRECT`` the examples themselves.
"""
import torch
import torch.nn.functional as F

from examples.cfc import CfC, lecun_tanh
from examples.min_rnn import MinGRU, MinGRUScan, MinLSTM, MinLSTMScan, g, log_g, softplus
from examples.rglru import C, RGLRU
from examples.slstm import SLSTM
from examples.sru import SRU


# --- minGRU -----------------------------------------------------------------------------------

class MinGRUGateSwapped(MinGRU):
    """h' = z h + (1 - z) g(v): the update gate weighs the old state."""

    def step(self, x, state, p, side):
        k, v = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(2, -1)
        z = torch.sigmoid(k)
        return (z * state[0] + (1 - z) * g(v),)


class MinGRUSigmoidCandidate(MinGRU):
    """g(v) = sigmoid(v) everywhere: the linear branch above 0 dropped."""

    def step(self, x, state, p, side):
        k, v = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(2, -1)
        z = torch.sigmoid(k)
        return ((1 - z) * state[0] + z * torch.sigmoid(v),)


class MinGRUScanDropsH0(MinGRUScan):
    """The log-space scan without the log h_0 term: h_0 is taken as 0 whatever hx says."""

    def run_direction(self, x, state, p, side, lengths, reverse):
        return super().run_direction(x, (torch.zeros_like(state[0]),), p, side, lengths, reverse)


class MinGRUScanH0Unweighted(MinGRUScan):
    """h_0 added after the scan, not decayed by the product of the a's: h_t = scan_t + h_0."""

    def run_direction(self, x, state, p, side, lengths, reverse):
        out, (final,) = super().run_direction(x, (torch.zeros_like(state[0]),), p, side, lengths, reverse)
        steps = x.size(0)
        live = torch.ones(steps, x.size(1), dtype=torch.bool) if lengths is None else \
            torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)
        live = live.to(x.device).unsqueeze(-1)
        return torch.where(live, out + state[0], out), (final + state[0],)


# --- minLSTM ----------------------------------------------------------------------------------

class MinLSTMUnnormalized(MinLSTM):
    """h' = f h + i g(v): the gates' normalization by f + i dropped."""

    def step(self, x, state, p, side):
        k_f, k_i, v = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return (f * state[0] + i * g(v),)


class MinLSTMNormalizedByForget(MinLSTM):
    """h' = (1 - i) h + i / (f + i) g(v): the old state weighed by minGRU's coupled 1 - i, not f / (f + i)."""

    def step(self, x, state, p, side):
        k_f, k_i, v = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return ((1 - i) * state[0] + i / (f + i) * g(v),)


class MinLSTMScanUnnormalized(MinLSTMScan):
    """The log-space scan with log f and log i not normalized (log f - log(f + i) dropped)."""

    def log_coefficients(self, gx):
        k_f, k_i, v = gx.chunk(3, -1)
        return -softplus(-k_f), -softplus(-k_i) + log_g(v)


class MinLSTMScanReverseUnaligned(MinLSTMScan):
    """The reverse direction flips the whole padded sequence, not each sequence within its
    length: packed sequences shorter than the longest start on padding."""

    def run_direction(self, x, state, p, side, lengths, reverse):
        if not reverse:
            return super().run_direction(x, state, p, side, lengths, reverse)
        out, (final,) = super().run_direction(x.flip(0), state, p, side, None, False)
        out = out.flip(0)
        if lengths is not None:
            live = (torch.arange(x.size(0)).unsqueeze(1) < lengths.unsqueeze(0)).to(x.device).unsqueeze(-1)
            out = torch.where(live, out, torch.zeros_like(out))
            final = out[0]
        return out, (final,)


# --- RG-LRU -----------------------------------------------------------------------------------

class RGLRUSqrtOneMinusA(RGLRU):
    """sqrt(1 - a) for sqrt(1 - a**2)."""

    def step(self, x, state, p, side):
        r_pre, i_pre, u = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        a = torch.exp(-C * torch.sigmoid(r_pre) * softplus(-p("weight_lambda")))
        return (a * state[0] + torch.sqrt(1 - a) * (torch.sigmoid(i_pre) * u),)


class RGLRUUnboundedSqrt(RGLRU):
    """torch.sqrt(1 - a**2) with torch's derivative: once the recurrence gate saturates and a rounds
    to 1, the backward divides by 0 (inf and NaN gradients, where the exact ones are finite)."""

    def step(self, x, state, p, side):
        r_pre, i_pre, u = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        a = torch.exp(-C * torch.sigmoid(r_pre) * softplus(-p("weight_lambda")))
        return (a * state[0] + torch.sqrt(1 - a * a) * (torch.sigmoid(i_pre) * u),)


class RGLRUSoftplusSign(RGLRU):
    """a = exp(-c r softplus(Λ)): the sign inside softplus lost (a = 1 - σ(Λ) ** ...)."""

    def step(self, x, state, p, side):
        r_pre, i_pre, u = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        a = torch.exp(-C * torch.sigmoid(r_pre) * softplus(p("weight_lambda")))
        return (a * state[0] + torch.sqrt(1 - a * a) * (torch.sigmoid(i_pre) * u),)


class RGLRUNoInputGate(RGLRU):
    """The input gate i never applied: h' = a h + sqrt(1 - a**2) u."""

    def step(self, x, state, p, side):
        r_pre, _, u = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        a = torch.exp(-C * torch.sigmoid(r_pre) * softplus(-p("weight_lambda")))
        return (a * state[0] + torch.sqrt(1 - a * a) * u,)


# --- CfC --------------------------------------------------------------------------------------

class _CfCHeads(CfC):
    def heads(self, x, state, p, activation=lecun_tanh):
        b = activation(F.linear(x, p("weight_ih"), p("bias_ih")) + F.linear(state[0], p("weight_hh")))
        return lambda name: F.linear(b, p(f"weight_{name}"), p(f"bias_{name}"))


class CfCIgnoresTimespans(_CfCHeads):
    """The timespans never read: s = σ(W_ta b + b_ta + W_tb b + b_tb), as with t = 1."""

    def step(self, x, state, p, side):
        head = self.heads(x, state, p)
        s = torch.sigmoid(head("ta") + head("tb"))
        return (torch.tanh(head("ff1")) * (1 - s) + s * torch.tanh(head("ff2")),)


class CfCHeadsSwapped(_CfCHeads):
    """h' = f1 s + (1 - s) f2: the time gate's two heads swapped."""

    def step(self, x, state, p, side):
        head = self.heads(x, state, p)
        s = torch.sigmoid(head("ta") * side["timespans"] + head("tb"))
        return (torch.tanh(head("ff1")) * s + (1 - s) * torch.tanh(head("ff2")),)


class CfCPlainTanhBackbone(_CfCHeads):
    """The backbone's activation tanh, not LeCun's 1.7159 tanh(0.666 a)."""

    def step(self, x, state, p, side):
        head = self.heads(x, state, p, activation=torch.tanh)
        s = torch.sigmoid(head("ta") * side["timespans"] + head("tb"))
        return (torch.tanh(head("ff1")) * (1 - s) + s * torch.tanh(head("ff2")),)


# --- SRU --------------------------------------------------------------------------------------

class _SRUParts(SRU):
    def parts(self, x, state, p):
        x_tilde, f_pre, r_pre = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        v_f, v_r = p("weight_c").chunk(2)
        return x_tilde, f_pre, r_pre, v_f, v_r, F.linear(x, p("weight_hw"))


class SRUHighwayWrongSide(_SRUParts):
    """h' = (1 - r) c' + r W_hw x: the highway on the wrong side of the reset gate."""

    def step(self, x, state, p, side):
        c = state[1]
        x_tilde, f_pre, r_pre, v_f, v_r, highway = self.parts(x, state, p)
        f, r = torch.sigmoid(f_pre + v_f * c), torch.sigmoid(r_pre + v_r * c)
        c_next = f * c + (1 - f) * x_tilde
        return (1 - r) * c_next + r * highway, c_next


class SRUResetReadsNewCell(_SRUParts):
    """r = σ(r~ + v_r c'): the reset gate reads the new cell state, not the previous one."""

    def step(self, x, state, p, side):
        c = state[1]
        x_tilde, f_pre, r_pre, v_f, v_r, highway = self.parts(x, state, p)
        f = torch.sigmoid(f_pre + v_f * c)
        c_next = f * c + (1 - f) * x_tilde
        r = torch.sigmoid(r_pre + v_r * c_next)
        return r * c_next + (1 - r) * highway, c_next


class SRUForgetComplementSwapped(_SRUParts):
    """c' = (1 - f) c + f x~: the forget gate weighs the candidate."""

    def step(self, x, state, p, side):
        c = state[1]
        x_tilde, f_pre, r_pre, v_f, v_r, highway = self.parts(x, state, p)
        f, r = torch.sigmoid(f_pre + v_f * c), torch.sigmoid(r_pre + v_r * c)
        c_next = (1 - f) * c + f * x_tilde
        return r * c_next + (1 - r) * highway, c_next


# --- sLSTM ------------------------------------------------------------------------------------

class _SLSTMGates(SLSTM):
    def gates(self, x, h, p):
        gates = F.linear(x, p("weight_ih"), p("bias_ih")) + F.linear(h, p("weight_hh"), p("bias_hh"))
        return gates.chunk(4, -1)


class SLSTMStabilizerOnInputOnly(_SLSTMGates):
    """The stabilizer applied to the input gate only: f = exp(f~), not exp(f~ + m - m')."""

    def step(self, x, state, p, side):
        h, c, n, m = state
        i_pre, f_pre, z_pre, o_pre = self.gates(x, h, p)
        m_next = torch.maximum(f_pre + m, i_pre)
        i, f = torch.exp(i_pre - m_next), torch.exp(f_pre)
        c_next, n_next = f * c + i * torch.tanh(z_pre), f * n + i
        return torch.sigmoid(o_pre) * c_next / n_next, c_next, n_next, m_next


class SLSTMStabilizerForgetsM(_SLSTMGates):
    """m' = max(f~, i~): the running maximum does not carry m."""

    def step(self, x, state, p, side):
        h, c, n, m = state
        i_pre, f_pre, z_pre, o_pre = self.gates(x, h, p)
        m_next = torch.maximum(f_pre, i_pre)
        i, f = torch.exp(i_pre - m_next), torch.exp(f_pre + m - m_next)
        c_next, n_next = f * c + i * torch.tanh(z_pre), f * n + i
        return torch.sigmoid(o_pre) * c_next / n_next, c_next, n_next, m_next


class SLSTMNormalizerNotDecayed(_SLSTMGates):
    """n' = n + i: the normalizer state is not decayed by the forget gate."""

    def step(self, x, state, p, side):
        h, c, n, m = state
        i_pre, f_pre, z_pre, o_pre = self.gates(x, h, p)
        m_next = torch.maximum(f_pre + m, i_pre)
        i, f = torch.exp(i_pre - m_next), torch.exp(f_pre + m - m_next)
        c_next, n_next = f * c + i * torch.tanh(z_pre), n + i
        return torch.sigmoid(o_pre) * c_next / n_next, c_next, n_next, m_next


class SLSTMReturnsTwoStates(SLSTM):
    """Returns (output, (h_n, c_n)), as an LSTM would: n and m are lost."""

    def forward(self, input, hx=None, **side):
        output, state = super().forward(input, hx, **side)
        return output, state[:2]


CORRECT = (MinGRU, MinGRUScan, MinLSTM, MinLSTMScan, RGLRU, CfC, SRU, SLSTM)
PLANTED = (
    (MinGRUGateSwapped, MinGRU), (MinGRUSigmoidCandidate, MinGRU), (MinGRUScanDropsH0, MinGRUScan),
    (MinGRUScanH0Unweighted, MinGRUScan),
    (MinLSTMUnnormalized, MinLSTM), (MinLSTMNormalizedByForget, MinLSTM), (MinLSTMScanUnnormalized, MinLSTMScan),
    (MinLSTMScanReverseUnaligned, MinLSTMScan),
    (RGLRUSqrtOneMinusA, RGLRU), (RGLRUUnboundedSqrt, RGLRU), (RGLRUSoftplusSign, RGLRU), (RGLRUNoInputGate, RGLRU),
    (CfCIgnoresTimespans, CfC), (CfCHeadsSwapped, CfC), (CfCPlainTanhBackbone, CfC),
    (SRUHighwayWrongSide, SRU), (SRUResetReadsNewCell, SRU), (SRUForgetComplementSwapped, SRU),
    (SLSTMStabilizerOnInputOnly, SLSTM), (SLSTMStabilizerForgetsM, SLSTM), (SLSTMNormalizerNotDecayed, SLSTM),
)
