"""Gated DeltaNet (Yang et al. 2025; Qwen3-Next, Qwen3.5), record ``gated_delta_rule``:
S' = exp(g) S + beta k (v - (exp(g) S)^T k)^T, q and k L2-normalized inside (FLA's
``use_qk_l2norm_in_kernel``), HV value heads sharing H query/key heads (GVA), o = scale S'^T q."""
import torch

from .base import Operation
from .chunks import DeltaChunks, DeltaSteps, zeros_state


def l2norm(x, eps=1e-6):
    """x * rsqrt(sum(x * x) + eps) (FLA's and transformers' l2norm)."""
    return x * torch.rsqrt((x * x).sum(-1, keepdim=True) + eps)


class GatedDeltaRule(DeltaSteps, Operation):
    rnn_conformance_variant = "gated_delta_rule"
    inputs = ("q", "k", "v", "g", "beta")
    grouped = ("q", "k")

    def run(self, x, scale, state, **options):
        q, k = l2norm(x["q"]), l2norm(x["k"])
        S = zeros_state(k, x["v"]) if state is None else state[0]
        o, S = self.recur(q, k, x["v"], x["g"], x["beta"], scale, S, **options)
        return o, (S,)


class GatedDeltaRuleChunked(DeltaChunks, GatedDeltaRule):
    pass


recurrent = GatedDeltaRule()
chunked = GatedDeltaRuleChunked()
