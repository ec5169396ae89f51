"""An SRU layer (Lei et al. 2018) with torch.nn.LSTM's contract (states h and c; h0 is taken and
not read, as SRU's output is not recurrent), its highway projected (``weight_hw``); the
equations: ``examples/sru_variant.py``.
"""
import torch
import torch.nn.functional as F

from examples.recurrent import Recurrent


class SRU(Recurrent):
    rnn_conformance_variant = "examples.sru_variant:SRU"
    states = ("h", "c")

    def shapes(self, in_size):
        return {"weight_ih": (3 * self.hidden_size, in_size), "weight_hw": (self.hidden_size, in_size),
                "weight_c": (2 * self.hidden_size,), "bias_ih": (3 * self.hidden_size,)}

    def step(self, x, state, p, side):
        c = state[1]
        x_tilde, f_pre, r_pre = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        v_f, v_r = p("weight_c").chunk(2)
        f, r = torch.sigmoid(f_pre + v_f * c), torch.sigmoid(r_pre + v_r * c)
        c_next = f * c + (1 - f) * x_tilde
        return r * c_next + (1 - r) * F.linear(x, p("weight_hw")), c_next
