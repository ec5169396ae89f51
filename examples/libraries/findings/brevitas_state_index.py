"""brevitas' QuantRNN and QuantLSTM read layer l's initial state at hx[2 * l + d], as if every
stack had two directions: a stack of two or more one-directional layers given h0 raises
IndexError (three layers: layer 1 reads layer 2's state first).  h0 = 0 must equal no h0."""
import sys
import warnings

import torch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from brevitas.nn import QuantRNN

torch.manual_seed(0)
off = dict(weight_quant=None, bias_quant=None, io_quant=None, gate_acc_quant=None)
layer = QuantRNN(2, 3, num_layers=2, **off)
x = torch.randn(4, 2, 2)
try:
    given, _ = layer(x, torch.zeros(2, 2, 3))
except IndexError as exc:
    print(f"QuantRNN, 2 layers, one direction, h0 given: IndexError: {exc}")
    sys.exit(1)
alone, _ = layer(x)
print(f"QuantRNN, 2 layers, h0 = 0 vs no h0: max difference {(given - alone).abs().max().item():.3g}")
sys.exit(0 if torch.equal(given, alone) else 1)
