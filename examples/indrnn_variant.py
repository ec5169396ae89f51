"""IndRNN's description for the oracle (``examples/indrnn.py`` is the layer, which names it
by string): kept in a module of its own so that the layer's module imports nothing of the suite.

    h' = relu(W_ih x + b_ih + u * h + b_hh)        u = weight_hh, shape (H,)
"""
import reference
from reference import relu


def indrnn_cell(gx, h, w):
    """h' = relu(W_ih x + b_ih + u * h + b_hh): gx is W_ih x + b_ih, w.weight_hh is u."""
    return (relu(gx + w.weight_hh * h + w.bias_hh),)


INDRNN = reference.Variant(
    "INDRNN", gates=1, states=("h",), step=indrnn_cell, unbounded=True,
    parameters=(("weight_ih", ("H", "I")), ("weight_hh", ("H",)), ("bias_ih", ("H",)), ("bias_hh", ("H",))))
