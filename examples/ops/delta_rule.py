"""DeltaNet's delta rule (Schlag et al. 2021; Yang et al. 2024), record ``delta_rule``:
S' = S + beta k (v - S^T k)^T with keys of unit norm, o = scale S'^T q."""
import torch

from .base import Operation
from .chunks import DeltaChunks, DeltaSteps, zeros_state


class DeltaRule(DeltaSteps, Operation):
    rnn_conformance_variant = "delta_rule"
    inputs = ("q", "k", "v", "beta")

    def run(self, x, scale, state, **options):
        S = zeros_state(x["k"], x["v"]) if state is None else state[0]
        o, S = self.recur(x["q"], x["k"], x["v"], torch.zeros_like(x["beta"]), x["beta"], scale, S, **options)
        return o, (S,)


class DeltaRuleChunked(DeltaChunks, DeltaRule):
    pass


recurrent = DeltaRule()
chunked = DeltaRuleChunked()
