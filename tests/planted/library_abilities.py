"""Planted bugs for the record's abilities that real libraries needed (issue 41): each is one
mistake an implementation makes, run against the record it should meet; they need the library
of their adapter (``examples/libraries/``) and skip without it.

* ``XlstmSLSTMWithoutBranch``: xlstm's sLSTM step with its branch on n == 0 dropped (m' =
  max(i~, log f + m) from the zero state too): c, n and m differ from the first step on.
* ``LiGRUUnbiasedNorm``, ``SLiGRUUnbiasedNorm``: a layer norm with the unbiased variance, on the input
  (LiGRU) and inside the recurrence (SLiGRU); ``SLiGRUWithoutRecurrentNorm``: SLiGRU's recurrent norm
  dropped.
* ``GainedRNNAfterTanh``: a parameter of fixed size 1 (a gain) applied after tanh, not before.
"""
import torch
from torch.nn.functional import logsigmoid

try:
    from examples.libraries.xlstm_slstm import XlstmSLSTM
except ImportError:  # xlstm not installed: the tests that use it skip
    XlstmSLSTM = None


def _pointwise_without_branch(Wx, Ry, b, states, constants):
    """xlstm's ``slstm_forward_pointwise`` with ``if torch.all(n == 0.0): mnew = iraw`` removed."""
    raw = Wx + Ry + b
    y, c, n, m = torch.unbind(states.view(4, states.shape[1], -1), dim=0)
    iraw, fraw, zraw, oraw = torch.unbind(raw.view(raw.shape[0], 4, -1), dim=1)
    logfplusm = m + logsigmoid(fraw)
    mnew = torch.max(iraw, logfplusm)
    ogate = torch.sigmoid(oraw)
    igate = torch.minimum(torch.exp(iraw - mnew), torch.ones_like(iraw))
    fgate = torch.minimum(torch.exp(logfplusm - mnew), torch.ones_like(iraw))
    cnew = fgate * c + igate * torch.tanh(zraw)
    nnew = fgate * n + igate
    ynew = ogate * cnew / nnew
    return torch.stack((ynew, cnew, nnew, mnew), dim=0), torch.stack((igate, fgate, zraw, ogate), dim=0)


if XlstmSLSTM is not None:
    class XlstmSLSTMWithoutBranch(XlstmSLSTM):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for cell in self.cells:
                cell.pointwise = _pointwise_without_branch


class _UnbiasedLayerNorm(torch.nn.LayerNorm):
    """torch.nn.LayerNorm with the unbiased variance (torch.var's default): a common slip of a
    hand-written layer norm."""

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        normed = (x - mean) / torch.sqrt(x.var(-1, keepdim=True) + self.eps)
        return normed * self.weight + self.bias if self.elementwise_affine else normed


def _with_norm(cls, attribute):
    class Planted(cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for layer in self.ligru.rnn:
                old = getattr(layer, attribute)
                new = _UnbiasedLayerNorm(old.normalized_shape, eps=old.eps, elementwise_affine=old.elementwise_affine)
                setattr(layer, attribute, new.to(dtype=old.weight.dtype if old.weight is not None else None))
    Planted.__name__ = Planted.__qualname__ = f"{cls.__name__}UnbiasedNorm"
    return Planted


def _load_speechbrain():
    from examples.libraries import speechbrain_rnn
    return speechbrain_rnn


try:
    _speechbrain = _load_speechbrain()
except ImportError:  # speechbrain not installed: the tests that use these skip
    _speechbrain = None
else:
    #: LiGRU's input layer norm with the unbiased variance
    LiGRUUnbiasedNorm = _with_norm(_speechbrain.LiGRU, "norm")
    #: SLiGRU's recurrent layer norm (inside the recurrence) with the unbiased variance
    SLiGRUUnbiasedNorm = _with_norm(_speechbrain.SLiGRU, "layer_norm")

    class SLiGRUWithoutRecurrentNorm(_speechbrain.SLiGRU):
        """SLiGRU whose recurrent term is not normalized (LiGRU's step under SLiGRU's record)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for layer in self.ligru.rnn:
                layer.layer_norm = torch.nn.Identity()


from examples.gained_rnn import GainedRNN  # noqa: E402


class GainedRNNAfterTanh(GainedRNN):
    """The fixed-size gain applied to tanh's output, not its input: g tanh(.)"""

    def step(self, x, state, p, side):
        pre = torch.nn.functional.linear(x, p("weight_ih"), p("bias_ih")) + torch.nn.functional.linear(
            state[0], p("weight_hh"), p("bias_hh"))
        return (p("weight_g") * torch.tanh(pre),)
