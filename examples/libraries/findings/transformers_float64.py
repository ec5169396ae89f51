"""transformers' pure-torch gated delta rule (Qwen3-Next's fallback without the CUDA kernels) casts
its inputs to float32 and returns a float32 state: float64 inputs are computed to float32's
precision, and the cache a float64 model carries changes dtype.  A float64 loop of the gated delta
rule (S' = exp(g) S + beta k (v - exp(g) S^T k)^T, o = S'^T q / sqrt(K), q and k L2-normalized) is the
truth."""
import sys

import torch
from transformers.models.qwen3_next.modeling_qwen3_next import torch_recurrent_gated_delta_rule

torch.manual_seed(0)
B, T, H, K, V = 1, 6, 2, 4, 3
q, k, v = (torch.randn(B, T, H, n, dtype=torch.float64) for n in (K, K, V))
g, beta = -torch.rand(B, T, H, dtype=torch.float64), torch.rand(B, T, H, dtype=torch.float64)
o, state = torch_recurrent_gated_delta_rule(q, k, v, g, beta, initial_state=None, output_final_state=True,
                                            use_qk_l2norm_in_kernel=True)
qn = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6)
kn = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
S = torch.zeros(B, H, K, V, dtype=torch.float64)
expected = []
for t in range(T):
    S = S * g[:, t].exp()[..., None, None]
    error = v[:, t] - torch.einsum("bhkv,bhk->bhv", S, kn[:, t])
    S = S + beta[:, t, :, None, None] * kn[:, t, :, :, None] * error[:, :, None, :]
    expected.append(torch.einsum("bhkv,bhk->bhv", S, qn[:, t] * K ** -0.5))
worst = (o - torch.stack(expected, 1)).abs().max().item()
print(f"torch_recurrent_gated_delta_rule on float64: output {o.dtype}, state {state.dtype}, max error {worst:.3g}")
sys.exit(1 if worst > 1e-12 or state.dtype != torch.float64 else 0)
