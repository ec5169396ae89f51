"""sru's ``SRU`` (``pip install --no-deps sru``, CPU) behind torch.nn.LSTM's contract (states h and
c; h0 is taken and not read), so that the suite checks the library's own computation: each
layer is one of the library's ``SRUCell``s (``sru.SRU(...).rnn_lst``), called with its c0, so
that every layer's final h is seen; this adapter moves the batch axis and maps names.  The
library is time-major with its own padding mask, not packed sequences: packed input, both
directions, dropout and no-bias are declared unsupported.

Its fused weight is (I, H * k), interleaved per unit (unit d's x~, f, r[, skip] in columns
d k .. d k + k - 1), k = 3 where the layer's input is as wide as H (the highway is the raw
input) and 4 otherwise (a skip projection); ``rnn_conformance_from_torch`` builds it from
torch-style blocks, differentiably.

    rnn-conformance --impl examples.libraries.sru_lib:SRULibrary --dtypes float32
"""
import warnings

import torch
from torch import nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # its CUDA kernels fail to compile without CUDA_HOME: the CPU op remains
    import sru


class SRULibrary(nn.Module):
    rnn_conformance_variant = "examples.libraries.variants:SRU_LIB"
    rnn_conformance_unsupported = ("bidirectional", "packed", "dropout", "no_bias")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout or bidirectional or not bias:
            raise NotImplementedError("this adapter runs sru's SRU in one direction, with biases, without dropout")
        self.hidden_size, self.batch_first = hidden_size, batch_first
        self.sru = sru.SRU(input_size, hidden_size, num_layers=num_layers, rescale=False, has_skip_term=True,
                           use_tanh=False).to(device=device, dtype=dtype)

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        for k, cell in enumerate(self.sru.rnn_lst):
            w_ih = state_dict[f"weight_ih_l{k}"]
            blocks = list(w_ih.chunk(3, 0)) + ([state_dict[f"weight_hw_l{k}"]] if cell.num_matrices == 4 else [])
            stacked = torch.stack(blocks, 0)  # (k, H, I)
            own[f"sru.rnn_lst.{k}.weight"] = stacked.permute(2, 1, 0).reshape(w_ih.shape[1], -1)
            own[f"sru.rnn_lst.{k}.weight_c"] = state_dict[f"weight_c_l{k}"]
            own[f"sru.rnn_lst.{k}.bias"] = state_dict[f"bias_fr_l{k}"]
        return own

    def forward(self, input, hx=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise NotImplementedError("sru takes a padding mask, not packed sequences")
        if input.dim() not in (2, 3):
            raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        x = (input.transpose(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        count = len(self.sru.rnn_lst)
        c0 = None
        if hx is not None:
            h0, c0 = hx
            expected = (count, x.size(1), self.hidden_size) if batched else (count, self.hidden_size)
            if tuple(h0.shape) != expected or tuple(c0.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {tuple(h0.shape)}, {tuple(c0.shape)}")
            c0 = c0 if batched else c0.unsqueeze(1)
        finals_h, finals_c = [], []
        for k, cell in enumerate(self.sru.rnn_lst):
            x, c = cell(x, None if c0 is None else c0[k])
            finals_h.append(x[-1])
            finals_c.append(c)
        h_n, c_n = torch.stack(finals_h), torch.stack(finals_c)
        if not batched:
            return x[:, 0], (h_n[:, 0], c_n[:, 0])
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)
