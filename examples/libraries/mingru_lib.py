"""mingru-pytorch's ``minGRU`` (lucidrains, ``pip install --no-deps mingru-pytorch``) behind
torch.nn.GRU's contract, so that the suite checks the library's own computation: each layer is
the library's module (``minGRU(dim, expansion_factor=H / dim, proj_out=False)``), called with
``prev_hidden`` and ``return_next_prev_hidden``; this adapter only stacks layers, moves the batch
axis and maps names.  The library is batch-first, unidirectional, without packed input: those are
declared unsupported.  Its projection stacks (hidden, gate); torch's order for the variant is
(gate, hidden): ``rnn_conformance_from_torch`` swaps the blocks, differentiably.

    rnn-conformance --impl examples.libraries.mingru_lib:MinGRUPytorch --dtypes float64,float32
"""
import torch
from torch import nn
from minGRU_pytorch.minGRU import minGRU


class MinGRUPytorch(nn.Module):
    rnn_conformance_variant = "examples.libraries.variants:MINGRU_LOG_NO_BIAS"
    rnn_conformance_unsupported = ("bidirectional", "packed", "dropout")
    rnn_conformance_scan_error = 4.0  # as the worked example's log-space scan

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout or bidirectional:
            raise NotImplementedError("minGRU-pytorch has no dropout between layers and one direction")
        self.hidden_size, self.batch_first = hidden_size, batch_first
        self.layers = nn.ModuleList()
        for layer in range(num_layers):
            dim = input_size if layer == 0 else hidden_size
            factor = hidden_size / dim
            if int(dim * factor) != hidden_size:
                raise ValueError(f"minGRU's inner width int({dim} * {factor}) is not {hidden_size}")
            self.layers.append(minGRU(dim, expansion_factor=factor, proj_out=False).to(device=device, dtype=dtype))

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        for k in range(len(self.layers)):
            gate, hidden = state_dict[f"weight_ih_l{k}"].chunk(2, 0)
            own[f"layers.{k}.to_hidden_and_gate.weight"] = torch.cat([hidden, gate], 0)
        return own

    def forward(self, input, hx=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise NotImplementedError("minGRU-pytorch takes no packed input")
        if input.dim() not in (2, 3):
            raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        x = (input if self.batch_first else input.transpose(0, 1)) if batched else input.unsqueeze(0)
        if x.size(1) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        count = len(self.layers)
        if hx is not None:
            expected = (count, x.size(0), self.hidden_size) if batched else (count, self.hidden_size)
            if tuple(hx.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
            hx = hx if batched else hx.unsqueeze(1)
        finals = []
        for k, layer in enumerate(self.layers):
            prev = None if hx is None else hx[k].unsqueeze(1)
            x, last = layer(x, prev, return_next_prev_hidden=True)
            finals.append(last[:, 0])
        h_n = torch.stack(finals)
        if not batched:
            return x[0], h_n[:, 0]
        return (x if self.batch_first else x.transpose(0, 1)), h_n


class MinGRUPytorchAnyState(MinGRUPytorch):
    """The same, declared with h real: the suite then draws negative initial states, which the
    library's log-space path takes the log of (NaN)."""

    rnn_conformance_variant = "examples.libraries.variants:MINGRU_NO_BIAS"
