"""Gated linear attention (Yang et al. 2024), record ``gla``: S' = diag(exp(g)) S + k v^T, a
log-decay g <= 0 per key, o = scale S'^T q.  ``chunked`` is FLA's ``chunk_gla`` in pure torch."""
from .base import Operation
from .chunks import DecayedChunks, DecayedSteps, zeros_state


class GLA(DecayedSteps, Operation):
    rnn_conformance_variant = "gla"
    inputs = ("q", "k", "v", "g")

    def run(self, x, scale, state, **options):
        S = zeros_state(x["k"], x["v"]) if state is None else state[0]
        o, S = self.recur(x["q"], x["k"], x["v"], x["g"], scale, S, **options)
        return o, (S,)


class GLAChunked(DecayedChunks, GLA):
    pass


recurrent = GLA()
chunked = GLAChunked()
