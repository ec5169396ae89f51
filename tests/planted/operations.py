"""Planted bugs of the matrix-state recurrences' worked examples (``examples/ops/``): each class
is the correct example with one mistake real chunked kernels made, the rest the same tested
code.  ``PLANTED`` lists (class, the bug's kind); ``CORRECT`` the examples themselves, by name.

The kinds, from the bugs that reached users: padding of the last chunk that updates the state
(prefill then decode diverges); exp overflow for a tiny decay in the within-chunk inverse
(0 * inf); the initial state ignored by the chunked form; a cu_seqlens boundary that leaks
state; ``scale`` applied twice, or only in the backward; grouped heads broadcast with
``repeat`` where ``repeat_interleave`` belongs; a gradient that is NaN where the forward masks
entries; float64 computed in float32.
"""
import torch

from examples.ops.delta_rule import DeltaRuleChunked
from examples.ops.gated_delta_rule import GatedDeltaRuleChunked
from examples.ops.gla import GLAChunked
from examples.ops.linear_attention import LinearAttentionChunked
from examples.ops.mamba import Mamba2Chunked, MambaS6Chunked
from examples.ops.mlstm import MLSTMChunked
from examples.ops.retnet import RetNetChunked

#: Every worked example, as ``--impl`` names it.
CORRECT = tuple(f"examples.ops.{module}:{name}" for module, names in (
    ("linear_attention", ("recurrent", "chunked")), ("retnet", ("recurrent", "chunked")),
    ("gla", ("recurrent", "chunked")), ("delta_rule", ("recurrent", "chunked")),
    ("gated_delta_rule", ("recurrent", "chunked")), ("mlstm", ("recurrent", "chunked")),
    ("mamba", ("mamba2_recurrent", "mamba2_chunked", "s6_recurrent", "s6_chunked"))) for name in names)


# --- the mistakes, one method each ---------------------------------------------------------------

class EdgePadding:
    """The last chunk padded by repeating the last token (not zeros): the padding updates the state."""

    def pad(self, t, pad, gate=False):
        return torch.cat([t, t[:, -1:].repeat_interleave(pad, dim=1)], dim=1) if pad else t


class FactorizedDecay:
    """exp(gc_i - gc_j) computed as exp(gc_i) * exp(-gc_j): exp(-gc) overflows for a tiny decay
    and 0 * inf is NaN."""

    def pairwise(self, gc):
        causal = torch.ones(gc.shape[-2], gc.shape[-2], dtype=gc.dtype, device=gc.device).tril()[..., None]
        return gc.exp()[..., :, None, :] * (-gc).exp()[..., None, :, :] * causal


class MaskAfterExp:
    """exp(gc_i - gc_j) taken for every pair, then the pairs j > i zeroed: the forward is right,
    the backward multiplies 0 by exp's overflow there (NaN gradients)."""

    def pairwise(self, gc):
        causal = torch.ones(gc.shape[-2], gc.shape[-2], dtype=torch.bool, device=gc.device).tril()[..., None]
        return (gc[..., :, None, :] - gc[..., None, :, :]).exp().masked_fill(~causal, 0.0)


class IgnoresInitialState:
    """The chunked form starts from zeros whatever initial_state says."""

    def initial(self, S):
        return torch.zeros_like(S)


class LeaksAcrossSequences:
    """Each sequence of a varlen batch after the first starts from the state the previous one
    ended in, not its own initial state."""

    def sequence_state(self, initial_state, n, previous):
        return previous if previous is not None else super().sequence_state(initial_state, n, previous)


class ScaleTwice:
    """The output scaled by scale twice."""

    def scaled(self, o, scale):
        return scale * scale * o


class _ScaledInBackwardTwice(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, scale):
        ctx.scale = scale
        return q * scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale * ctx.scale, None


class ScaleTwiceInBackward:
    """q scaled by a custom function whose backward applies scale twice: the forward is right,
    the gradient of q is not (a fused kernel's backward)."""

    def scaled(self, o, scale):
        return o

    def run(self, x, scale, state, **options):
        return super().run(dict(x, q=_ScaledInBackwardTwice.apply(x["q"], scale)), scale, state, **options)


class RepeatNotInterleave:
    """Grouped heads broadcast with ``repeat`` (head j uses head j % H) where
    ``repeat_interleave`` belongs (head j // groups)."""

    def broadcast_heads(self, x):
        if not self.grouped:
            return x
        groups = self.value_heads(x) // x[self.grouped[0]].shape[2]
        return {name: value.repeat(1, 1, groups, 1) if name in self.grouped else value for name, value in x.items()}


