"""Correct implementations written another way than their records, at the sizes production
kernels run at: each must pass with headroom (the suite's verdicts stay earned there), the
mirror of ``sizes.py``'s planted bugs.  The freedoms they take are an implementation's own:
the association of a sum (a contraction in tiles or blocks, einsum for a broadcast product),
another form of an activation, a batch run in groups.

``REWRITES``: (name in this module, what it rewrites).  ``benchmarks/size_table.py
--rewrites`` runs them on ten seeds and prints the largest error / tolerance each reaches.
"""
import torch

from examples.ops.chunks import empty_output
from examples.ops.gla import GLA, GLAChunked
from tests.planted.sizes import BATCH_GROUP, BLOCK, TILE
from tests.planted.torch_rnn import TorchGRU, TorchLSTM, TorchRNN


class TiledMatmulGRU(TorchGRU):
    """TorchGRU: x @ W^T summed over tiles of 256 units of x, the partial last tile included."""

    @staticmethod
    def linear(x, weight, bias):
        y = sum(x[..., start:start + TILE] @ weight[:, start:start + TILE].t() for start in range(0, x.shape[-1], TILE))
        return y if bias is None else y + bias


class SigmoidFromTanhLSTM(TorchLSTM):
    """TorchLSTM: its gates' sigmoid computed as 0.5 tanh(0.5 x) + 0.5, accurate to a roundoff of
    1 rather than of the result (0.5 + a tanh near -0.5 cancels): it declares that absolute
    error, as such a kernel must (undeclared, a gate near 1e-5 fails float32 at 27 times its
    bound: its relative error is 2e-4)."""

    rnn_conformance_activation_error = 2.0 ** -24

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        i, f, g, o = _logistic(i), _logistic(f), torch.tanh(g), _logistic(o)
        c = f * c + i * g
        return [self.output(o, c, w_hr), c]


def _logistic(a):
    return 0.5 * torch.tanh(0.5 * a) + 0.5


class BatchGroupsRNN(TorchRNN):
    """TorchRNN: a batch run in groups of 64 sequences, each group from its own initial state."""

    def run_layers(self, x, lengths, states):
        if x.size(1) <= BATCH_GROUP:
            return super().run_layers(x, lengths, states)
        parts = [super(BatchGroupsRNN, self).run_layers(
            x[:, start:start + BATCH_GROUP], None if lengths is None else lengths[start:start + BATCH_GROUP],
            [s[:, start:start + BATCH_GROUP] for s in states]) for start in range(0, x.size(1), BATCH_GROUP)]
        output = torch.cat([p[0] for p in parts], dim=1)
        finals = [torch.cat([p[1][k] for p in parts], dim=1) for k in range(len(states))]
        return output, finals


class _EinsumStepGLA(GLA):
    """GLA's step loop with its products as einsum (``bhk,bhkv->bhv``; ``bhk,bhv->bhkv``)."""

    def run(self, x, scale, state, **options):
        q, k, v, g = x["q"], x["k"], x["v"], x["g"]
        S = q.new_zeros(q.shape[0], q.shape[2], q.shape[3], v.shape[3]) if state is None else state[0]
        outs = []
        for t in range(q.shape[1]):
            S = g[:, t].exp()[..., None] * S + torch.einsum("bhk,bhv->bhkv", k[:, t], v[:, t])
            outs.append(scale * torch.einsum("bhk,bhkv->bhv", q[:, t], S))
        return (torch.stack(outs, 1) if outs else empty_output(v)), (S,)


class _BlockedKGLA(GLAChunked):
    """GLAChunked: o read from the state in blocks of 64 keys, each block's reading summed (q . S is
    linear in q: each block is the call with q zero outside it)."""

    def run(self, x, scale, state, **options):
        size = x["q"].shape[-1]
        if size <= BLOCK:
            return super().run(x, scale, state, **options)
        total, final = None, None
        for start in range(0, size, BLOCK):
            q = torch.zeros_like(x["q"])
            q[..., start:start + BLOCK] = x["q"][..., start:start + BLOCK]
            o, final = super().run(dict(x, q=q), scale, state, **options)
            total = o if total is None else total + o
        return total, final


EinsumStepGLA = _EinsumStepGLA()
BlockedKGLA = _BlockedKGLA()

#: (name in this module, what it rewrites) of every correct rewrite.
REWRITES = (("TiledMatmulGRU", "matmuls summed over tiles of 256 units"),
            ("SigmoidFromTanhLSTM", "sigmoid as 0.5 tanh(0.5 x) + 0.5"),
            ("BatchGroupsRNN", "the batch run in groups of 64"),
            ("EinsumStepGLA", "a step loop of einsums"),
            ("BlockedKGLA", "o read in blocks of 64 keys, summed"))
