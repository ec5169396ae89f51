"""minGRU-pytorch's parallel path takes log σ(k) as -F.softplus(-k); F.softplus returns its input
unchanged above 20 (its threshold), dropping log1p(exp(-|k|)) (2e-9 at k = 20): float64 results off
by up to 2e-9 relative, a million times float64's roundoff.  A two-step float64 loop is the truth."""
import sys

import torch
from minGRU_pytorch.minGRU import minGRU

layer = minGRU(1, expansion_factor=1.0, proj_out=False).double()
with torch.no_grad():
    layer.to_hidden_and_gate.weight.copy_(torch.tensor([[1.0], [-20.5]], dtype=torch.float64))  # hidden, gate
out = layer(torch.ones(1, 2, 1, dtype=torch.float64)).flatten()  # two steps: the parallel path
z, h_tilde = torch.sigmoid(torch.tensor(-20.5, dtype=torch.float64)), 1.5  # g(1) = 1 + 0.5
h1 = z * h_tilde
expected = torch.stack([h1, (1 - z) * h1 + z * h_tilde])
relative = ((out - expected).abs() / expected).max().item()
print(f"minGRU float64, gate pre-activation -20.5: relative error {relative:.3g} (float64 roundoff 1.1e-16)")
sys.exit(1 if relative > 1e-12 else 0)
