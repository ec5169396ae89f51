"""An sLSTM layer (xLSTM's scalar-memory LSTM, Beck et al. 2024) with torch.nn.LSTM's contract
and four states: ``forward(input, (h0, c0, n0, m0))`` returns ``(output, (h_n, c_n, n_n, m_n))``.
Exponential gating stabilized by the running maximum m; the equations:
``examples/slstm_variant.py``.
"""
import torch
import torch.nn.functional as F

from examples.recurrent import Recurrent


class SLSTM(Recurrent):
    rnn_conformance_variant = "examples.slstm_variant:SLSTM"
    states = ("h", "c", "n", "m")

    def shapes(self, in_size):
        rows = 4 * self.hidden_size
        return {"weight_ih": (rows, in_size), "weight_hh": (rows, self.hidden_size), "bias_ih": (rows,),
                "bias_hh": (rows,)}

    def step(self, x, state, p, side):
        h, c, n, m = state
        gates = F.linear(x, p("weight_ih"), p("bias_ih")) + F.linear(h, p("weight_hh"), p("bias_hh"))
        i_pre, f_pre, z_pre, o_pre = gates.chunk(4, -1)
        m_next = torch.maximum(f_pre + m, i_pre)
        i, f = torch.exp(i_pre - m_next), torch.exp(f_pre + m - m_next)
        c_next = f * c + i * torch.tanh(z_pre)
        n_next = f * n + i
        return torch.sigmoid(o_pre) * (c_next / n_next), c_next, n_next, m_next
