"""Mamba2's SSD (Dao and Gu 2024), record ``mamba2_ssd``, and Mamba's S6 (Gu and Dao 2023),
record ``mamba_s6``, as decayed attention: Mamba2's head has keys B, queries C, values dt x and
the log-decay dt A on every key (its state (P, N) is decayed attention's (N, P) transposed);
S6's channel d is a head of its own with a log-decay dt_d A_d per key and one value, dt_d x_d.
Both add the skip D x.  The chunked forms are the decayed-attention chunks (Mamba2's SSD
algorithm: within-chunk decay matrices, states passed between chunks)."""
from .base import Operation
from .chunks import DecayedChunks, DecayedSteps


class Mamba2(DecayedSteps, Operation):
    rnn_conformance_variant = "mamba2_ssd"
    inputs = ("x", "dt", "A", "B", "C", "D")
    grouped = ("B", "C")
    scaled = False

    def value_heads(self, x):
        return x["x"].shape[2]

    def per_token(self, name):
        return name not in ("A", "D")

    def run(self, x, scale, state, **options):
        dt = x["dt"]
        v = dt[..., None] * x["x"]
        g = (dt * x["A"])[..., None].expand_as(x["B"])
        S = v.new_zeros(v.shape[0], v.shape[2], x["B"].shape[3], v.shape[3]) if state is None \
            else state[0].transpose(-1, -2)
        o, S = self.recur(x["C"], x["B"], v, g, 1.0, S, **options)
        return o + x["D"][:, None] * x["x"], (S.transpose(-1, -2),)


class Mamba2Chunked(DecayedChunks, Mamba2):
    pass


class MambaS6(DecayedSteps, Operation):
    rnn_conformance_variant = "mamba_s6"
    inputs = ("x", "dt", "A", "B", "C", "D")
    scaled = False

    def per_token(self, name):
        return name not in ("A", "D")

    def run(self, x, scale, state, **options):
        dt, A = x["dt"], x["A"]
        channels = dt.shape[2]
        shape = dt.shape + A.shape[-1:]
        q, k = (x[name][:, :, None, :].expand(shape) for name in ("C", "B"))
        g = dt[..., None] * A
        S = dt.new_zeros(dt.shape[0], channels, A.shape[1], 1) if state is None else state[0][..., None]
        o, S = self.recur(q, k, (dt * x["x"])[..., None], g, 1.0, S, **options)
        return o[..., 0] + x["D"] * x["x"], (S[..., 0],)


class MambaS6Chunked(DecayedChunks, MambaS6):
    pass


mamba2_recurrent = Mamba2()
mamba2_chunked = Mamba2Chunked()
s6_recurrent = MambaS6()
s6_chunked = MambaS6Chunked()
