"""The record of ``examples/gained_rnn.py``: a tanh RNN whose pre-activation is scaled by one
learned gain, a parameter of fixed size 1 (written ``(1,)`` or ``("1",)``; the suite draws it as
any other parameter, the step reads it as ``w.weight_g``, broadcast over the batch and units)."""
import reference
from reference import linear, tanh


def gained_cell(gx, h, w):
    return (tanh(w.weight_g * (gx + linear(h, w.hidden))),)


GAINED_RNN = reference.Variant("GAINED_RNN", gates=1, states=("h",), step=gained_cell,
                               parameters=(("weight_ih", ("H", "I")), ("weight_hh", ("H", "H")), ("weight_g", (1,)),
                                           ("bias_ih", ("H",)), ("bias_hh", ("H",))))
