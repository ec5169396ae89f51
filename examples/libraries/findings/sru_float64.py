"""sru's SRU runs a no-grad CPU op of its own (inference) and an autograd path (training): the op
refuses float64, which the autograd path computes, so a float64 model evaluates only with
gradients on."""
import sys
import warnings

import torch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import sru

torch.manual_seed(0)
layer = sru.SRU(3, 4, num_layers=1).double()
x = torch.randn(5, 2, 3, dtype=torch.float64)
trained, _ = layer(x)
try:
    with torch.no_grad():
        evaluated, _ = layer(x)
except RuntimeError as exc:
    print(f"SRU float64 under no_grad: {str(exc).strip().splitlines()[-1]}")
    sys.exit(1)
error = (evaluated - trained).abs().max().item()
print(f"SRU float64: no_grad and autograd paths differ by {error:.3g}")
sys.exit(1 if error > 1e-12 else 0)
