"""ncps' ``CfC`` (``pip install --no-deps ncps``; closed-form continuous-time, default mode, one
backbone layer) behind torch.nn.GRU's contract, so that the suite checks the library's own
computation: each layer is the library's ``ncps.torch.CfC(input, units, backbone_units=U,
backbone_layers=1, batch_first=...)``, called with ``hx`` and ``timespans`` as given; this
adapter stacks layers, splits hx per layer and maps names.  The library has one direction, no
packed input, and biases always: those are declared unsupported.  Its backbone reads
``cat([x, h])`` through one Linear: torch's names for the variant (``examples/cfc_variant.py``)
split it into ``weight_ih`` and ``weight_hh``, which ``rnn_conformance_from_torch`` joins back,
differentiably.

    rnn-conformance --impl examples.libraries.ncps_cfc:NcpsCfC --dtypes float64,float32
"""
import torch
from torch import nn
from ncps.torch import CfC

HEADS = {"ff1": "ff1", "ff2": "ff2", "ta": "time_a", "tb": "time_b"}


class NcpsCfC(nn.Module):
    rnn_conformance_variant = "examples.cfc_variant:CFC"
    rnn_conformance_unsupported = ("bidirectional", "packed", "dropout", "no_bias")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, backbone_units=None):
        super().__init__()
        if dropout or bidirectional or not bias:
            raise NotImplementedError("ncps' CfC has no dropout between layers, one direction, and biases")
        self.hidden_size, self.batch_first = hidden_size, batch_first
        units = backbone_units or hidden_size
        self.layers = nn.ModuleList(
            CfC(input_size if k == 0 else hidden_size, hidden_size, backbone_units=units, backbone_layers=1,
                backbone_dropout=0.0, batch_first=batch_first).to(device=device, dtype=dtype)
            for k in range(num_layers))

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        for k in range(len(self.layers)):
            cell = f"layers.{k}.rnn_cell."
            own[cell + "backbone.0.weight"] = torch.cat([state_dict[f"weight_ih_l{k}"], state_dict[f"weight_hh_l{k}"]], 1)
            own[cell + "backbone.0.bias"] = state_dict[f"bias_ih_l{k}"]
            for ours, theirs in HEADS.items():
                own[f"{cell}{theirs}.weight"] = state_dict[f"weight_{ours}_l{k}"]
                own[f"{cell}{theirs}.bias"] = state_dict[f"bias_{ours}_l{k}"]
        return own

    def forward(self, input, hx=None, timespans=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise NotImplementedError("ncps' CfC takes no packed input")
        count = len(self.layers)
        if hx is not None:
            batched = input.dim() == 3
            expected = (count, input.size(0 if self.batch_first else 1), self.hidden_size) if batched \
                else (count, self.hidden_size)
            if tuple(hx.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
        finals, x = [], input
        for k, layer in enumerate(self.layers):
            x, last = layer(x, None if hx is None else hx[k], timespans)
            finals.append(last)
        return x, torch.stack(finals)
