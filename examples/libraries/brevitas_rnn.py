"""brevitas' quantized recurrent layers (``pip install --no-deps brevitas dependencies==2.0.1``),
``QuantLSTM`` and ``QuantRNN``, behind torch.nn.LSTM's and torch.nn.RNN's contracts, so that the
suite checks the library's own recurrence (``brevitas/nn/quant_rnn.py``, a TorchScript loop per
layer and direction): this adapter maps torch's names onto its per-gate parameters (one bias per
gate: torch's two summed) and passes h0 and c0 as it takes them (``forward(inp, hx, cx)``).

* ``QuantLSTM``, ``QuantRNN``: every quantizer off (``None``), a float layer.
They take no packed or unbatched input and have no dropout (declared).  QuantLSTM has no projection:
it takes ``proj_size`` into its ``**kwargs`` (the quantizers' options) and ignores it, so this adapter
declares ``proj_size`` unsupported rather than pass it.

    rnn-conformance --impl examples.libraries.brevitas_rnn:QuantLSTM --dtypes float64,float32
"""
import warnings

from torch import nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from brevitas import nn as qnn

OFF = dict(weight_quant=None, bias_quant=None, io_quant=None, gate_acc_quant=None)
LSTM_OFF = dict(OFF, sigmoid_quant=None, tanh_quant=None, cell_state_quant=None)
LSTM_GATES = ("input_gate_params", "forget_gate_params", "cell_gate_params", "output_gate_params")


class _QuantLayer(nn.Module):
    rnn_conformance_unsupported = ("packed", "dropout", "unbatched", "proj_size")
    library, gates, quantizers = None, None, None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout:
            raise NotImplementedError("brevitas' recurrent layers have no dropout")
        self.layer = self.library(input_size, hidden_size, num_layers=num_layers, bias=bias, batch_first=batch_first,
                                  bidirectional=bidirectional, **self.quantizers)
        self.layer.to(device=device, dtype=dtype)
        self.directions = 2 if bidirectional else 1

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        names = dict(self.layer.named_parameters())
        for key in names:
            _, k, d, gate, *rest = key.split(".")
            suffix = f"_l{k}" + ("_reverse" if d == "1" else "")
            block = self.gates.index(gate)
            part = ".".join(rest)
            if part == "bias":
                total = state_dict[f"bias_ih{suffix}"] + state_dict[f"bias_hh{suffix}"]
                own["layer." + key] = total.chunk(len(self.gates))[block]
            else:
                which = "weight_ih" if part.startswith("input_weight") else "weight_hh"
                own["layer." + key] = state_dict[f"{which}{suffix}"].chunk(len(self.gates))[block]
        return own


class QuantLSTM(_QuantLayer):
    rnn_conformance_variant = "LSTM"
    library, gates, quantizers = qnn.QuantLSTM, LSTM_GATES, LSTM_OFF

    def forward(self, input, hx=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise NotImplementedError("brevitas' QuantLSTM takes no packed input")
        h0, c0 = (None, None) if hx is None else hx
        return self.layer(input, h0, c0)


class QuantRNN(_QuantLayer):
    rnn_conformance_variant = "RNN_TANH"
    library, gates, quantizers = qnn.QuantRNN, ("gate_params",), OFF

    def forward(self, input, hx=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise NotImplementedError("brevitas' QuantRNN takes no packed input")
        return self.layer(input, hx)
