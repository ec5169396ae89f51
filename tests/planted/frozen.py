"""A layer with a fixed mask (a wiring, as ncps' wired CfC has): ``weight_mask`` is loaded with the
rest of the state dict but not trained (``requires_grad=False``).  ``MASKED`` declares it frozen;
``MASKED_UNDECLARED`` does not, so the suite must say the layer has an untrained parameter.

    h' = tanh(W_ih x + b_ih + (u * mask) * h)
"""
import torch
import torch.nn.functional as F

import reference
from examples.recurrent import Recurrent
from reference import tanh


def masked_cell(gx, h, w):
    return (tanh(gx + w.weight_hh * w.weight_mask * h),)


_PARAMETERS = (("weight_ih", ("H", "I")), ("weight_hh", ("H",)), ("weight_mask", ("H",)), ("bias_ih", ("H",)))
MASKED = reference.Variant("MASKED", gates=1, states=("h",), step=masked_cell, parameters=_PARAMETERS,
                           frozen=("weight_mask",))
MASKED_UNDECLARED = reference.Variant("MASKED_UNDECLARED", gates=1, states=("h",), step=masked_cell,
                                      parameters=_PARAMETERS)


class MaskedRNN(Recurrent):
    rnn_conformance_variant = "tests.planted.frozen:MASKED"
    frozen = ("weight_mask",)

    def shapes(self, in_size):
        return {"weight_ih": (self.hidden_size, in_size), "weight_hh": (self.hidden_size,),
                "weight_mask": (self.hidden_size,), "bias_ih": (self.hidden_size,)}

    def step(self, x, state, p, side):
        return (torch.tanh(F.linear(x, p("weight_ih"), p("bias_ih")) + p("weight_hh") * p("weight_mask") * state[0]),)


class UndeclaredMaskedRNN(MaskedRNN):
    rnn_conformance_variant = "tests.planted.frozen:MASKED_UNDECLARED"
