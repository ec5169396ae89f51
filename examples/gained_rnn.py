"""A tanh RNN with one learned gain for the whole layer, h' = tanh(g (W_ih x + b_ih + W_hh h + b_hh)):
a worked example of a parameter of a fixed size (``("weight_g", (1,))`` in its record, not a
multiple of a size the suite draws), with torch.nn.RNN's contract on the shared scaffold; the
equations: ``examples/gained_rnn_variant.py``.

    rnn-conformance --impl examples.gained_rnn:GainedRNN --dtypes float64,float32
"""
import torch
import torch.nn.functional as F

from examples.recurrent import Recurrent


class GainedRNN(Recurrent):
    rnn_conformance_variant = "examples.gained_rnn_variant:GAINED_RNN"
    states = ("h",)

    def shapes(self, in_size):
        H = self.hidden_size
        return {"weight_ih": (H, in_size), "weight_hh": (H, H), "weight_g": (1,), "bias_ih": (H,), "bias_hh": (H,)}

    def step(self, x, state, p, side):
        pre = F.linear(x, p("weight_ih"), p("bias_ih")) + F.linear(state[0], p("weight_hh"), p("bias_hh"))
        return (torch.tanh(p("weight_g") * pre),)
