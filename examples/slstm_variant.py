"""sLSTM (Beck et al. 2024, xLSTM) for the oracle; the layer is ``examples/slstm.py``.
Exponential input and forget gates, stabilized by a running maximum m, and a normalizer n:

    (i~, f~, z~, o~) = W_ih x + b_ih + W_hh h + b_hh
    m' = max(f~ + m, i~)
    i = exp(i~ - m'),  f = exp(f~ + m - m')
    c' = f c + i tanh(z~),  n' = f n + i,  h' = σ(o~) c' / n'

Four states (h, c, n, m); n is positive (it divides), m real.  h is invariant to the stabilizer
in exact arithmetic; c, n and m are not, and a layer returns them as computed this way.
"""
import reference
from reference import divide, exp, maximum, sigmoid, split, tanh, linear


def slstm_cell(gx, h, c, n, m, w):
    i_pre, f_pre, z_pre, o_pre = split(gx + linear(h, w.hidden), 1, 1, 1, 1)
    m_next = maximum(f_pre + m, i_pre)
    i = exp(i_pre - m_next)
    f = exp(f_pre + m - m_next)
    c_next = f * c + i * tanh(z_pre)
    n_next = f * n + i
    return sigmoid(o_pre) * divide(c_next, n_next), c_next, n_next, m_next


SLSTM = reference.Variant("SLSTM", gates=4, states=("h", "c", "n", "m"), step=slstm_cell, domains={"n": "positive"})