class InFloat32:
    """float64 inputs computed in float32, the results returned as float64."""

    def compute_dtype(self, dtype):
        return torch.float32

    def state_out(self, final, dtype):
        return final.to(dtype) if self.states == 1 else tuple(f.to(dtype) for f in final)


class StateInFloat32:
    """The final state returned in float32 whatever the input's dtype (FLA's pure-torch paths)."""

    def state_out(self, final, dtype):
        return final.float() if self.states == 1 else tuple(f.float() for f in final)


# --- the planted examples ------------------------------------------------------------------------

def _planted(mistake, example):
    name = mistake.__name__ + example.__name__.removesuffix("Chunked")
    return type(name, (mistake, example), {"__doc__": f"{example.__name__}: {mistake.__doc__}",
                                           "__module__": __name__})


class MLSTMStabilizerNotCarried(MLSTMChunked):
    """MLSTMChunked: the carried state weighed by the forget gates' product alone, exp(b_L), as if
    it were not stabilized: off by exp(m_0 - m_L)."""

    def carry(self, b_last, m, m_last):
        return torch.exp(b_last)


class MLSTMIgnoresInitialState(MLSTMChunked):
    """MLSTMChunked: the chunked form starts from zeros whatever initial_state says."""

    def recur(self, q, k, v, i, log_f, state, chunk_size):
        return super().recur(q, k, v, i, log_f, tuple(torch.zeros_like(s) for s in state), chunk_size)


_KINDS = {EdgePadding: "padding updates the state", FactorizedDecay: "exp overflow for a tiny decay",
          MaskAfterExp: "NaN gradient where the forward masks", IgnoresInitialState: "initial state ignored",
          LeaksAcrossSequences: "cu_seqlens boundary leaks state", ScaleTwice: "scale applied twice",
          ScaleTwiceInBackward: "scale applied twice in the backward only",
          RepeatNotInterleave: "GVA with repeat, not repeat_interleave", InFloat32: "float64 computed in float32",
          StateInFloat32: "float32 final state for float64 input"}
_BY_EXAMPLE = {
    LinearAttentionChunked: (EdgePadding, IgnoresInitialState, ScaleTwiceInBackward, LeaksAcrossSequences),
    # RetNet's decays are fixed, the smallest 1 - 1/32 a token: exp(-gc) cannot overflow, so the
    # chunk-overflow mistakes are no bugs of it
    RetNetChunked: (EdgePadding, IgnoresInitialState, ScaleTwice, LeaksAcrossSequences),
    GLAChunked: (EdgePadding, FactorizedDecay, MaskAfterExp, LeaksAcrossSequences, InFloat32),
    DeltaRuleChunked: (EdgePadding, IgnoresInitialState, ScaleTwice, LeaksAcrossSequences, StateInFloat32),
    GatedDeltaRuleChunked: (EdgePadding, FactorizedDecay, MaskAfterExp, RepeatNotInterleave, InFloat32),
    Mamba2Chunked: (EdgePadding, MaskAfterExp, RepeatNotInterleave, IgnoresInitialState),
    MambaS6Chunked: (EdgePadding, FactorizedDecay, MaskAfterExp, InFloat32),
}
_classes = {}
for _example, _mistakes in _BY_EXAMPLE.items():
    for _mistake in _mistakes:
        _cls = _planted(_mistake, _example)
        _classes[_cls.__name__] = (_cls, _KINDS[_mistake], _example.rnn_conformance_variant)
_classes["MLSTMStabilizerNotCarried"] = (MLSTMStabilizerNotCarried, "stabilizer not carried", "mlstm")
_classes["MLSTMIgnoresInitialState"] = (MLSTMIgnoresInitialState, "initial state ignored", "mlstm")
_classes["LeaksAcrossSequencesMLSTM"] = (_planted(LeaksAcrossSequences, MLSTMChunked), _KINDS[LeaksAcrossSequences],
                                         "mlstm")
_classes["InFloat32MLSTM"] = (_planted(InFloat32, MLSTMChunked), _KINDS[InFloat32], "mlstm")
globals().update({name: cls() for name, (cls, _, _) in _classes.items()})

#: (name in this module, the bug's kind, the record it breaks) of every planted bug.
PLANTED = tuple((name, kind, record) for name, (_, kind, record) in _classes.items())
