"""ncps' CfC takes per-step timespans of shape (B, T); its loop squeezes timespans[:, t] to (B,),
which broadcasts along the units, not the batch: an error where B and the units differ, results
silently wrong where they are equal (ncps issue #83).  Each sequence run alone is the truth."""
import sys

import torch
from ncps.torch import CfC

torch.manual_seed(0)
layer = CfC(2, 3, batch_first=True).double()
x = torch.randn(3, 4, 2, dtype=torch.float64)  # B = 3 = the units: no error, wrong values
timespans = torch.rand(3, 4, dtype=torch.float64) + 0.5
whole, _ = layer(x, timespans=timespans)
alone = torch.cat([layer(x[b:b + 1], timespans=timespans[b:b + 1])[0] for b in range(3)])
error = (whole - alone).abs().max().item()
print(f"CfC, per-sequence timespans, B = units = 3: whole batch vs each sequence alone, max difference {error:.3g}")
sys.exit(1 if error > 1e-12 else 0)
