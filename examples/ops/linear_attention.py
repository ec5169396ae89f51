"""Linear attention (Katharopoulos et al. 2020), record ``linear_attention``: S' = S + k v^T,
o = scale S'^T q; decayed attention with a log-decay of 0."""
import torch

from .base import Operation
from .chunks import DecayedChunks, DecayedSteps, zeros_state


class LinearAttention(DecayedSteps, Operation):
    rnn_conformance_variant = "linear_attention"

    def run(self, x, scale, state, **options):
        q, k, v = x["q"], x["k"], x["v"]
        S = zeros_state(k, v) if state is None else state[0]
        o, S = self.recur(q, k, v, torch.zeros_like(k), scale, S, **options)
        return o, (S,)


class LinearAttentionChunked(DecayedChunks, LinearAttention):
    pass


recurrent = LinearAttention()
chunked = LinearAttentionChunked()
