"""sru's no-grad CPU op reshapes its input with view(-1, input_size): an input of the wrong width
is reinterpreted and a result returned, where the autograd path (and torch's layers) refuse it."""
import sys
import warnings

import torch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import sru

layer = sru.SRU(3, 4, num_layers=1)
try:
    with torch.no_grad():
        out, _ = layer(torch.randn(5, 2, 6))  # 6 features, the layer takes 3
except (RuntimeError, ValueError) as exc:
    print(f"SRU refuses an input of the wrong width: {exc}")
    sys.exit(0)
print(f"SRU accepted an input of width 6 for input_size 3 and returned {tuple(out.shape)}")
sys.exit(1)
