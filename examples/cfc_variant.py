"""CfC (Hasani et al. 2022, closed-form continuous-time) for the oracle, in the default mode of
``ncps.torch.CfC``; the layer is ``examples/cfc.py``.  A backbone of its own width U reads
(x, h); four heads read the backbone; the timespan t of each step gates between two of them:

    b = lecun_tanh(W_ih x + b_ih + W_hh h)                 lecun_tanh(a) = 1.7159 tanh(0.666 a)
    f1 = tanh(W_ff1 b + b_ff1),  f2 = tanh(W_ff2 b + b_ff2)
    s = σ((W_ta b + b_ta) t + W_tb b + b_tb)
    h' = f1 (1 - s) + s f2

U is drawn by the suite and passed as ``backbone_units``; t is the side input ``timespans``
(positive), passed to forward by that keyword.
"""
import reference
from reference import lerp, linear, sigmoid, tanh


def lecun_tanh(a):
    return 1.7159 * tanh(0.666 * a)


def cfc_cell(gx, h, w):
    b = lecun_tanh(gx + linear(h, w.hidden))
    f1 = tanh(linear(b, w.weight_ff1) + w.bias_ff1)
    f2 = tanh(linear(b, w.weight_ff2) + w.bias_ff2)
    s = sigmoid((linear(b, w.weight_ta) + w.bias_ta) * w.timespans + linear(b, w.weight_tb) + w.bias_tb)
    return (lerp(f1, f2, s),)


HEADS = ("ff1", "ff2", "ta", "tb")
CFC = reference.Variant(
    "CFC", gates=1, states=("h",), step=cfc_cell, sizes=(("U", "backbone_units"),),
    side_inputs=(("timespans", "positive"),),
    parameters=(("weight_ih", ("U", "I")), ("weight_hh", ("U", "H")), ("bias_ih", ("U",)))
    + tuple((f"weight_{head}", ("H", "U")) for head in HEADS) + tuple((f"bias_{head}", ("H",)) for head in HEADS))
