"""RetNet's retention (Sun et al. 2023), record ``retnet``: S' = gamma_h S + k v^T with the fixed
decay gamma_h = 1 - 2^(-5 - h) of head h, o = scale S'^T q."""
import torch

from .base import Operation
from .chunks import DecayedChunks, DecayedSteps, zeros_state


def log_decay(heads, like):
    """log(1 - 2^(-5 - h)) per head, (H,)."""
    return torch.log1p(-torch.pow(2.0, -5.0 - torch.arange(heads, dtype=like.dtype, device=like.device)))


class RetNet(DecayedSteps, Operation):
    rnn_conformance_variant = "retnet"

    def run(self, x, scale, state, **options):
        q, k, v = x["q"], x["k"], x["v"]
        g = log_decay(k.shape[2], k)[:, None].expand_as(k)
        S = zeros_state(k, v) if state is None else state[0]
        o, S = self.recur(q, k, v, g, scale, S, **options)
        return o, (S,)


class RetNetChunked(DecayedChunks, RetNet):
    pass


recurrent = RetNet()
chunked = RetNetChunked()
