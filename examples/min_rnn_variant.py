"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?") for the oracle; the layers
are ``examples/min_rnn.py``.  Neither gate reads the state, so the recurrence is linear in h
and has a parallel form (a log-space scan), which needs positive states:

    minGRU:   z = σ(W_z x + b_z),  h~ = g(W_h x + b_h),  h' = (1 - z) h + z h~
    minLSTM:  f = σ(W_f x + b_f),  i = σ(W_i x + b_i),  h~ = g(W_h x + b_h),
              h' = f / (f + i) h + i / (f + i) h~

with g(v) = v + 1/2 for v >= 0, σ(v) below (positive, continuous, increasing).  ``weight_ih``
stacks (z, h) or (f, i, h); there is no recurrent weight.  The ``_LOG`` variants are the same
recurrences with h declared positive: what the log-space scan needs, and so the initial states
the suite draws for it.
"""
import numpy as np

import reference
from reference import divide, lerp, monotone, sigmoid, split
from reference.arithmetic import sigmoid_value


def _g_slope(v):
    s = sigmoid_value(np.minimum(v, 0.0))
    return np.where(v >= 0.0, 1.0, s * (1.0 - s))


#: minGRU's g: v + 1/2 above 0, the logistic function below; non-decreasing, its slope jumps at 0.
G = reference.Monotone("g", lambda v: np.where(v >= 0.0, v + 0.5, sigmoid_value(np.minimum(v, 0.0))), _g_slope,
                       breaks=(0.0,))


def mingru_cell(gx, h, w):
    """h' = (1 - z) h + z g(v), gx = (W_z x + b_z, W_h x + b_h)."""
    k, v = split(gx, 1, 1)
    return (lerp(h, monotone(v, G), sigmoid(k)),)


def minlstm_cell(gx, h, w):
    """h' = f / (f + i) h + i / (f + i) g(v), gx = (W_f x + b_f, W_i x + b_i, W_h x + b_h)."""
    k_f, k_i, v = split(gx, 1, 1, 1)
    f, i = sigmoid(k_f), sigmoid(k_i)
    total = f + i
    return (divide(f, total) * h + divide(i, total) * monotone(v, G),)


def _parameters(gates):
    return (("weight_ih", (f"{gates}H", "I")), ("bias_ih", (f"{gates}H",)))


MINGRU = reference.Variant("MINGRU", gates=2, states=("h",), step=mingru_cell, parameters=_parameters(2))
MINGRU_LOG = reference.Variant("MINGRU_LOG", gates=2, states=("h",), step=mingru_cell, parameters=_parameters(2),
                               domains={"h": "positive"})
MINLSTM = reference.Variant("MINLSTM", gates=3, states=("h",), step=minlstm_cell, parameters=_parameters(3))
MINLSTM_LOG = reference.Variant("MINLSTM_LOG", gates=3, states=("h",), step=minlstm_cell, parameters=_parameters(3),
                                domains={"h": "positive"})
