"""SRU (Lei et al. 2018, "Simple Recurrent Units for Highly Parallelizable Recurrence") for the
oracle; the layer is ``examples/sru.py``.  Its gates read the previous cell state only through
vectors (v_f, v_r), and its output is a highway of the layer's input, projected (as ``sru``
does when the sizes differ; here always, so that stacking and both directions keep one form):

    (x~, f~, r~) = W_ih x + b_ih
    f = σ(f~ + v_f c),  r = σ(r~ + v_r c)
    c' = f c + (1 - f) x~
    h' = r c' + (1 - r) W_hw x

The step reads the raw input x (``reads_input``) for the highway; ``weight_c`` is (v_f, v_r).
States (h, c): h is the output, the step never reads it.
"""
import reference
from reference import lerp, linear, sigmoid, split


def sru_cell(gx, h, c, w):
    x_tilde, f_pre, r_pre = split(gx, 1, 1, 1)
    v_f, v_r = split(w.weight_c, 1, 1)
    f, r = sigmoid(f_pre + v_f * c), sigmoid(r_pre + v_r * c)
    c_next = lerp(x_tilde, c, f)
    return lerp(linear(w.x, w.weight_hw), c_next, r), c_next


SRU = reference.Variant("SRU", gates=3, states=("h", "c"), step=sru_cell, reads_input=True,
                        parameters=(("weight_ih", ("3H", "I")), ("weight_hw", ("H", "I")), ("weight_c", ("2H",)),
                                    ("bias_ih", ("3H",))))
