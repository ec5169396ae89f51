"""brevitas' QuantRNN and QuantLSTM check none of their inputs' shapes: an h0 of the wrong batch
size (broadcast over the batch), a c0 of the wrong hidden size or a 4-D input is computed on and a
result returned, where torch's layers raise (and so a shape mistake goes unnoticed)."""
import sys
import warnings

import torch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from brevitas.nn import QuantRNN

off = dict(weight_quant=None, bias_quant=None, io_quant=None, gate_acc_quant=None)
layer = QuantRNN(2, 3, **off)
try:
    out, _ = layer(torch.randn(4, 2, 2), torch.zeros(1, 1, 3))  # batch 2, h0 for a batch of 1
except (RuntimeError, ValueError) as exc:
    print(f"QuantRNN refuses h0 for a batch of 1 with a batch of 2: {exc}")
    sys.exit(0)
print(f"QuantRNN took h0 for a batch of 1 with a batch of 2 and returned {tuple(out.shape)}")
sys.exit(1)
