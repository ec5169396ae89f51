"""The two recurrences behind the worked examples, each as a step loop and in chunks of C tokens.

Decayed attention, S' = diag(exp(g)) S + k v^T and o = scale S'^T q (g <= 0 per key: linear
attention with g = 0, RetNet's fixed decay, GLA's, Mamba's): in a chunk, with gc the cumulative
log-decay since the chunk's start,

    o_i = scale (exp(gc_i) q_i^T S_0 + sum_{j <= i} (q_i . (k_j exp(gc_i - gc_j))) v_j)
    S_C = exp(gc_C) S_0 + sum_j (k_j exp(gc_C - gc_j)) v_j^T

The delta rule, S' = exp(g) S + k u^T with u = beta (v - (exp(g) S)^T k) (g <= 0 per head; 0 for
DeltaNet): a chunk's u solve (I + L) U = beta V - beta exp(gc) K S_0, L strictly lower with
L_ij = beta_i exp(gc_i - gc_j) k_i . k_j (the UT transform of FLA's chunked kernels), then

    o_i = scale (exp(gc_i) q_i^T S_0 + sum_{j <= i} exp(gc_i - gc_j) (q_i . k_j) u_j)
    S_C = exp(gc_C) S_0 + sum_j exp(gc_C - gc_j) k_j u_j^T

The factors exp(gc_i - gc_j) exist for i >= j only: ``pairwise`` masks the others to -inf
before the exponential, where they would overflow (gc_i - gc_j > 0) and poison the gradient.
Shapes: q, k, g (B, T, H, K), v (B, T, H, V), S (B, H, K, V); the delta rule's g, beta (B, T, H).
"""
import torch


def zeros_state(k, v):
    return k.new_zeros(k.shape[0], k.shape[2], k.shape[3], v.shape[3])


def empty_output(v):
    return v.new_zeros(v.shape[0], 0, v.shape[2], v.shape[3])


