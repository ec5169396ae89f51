"""RG-LRU (De et al. 2024, Griffin) for the oracle; the layer is ``examples/rglru.py``.  Its
input u is the layer's own projection of x (Griffin feeds the RG-LRU a projected, convolved
input; here a linear projection, so that the layer has torch's contract), c = 8:

    (r~, i~, u) = W_ih x + b_ih
    r = σ(r~),  i = σ(i~),  a = σ(Λ) ** (c r)
    h' = a h + sqrt(1 - a**2) (i u), sqrt's derivative bounded by 1000 (Griffin's)

Λ is ``weight_lambda`` (H,).  The oracle raises σ(Λ) to the power c r (the paper's form);
an implementation computes a = exp(-c r softplus(-Λ)), the same number.
"""
import reference
from reference import power, sigmoid, split, sqrt

C = 8.0
#: Griffin bounds the derivative of sqrt(1 - a**2) (recurrentgemma's _MAX_SQRT_GRADIENT): at a = 1
#: the exact one is infinite, and a that rounds to 1 would give inf and NaN gradients.
MAX_SQRT_GRADIENT = 1000.0


def rglru_cell(gx, h, w):
    r_pre, i_pre, u = split(gx, 1, 1, 1)
    a = power(sigmoid(w.weight_lambda), C * sigmoid(r_pre))
    return (a * h + sqrt(1.0 - a * a, MAX_SQRT_GRADIENT) * (sigmoid(i_pre) * u),)


RGLRU = reference.Variant("RGLRU", gates=3, states=("h",), step=rglru_cell,
                          parameters=(("weight_ih", ("3H", "I")), ("weight_lambda", ("H",)), ("bias_ih", ("3H",))))
