"""xLSTM's mLSTM (Beck et al. 2024), record ``mlstm``: a matrix memory C (K, V), a normalizer n
(K,) and a stabilizer m per head, exponential input and forget gates:

    log f = logsigmoid(f~),  m' = max(log f + m, i~),  f = exp(log f + m - m'),  i = exp(i~ - m')
    C' = f C + i k v^T,  n' = f n + i k  (k scaled by 1/sqrt(K)),  h = C'^T q / (max(|n'^T q|, exp(-m')) + eps)

``recurrent`` is xLSTM's stabilized recurrent step; ``chunked`` its chunkwise form: in a chunk,
with b the cumulative log f since its start, token t weighs the carried state by
exp(b_t + m_0 - m_t) and token j <= t by exp(b_t - b_j + i~_j - m_t), m_t the largest of those
logarithms (the recurrent m_t, unrolled), so the two forms agree to rounding.
"""
import torch
import torch.nn.functional as F

from .base import Operation

EPS = 1e-6


class MLSTM(Operation):
    rnn_conformance_variant = "mlstm"
    inputs = ("q", "k", "v", "i", "f")
    states = 3

    def run(self, x, scale, state, chunk_size=None):
        q, v, i, f = x["q"], x["v"], x["i"], x["f"]
        k = scale * x["k"]
        batch, _, heads, keys = k.shape
        if state is None:
            state = (k.new_zeros(batch, heads, keys, v.shape[-1]), k.new_zeros(batch, heads, keys),
                     k.new_zeros(batch, heads))
        return self.recur(q, k, v, i, F.logsigmoid(f), state, chunk_size)

    def recur(self, q, k, v, i, log_f, state, chunk_size):
        C, n, m = state
        outs = []
        for t in range(q.shape[1]):
            m_new = torch.maximum(log_f[:, t] + m, i[:, t])
            fg, ig = torch.exp(log_f[:, t] + m - m_new), torch.exp(i[:, t] - m_new)
            C = fg[..., None, None] * C + ig[..., None, None] * (k[:, t, :, :, None] * v[:, t, :, None, :])
            n = fg[..., None] * n + ig[..., None] * k[:, t]
            m = m_new
            qn = (q[:, t] * n).sum(-1)
            h = (q[:, t, :, :, None] * C).sum(-2) / (torch.maximum(qn.abs(), torch.exp(-m)) + EPS)[..., None]
            outs.append(h)
        return (torch.stack(outs, 1) if outs else v.new_zeros(v.shape[0], 0, *v.shape[2:])), (C, n, m)


class MLSTMChunked(MLSTM):
    rnn_conformance_scan_error = 2.0

    def recur(self, q, k, v, i, log_f, state, chunk_size):
        chunk_size = chunk_size or 64
        C, n, m = state
        outs = []
        for start in range(0, q.shape[1], chunk_size):
            part = slice(start, start + chunk_size)
            qc, kc, vc = (t[:, part].transpose(1, 2) for t in (q, k, v))  # (B, H, L, D)
            ic, b = i[:, part].transpose(1, 2), log_f[:, part].transpose(1, 2).cumsum(-1)  # (B, H, L)
            size = b.shape[-1]
            causal = torch.ones(size, size, dtype=torch.bool, device=b.device).tril()
            log_inter = b + m[..., None]
            log_intra = (b[..., :, None] - b[..., None, :] + ic[..., None, :]).masked_fill(~causal, float("-inf"))
            m_t = torch.maximum(log_inter, log_intra.amax(-1))
            w_inter, w_intra = torch.exp(log_inter - m_t), torch.exp(log_intra - m_t[..., None])
            scores = w_intra * (qc @ kc.transpose(-1, -2))
            numerator = w_inter[..., None] * (qc @ C) + scores @ vc
            qn = w_inter * (qc @ n[..., None])[..., 0] + scores.sum(-1)
            outs.append((numerator / (torch.maximum(qn.abs(), torch.exp(-m_t)) + EPS)[..., None]).transpose(1, 2))
            m_last = m_t[..., -1]
            carry, last = self.carry(b[..., -1], m, m_last), w_intra[..., -1, :]
            C = carry[..., None, None] * C + (kc * last[..., None]).transpose(-1, -2) @ vc
            n = carry[..., None] * n + (kc * last[..., None]).sum(-2)
            m = m_last
        return (torch.cat(outs, 1) if outs else v.new_zeros(v.shape[0], 0, *v.shape[2:])), (C, n, m)


    def carry(self, b_last, m, m_last):
        """What the carried state is weighed by at the chunk's end: exp(b_L + m_0 - m_L) (the
        forget gates' product, the stabilizer's change)."""
        return torch.exp(b_last + m - m_last)


recurrent = MLSTM()
chunked = MLSTMChunked()
