"""minGRU-pytorch's parallel path prepends log(prev_hidden) to its log-space scan: a negative
initial state, which minGRU's recurrence h' = (1 - z) h + z g(x) allows, gives NaN."""
import sys

import torch
from minGRU_pytorch.minGRU import minGRU

torch.manual_seed(0)
layer = minGRU(2, expansion_factor=1.0, proj_out=False)
out, last = layer(torch.randn(1, 3, 2), -torch.ones(1, 1, 2), return_next_prev_hidden=True)
print(f"minGRU, initial state -1: output finite: {bool(torch.isfinite(out).all())}")
sys.exit(0 if torch.isfinite(out).all() else 1)
