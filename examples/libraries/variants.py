"""The variants the real libraries' adapters (``examples/libraries/``) compute, for the oracle: the
worked examples' recurrences in the forms those libraries ship.

* ``SRU_LIB``: sru's SRU, whose highway is the raw input or a projection by the layer's sizes.
* ``MINGRU_LOG_NO_BIAS``: mingru-pytorch's minGRU, log-space (h positive), its projection
  without bias (``Linear(dim, 2 * dim_inner, bias=False)``).
* ``QRNN``: speechbrain's QuasiRNN (f-pooling with an output gate; no recurrent weight).
* ``SLSTM_XLSTM``: xlstm's vanilla sLSTM cell, whose step branches on its normalizer state being 0
  (``reference.where`` on ``reference.equal``).
* ``LIGRU_LN`` and ``SLIGRU``: speechbrain's light GRUs, layer norm inside the step.
"""
import numpy as np

import reference
from examples.min_rnn_variant import mingru_cell
from reference import (divide, equal, exp, lerp, linear, logsigmoid, maximum, minimum, relu, sigmoid, split, sqrt,
                       sum_over, tanh, where)
from reference.arithmetic import value_of

MINGRU_LOG_NO_BIAS = reference.Variant("MINGRU_LOG_NO_BIAS", gates=2, states=("h",), step=mingru_cell,
                                       parameters=(("weight_ih", ("2H", "I")),), domains={"h": "positive"})

#: The same recurrence with h real: what a user who does not know the log-space path needs
#: positive states would declare (the suite then draws negative initial states too).
MINGRU_NO_BIAS = reference.Variant("MINGRU_NO_BIAS", gates=2, states=("h",), step=mingru_cell,
                                   parameters=(("weight_ih", ("2H", "I")),))


def _sru_lib_cell(gx, h, c, w):
    """sru's SRU (v2, no tanh, no rescale): its highway is the raw input where the layer's input
    is as wide as its state, ``W_hw x`` (its fourth matrix) otherwise; its biases act on f and r
    only."""
    x_tilde, f_pre, r_pre = split(gx, 1, 1, 1)
    v_f, v_r = split(w.weight_c, 1, 1)
    b_f, b_r = split(w.bias_fr, 1, 1)
    f, r = sigmoid(f_pre + v_f * c + b_f), sigmoid(r_pre + v_r * c + b_r)
    c_next = lerp(x_tilde, c, f)
    skip = w.x if np.shape(value_of(w.x))[-1] == np.shape(value_of(c))[-1] else linear(w.x, w.weight_hw)
    return lerp(skip, c_next, r), c_next


#: sru 2.6's SRU: ``weight_ih`` stacks (x~, f, r); ``weight_hw`` is its skip projection, read only by
#: a layer whose input is not as wide as its state.
SRU_LIB = reference.Variant("SRU_LIB", gates=3, states=("h", "c"), step=_sru_lib_cell, reads_input=True,
                            parameters=(("weight_ih", ("3H", "I")), ("weight_hw", ("H", "I")), ("weight_c", ("2H",)),
                                        ("bias_fr", ("2H",))))


def _qrnn_cell(gx, h, c, w):
    """QRNN's f-pooling with an output gate, as speechbrain writes it: c' = f tanh(z) + (1 - f) c,
    h' = σ(o) c' (f weighs the new value: the paper's f is its 1 - f)."""
    z, f, o = split(gx, 1, 1, 1)
    f = sigmoid(f)
    c_next = lerp(c, tanh(z), f)
    return sigmoid(o) * c_next, c_next


#: speechbrain's QuasiRNNLayer: one projection ``w`` (z, f, o) with bias, no recurrent weight.
QRNN = reference.Variant("QRNN", gates=3, states=("h", "c"), step=_qrnn_cell,
                         parameters=(("weight_ih", ("3H", "I")), ("bias_ih", ("3H",))))


def _xlstm_slstm_cell(gx, h, c, n, m, w):
    """xlstm's vanilla sLSTM step (``blocks/slstm/src/vanilla/slstm.py``): a sigmoid forget gate
    in log space, the stabilizer m taken from i~ alone while the normalizer n is 0 (before the
    first step from a zero state), both gates capped at 1, and h = (σ(o) c) / n as it writes it."""
    i_pre, f_pre, z_pre, o_pre = split(gx + linear(h, w.hidden), 1, 1, 1, 1)
    log_f = m + logsigmoid(f_pre)
    m_next = where(equal(n, 0.0), i_pre, maximum(i_pre, log_f))
    i = minimum(exp(i_pre - m_next), 1.0)
    f = minimum(exp(log_f - m_next), 1.0)
    c_next = f * c + i * tanh(z_pre)
    n_next = f * n + i
    return divide(sigmoid(o_pre) * c_next, n_next), c_next, n_next, m_next


#: xlstm 2.0's sLSTM cell (one head): torch's LSTM parameters, gates (i, f, z, o); n is positive
#: once the first step has run, and 0 in the zero state, where the step branches.
SLSTM_XLSTM = reference.Variant("SLSTM_XLSTM", gates=4, states=("h", "c", "n", "m"), step=_xlstm_slstm_cell,
                                domains={"n": "positive"})


def layer_norm(a, weight=None, bias=None, eps=1e-5):
    """torch.nn.LayerNorm over the last axis, written with the record's primitives (a worked
    example: normalization inside a step needs nothing more): the mean and the biased variance
    by ``sum_over`` (which drops the axis: ``[..., None]`` keeps it), then ``divide`` by ``sqrt``."""
    count = a.shape[-1]
    centered = a - sum_over(a, -1)[..., None] / count
    normed = divide(centered, sqrt(sum_over(centered * centered, -1)[..., None] / count + eps))
    return normed if weight is None else normed * weight + bias


def _ligru_ln_cell(gx, h, w):
    """speechbrain's LiGRU step with ``normalization="layernorm"``: the layer norm (affine) of
    W x, then a = ., z = σ(.) from it plus U h; h' = z h + (1 - z) relu(a)."""
    a, z = split(layer_norm(gx, w.ln_weight, w.ln_bias) + linear(h, w.hidden), 1, 1)
    return (lerp(relu(a), h, sigmoid(z)),)


def _sligru_cell(gx, h, w):
    """speechbrain's SLiGRU step: as LiGRU's, the recurrent term normalized too (a layer norm
    without affine parameters, inside the recurrence)."""
    a, z = split(layer_norm(gx, w.ln_weight, w.ln_bias) + layer_norm(linear(h, w.hidden)), 1, 1)
    return (lerp(relu(a), h, sigmoid(z)),)


_LIGRU_PARAMETERS = (("weight_ih", ("2H", "I")), ("weight_hh", ("2H", "H")), ("ln_weight", ("2H",)),
                     ("ln_bias", ("2H",)))
#: speechbrain's LiGRU and SLiGRU (ReLU candidates: unbounded states), no bias in their linears; the
#: input's layer norm has its affine weight and bias.
LIGRU_LN = reference.Variant("LIGRU_LN", gates=2, states=("h",), step=_ligru_ln_cell, parameters=_LIGRU_PARAMETERS,
                             unbounded=True)
SLIGRU = reference.Variant("SLIGRU", gates=2, states=("h",), step=_sligru_cell, parameters=_LIGRU_PARAMETERS,
                           unbounded=True)
