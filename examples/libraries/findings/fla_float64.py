"""fla-core's pure-torch reference naive_recurrent_gla casts its inputs to float32 and returns a
float32 final state: float64 inputs, which gradcheck and reference comparisons use, are computed to
float32's precision.  A float64 loop of GLA's recurrence (S' = diag(exp g) S + k v^T, o = (q / sqrt K) S)
is the truth."""
import importlib.util
import os
import sys

import torch

path = os.path.join(importlib.util.find_spec("fla").submodule_search_locations[0], "ops", "gla", "naive.py")
spec = importlib.util.spec_from_file_location("fla_gla_naive", path)  # alone: `import fla` loads Triton
naive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(naive)

torch.manual_seed(0)
B, T, H, K, V = 1, 6, 2, 4, 3
q, k = torch.randn(B, T, H, K, dtype=torch.float64), torch.randn(B, T, H, K, dtype=torch.float64)
v, g = torch.randn(B, T, H, V, dtype=torch.float64), -torch.rand(B, T, H, K, dtype=torch.float64)
o, state = naive.naive_recurrent_gla(q, k, v, g, output_final_state=True)
S = torch.zeros(B, H, K, V, dtype=torch.float64)
expected = []
for t in range(T):
    S = S * g[:, t].exp()[..., None] + k[:, t, :, :, None] * v[:, t, :, None, :]
    expected.append(torch.einsum("bhk,bhkv->bhv", q[:, t] * K ** -0.5, S))
error = (o - torch.stack(expected, 1)).abs().max().item()
print(f"naive_recurrent_gla on float64: output {o.dtype}, final state {state.dtype}, max error {error:.3g}")
sys.exit(1 if error > 1e-12 or state.dtype != torch.float64 else 0)
