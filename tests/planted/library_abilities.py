"""Planted bugs for the record's abilities that real libraries needed (issue 41): each is one
mistake an implementation makes, run against the record it should meet; they need the library
of their adapter (``examples/libraries/``) and skip without it.

* ``XlstmSLSTMWithoutBranch``: xlstm's sLSTM step with its branch on n == 0 dropped (m' =
  max(i~, log f + m) from the zero state too): c, n and m differ from the first step on.
"""
import torch
from torch.nn.functional import logsigmoid

from examples.libraries.xlstm_slstm import XlstmSLSTM


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


class XlstmSLSTMWithoutBranch(XlstmSLSTM):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for cell in self.cells:
            cell.pointwise = _pointwise_without_branch