class DecayedSteps:
    """Decayed attention as a step loop."""

    def recur(self, q, k, v, g, scale, S, chunk_size=None):
        outs = []
        for t in range(q.shape[1]):
            S = g[:, t].exp()[..., None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
            outs.append(scale * (q[:, t, :, :, None] * S).sum(-2))
        return (torch.stack(outs, 1) if outs else empty_output(v)), S


class Chunks:
    """What the chunked forms share: padding T to a multiple of C, chunks laid out as
    (B, H, n, C, ...), and the masked pairwise decays."""

    def pad(self, t, pad, gate=False):
        """Zeros after the last token: a key of 0 adds nothing, a log-decay of 0 decays nothing."""
        return torch.nn.functional.pad(t, (0, 0) * (t.dim() - 2) + (0, pad))

    def chunked(self, t, size):
        """(B, T, H, ...) -> (B, H, n, C, ...)."""
        shape = t.shape
        t = t.reshape(shape[0], shape[1] // size, size, *shape[2:])
        return t.movedim(3, 1)

    def pairwise(self, gc):
        """exp(gc_i - gc_j) for i >= j, else 0: gc (..., C, D) -> (..., C, C, D)."""
        size = gc.shape[-2]
        causal = torch.ones(size, size, dtype=torch.bool, device=gc.device).tril()[..., None]
        return (gc[..., :, None, :] - gc[..., None, :, :]).masked_fill(~causal, float("-inf")).exp()

    def initial(self, S):
        return S

    def scaled(self, o, scale):
        return scale * o

    def unchunked(self, outs, steps):
        """[n of (B, H, C, V)] -> (B, T, H, V)."""
        o = torch.stack(outs, 2)
        return o.reshape(o.shape[0], o.shape[1], -1, o.shape[-1]).movedim(1, 2)[:, :steps]


class DecayedChunks(Chunks):
    """Decayed attention in chunks of ``chunk_size`` tokens.  Its error beyond the step loop's:
    ``rnn_conformance_scan_error`` roundoffs per unit of a chunk's range (measured:
    ``benchmarks/chunk_accuracy.py``)."""

    rnn_conformance_scan_error = 2.0

    def recur(self, q, k, v, g, scale, S, chunk_size=64):
        steps, pad = q.shape[1], -q.shape[1] % chunk_size
        if steps == 0:
            return empty_output(v), S
        q, k, v, g = (self.chunked(self.pad(t, pad, gate=t is g), chunk_size) for t in (q, k, v, g))
        gc = g.cumsum(-2)
        S, outs = self.initial(S), []
        for n in range(q.shape[2]):
            qn, kn, vn, gn = q[:, :, n], k[:, :, n], v[:, :, n], gc[:, :, n]
            outs.append(self.scaled((qn * gn.exp()) @ S + self.intra(qn, kn, gn) @ vn, scale))
            last = gn[..., -1:, :]
            S = last.exp().transpose(-1, -2) * S + (kn * (last - gn).exp()).transpose(-1, -2) @ vn
        return self.unchunked(outs, steps), S

    def intra(self, q, k, gc):
        """A chunk's decayed scores, (q_i . (k_j exp(gc_i - gc_j))) for i >= j, else 0: (B, H, C, C)."""
        return (q[..., :, None, :] * k[..., None, :, :] * self.pairwise(gc)).sum(-1)


class DeltaSteps:
    """The (gated) delta rule as a step loop."""

    def recur(self, q, k, v, g, beta, scale, S, chunk_size=None):
        outs = []
        for t in range(q.shape[1]):
            S = g[:, t].exp()[..., None, None] * S
            u = beta[:, t, :, None] * (v[:, t] - (k[:, t, :, :, None] * S).sum(-2))
            S = S + k[:, t, :, :, None] * u[:, :, None, :]
            outs.append(scale * (q[:, t, :, :, None] * S).sum(-2))
        return (torch.stack(outs, 1) if outs else empty_output(v)), S


class DeltaChunks(Chunks):
    """The (gated) delta rule in chunks of ``chunk_size`` tokens (the UT transform): its
    triangular solve adds to the decayed chunks' error (``benchmarks/chunk_accuracy.py``)."""

    rnn_conformance_scan_error = 8.0

    def recur(self, q, k, v, g, beta, scale, S, chunk_size=64):
        steps, pad = q.shape[1], -q.shape[1] % chunk_size
        if steps == 0:
            return empty_output(v), S
        q, k, v = (self.chunked(self.pad(t, pad), chunk_size) for t in (q, k, v))
        g, beta = (self.chunked(self.pad(t, pad, gate=t is g), chunk_size) for t in (g, beta))
        gc = g.cumsum(-1)
        S, outs = self.initial(S), []
        eye = torch.eye(chunk_size, dtype=q.dtype, device=q.device)
        for n in range(q.shape[2]):
            qn, kn, vn, bn, gn = q[:, :, n], k[:, :, n], v[:, :, n], beta[:, :, n], gc[:, :, n]
            decay = self.pairwise(gn[..., None])[..., 0]
            lower = (bn[..., :, None] * (kn @ kn.transpose(-1, -2)) * decay).tril(-1)
            rhs = torch.cat([bn[..., None] * vn, (bn * gn.exp())[..., None] * kn], dim=-1)
            solved = torch.linalg.solve_triangular(eye + lower, rhs, upper=False, unitriangular=True)
            u = solved[..., :vn.shape[-1]] - solved[..., vn.shape[-1]:] @ S
            outs.append(self.scaled((qn * gn.exp()[..., None]) @ S + ((qn @ kn.transpose(-1, -2)) * decay) @ u, scale))
            last = gn[..., -1:]
            S = last.exp()[..., None] * S + (kn * (last - gn).exp()[..., None]).transpose(-1, -2) @ u
        return self.unchunked(outs, steps), S
