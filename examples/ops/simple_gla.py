"""A record of one's own and its operation, as a library author writes them: simple GLA (a scalar
log-decay per head and token, FLA's ``chunk_simple_gla``), which ``reference.recurrences`` does
not hold.  The record is the oracle's step, written with ``reference``'s primitives; the
operation is plain torch and names the record by ``package.module:NAME``.

    rnn-conformance --impl examples.ops.simple_gla:simple_gla --dtypes float64,float32
"""
import torch

from reference import Input, Operation, contract, exp, outer, per_head


def simple_gla_step(x, state, scale):
    """S' = exp(g) S + k v^T (g <= 0, one per head); o = scale S'^T q.  x.q, x.k (N, H, K),
    x.v (N, H, V), x.g (N, H); S (N, H, K, V)."""
    (S,) = state
    S = per_head(exp(x.g)) * S + outer(x.k, x.v)
    return (S,), scale * contract(x.q, S)


SIMPLE_GLA = Operation(
    "simple_gla",
    inputs=(Input("q", ("B", "T", "H", "K")), Input("k", ("B", "T", "H", "K")), Input("v", ("B", "T", "H", "V")),
            Input("g", ("B", "T", "H"), "log_decay")),
    states=(("S", ("H", "K", "V")),),
    output=("B", "T", "H", "V"),
    step=simple_gla_step,
    log_decay=lambda x: x.g,  # what a chunked form cumulates: the chunk charge's range
)


def simple_gla(q, k, v, g, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None):
    """The operation: a step loop over (B, T, H, D) tensors; a varlen batch runs sequence by sequence."""
    if cu_seqlens is not None:
        outs, finals = [], []
        for n, (start, stop) in enumerate(zip(cu_seqlens[:-1].tolist(), cu_seqlens[1:].tolist())):
            state = None if initial_state is None else initial_state[n:n + 1]
            o, final = simple_gla(q[:, start:stop], k[:, start:stop], v[:, start:stop], g[:, start:stop], scale,
                                  state, True)
            outs.append(o)
            finals.append(final)
        return torch.cat(outs, 1), (torch.cat(finals) if output_final_state else None)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    S = q.new_zeros(q.shape[0], q.shape[2], q.shape[3], v.shape[3]) if initial_state is None else initial_state
    outs = []
    for t in range(q.shape[1]):
        S = g[:, t].exp()[..., None, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        outs.append(scale * (q[:, t, :, :, None] * S).sum(-2))
    o = torch.stack(outs, 1) if outs else v.new_zeros(v.shape)
    return o, (S if output_final_state else None)


simple_gla.rnn_conformance_variant = "examples.ops.simple_gla:SIMPLE_GLA"
