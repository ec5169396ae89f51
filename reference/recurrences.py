"""The matrix-state recurrences the 2025-2026 models ship, one ``Operation`` record each, the
step written from the papers' equations (one head, state S of shape (K, V); a token's
q, k (K,), v (V,); output o = scale S'^T q):

* linear attention (Katharopoulos et al. 2020): S' = S + k v^T;
* RetNet (Sun et al. 2023): S' = gamma S + k v^T, gamma = 1 - 2^(-5 - h) fixed per head h;
* GLA (Yang et al. 2024): S' = diag(exp(g)) S + k v^T, a log-decay g <= 0 per key;
* DeltaNet (Schlag et al. 2021; Yang et al. 2024): S' = S + beta k (v - S^T k)^T, k of unit norm;
* Gated DeltaNet (Yang et al. 2025; Qwen3-Next): S' = exp(g) S, then the delta rule on it, q
  and k L2-normalized inside, HV value heads sharing H query/key heads;
* mLSTM (Beck et al. 2024, xLSTM): C' = f C + i k v^T, n' = f n + i k with exponential
  gates under a max stabilizer m, h = q^T C' / max(|q^T n'|, exp(-m')) (+ eps);
* Mamba2's SSD (Dao and Gu 2024): per head S' = exp(dt A) S + dt x B^T (P, N),
  y = S' C + D x, B and C shared by groups of heads;
* Mamba's S6 (Gu and Dao 2023): per channel d, S_d' = exp(dt_d A_d) S_d + dt_d x_d B,
  y_d = C . S_d' + D_d x_d.

Layout (B, T, H, D) as FLA's and Mamba's kernels take it.  ``OPERATIONS`` holds them by name.
"""
import numpy as np

from .activations import logsigmoid
from .arithmetic import absolute, constant, exp, log, maximum, value_of
from .cells import record_named
from .matrix import apply, column, contract, dot, l2_normalize, outer, per_head
from .operations import Input, Operation

#: The FLA-style inputs per token: queries and keys (B, T, H, K), values (B, T, H, V).
_QKV = (Input("q", ("B", "T", "H", "K")), Input("k", ("B", "T", "H", "K")), Input("v", ("B", "T", "H", "V")))
_STATE = (("S", ("H", "K", "V")),)
_OUT = ("B", "T", "H", "V")


def _read(q, state, scale):
    """o = scale S^T q: (N, H, V)."""
    return scale * contract(q, state)


def linear_attention_step(x, state, scale):
    (S,) = state
    S = S + outer(x.k, x.v)
    return (S,), _read(x.q, S, scale)


def retnet_decay(heads):
    """RetNet's fixed decay per head, log(1 - 2^(-5 - h)) for h = 0..heads-1."""
    return np.log1p(-(2.0 ** (-5.0 - np.arange(heads))))


def retnet_step(x, state, scale):
    """gamma computed as an implementation does, exp(log(1 - 2^(-5-h))): its roundings compound
    over the tokens like any decay's."""
    (S,) = state
    heads = np.shape(value_of(x.q))[1]
    gamma = exp(log(1.0 - constant(2.0 ** (-5.0 - np.arange(heads)), x.q)))
    S = per_head(gamma) * S + outer(x.k, x.v)
    return (S,), _read(x.q, S, scale)


def gla_step(x, state, scale):
    (S,) = state
    S = column(exp(x.g)) * S + outer(x.k, x.v)
    return (S,), _read(x.q, S, scale)


def delta_rule_step(x, state, scale):
    """S' = S + beta k (v - S^T k)^T: the state's reading at k moves toward v by beta."""
    (S,) = state
    S = S + outer(x.k, column(x.beta) * (x.v - contract(x.k, S)))
    return (S,), _read(x.q, S, scale)


def gated_delta_rule_step(x, state, scale):
    """S' = exp(g) S, then the delta rule on it, with q and k L2-normalized."""
    (S,) = state
    q, k = l2_normalize(x.q), l2_normalize(x.k)
    S = per_head(exp(x.g)) * S
    S = S + outer(k, column(x.beta) * (x.v - contract(k, S)))
    return (S,), _read(q, S, scale)


#: mLSTM's eps in the denominator (xLSTM's recurrent step).
MLSTM_EPS = 1e-6


def mlstm_step(x, state, scale):
    """xLSTM's stabilized recurrent step: log f = logsigmoid(f~), m' = max(log f + m, i~),
    f = exp(log f + m - m'), i = exp(i~ - m'), k scaled by ``scale``."""
    C, n, m = state
    log_f = logsigmoid(x.f)
    m_new = maximum(log_f + m, x.i)
    f, i = exp(log_f + m - m_new), exp(x.i - m_new)
    k = scale * x.k
    C = per_head(f) * C + per_head(i) * outer(k, x.v)
    n = column(f) * n + column(i) * k
    denominator = maximum(absolute(dot(x.q, n)), exp(-m_new)) + MLSTM_EPS
    h = contract(x.q, C) / column(denominator)
    return (C, n, m_new), h


def mamba2_step(x, state, scale):
    """a = exp(dt A) per head; S' = a S + dt x B^T; y = S' C + D x."""
    (S,) = state
    S = per_head(exp(x.dt * x.A)) * S + outer(column(x.dt) * x.x, x.B)
    return (S,), apply(S, x.C) + column(x.D) * x.x


def mamba_s6_step(x, state, scale):
    """Per channel: S_d' = exp(dt_d A_d) S_d + dt_d x_d B; y_d = C . S_d' + D_d x_d."""
    (S,) = state
    S = exp(column(x.dt) * x.A) * S + outer(x.dt * x.x, x.B)
    return (S,), apply(S, x.C) + x.D * x.x


LINEAR_ATTENTION = Operation("linear_attention", _QKV, _STATE, _OUT, linear_attention_step,
                             doc="S' = S + k v^T; o = scale S'^T q")
RETNET = Operation("retnet", _QKV, _STATE, _OUT, retnet_step,
                   log_decay=lambda x: np.broadcast_to(retnet_decay(np.shape(value_of(x.q))[1]),
                                                       np.shape(value_of(x.q))[:2]),
                   doc="S' = gamma_h S + k v^T, gamma_h = 1 - 2^(-5-h); o = scale S'^T q")
GLA = Operation("gla", _QKV + (Input("g", ("B", "T", "H", "K"), "log_decay"),), _STATE, _OUT, gla_step,
                log_decay=lambda x: x.g, doc="S' = diag(exp(g)) S + k v^T; o = scale S'^T q")
DELTA_RULE = Operation(
    "delta_rule", (Input("q", ("B", "T", "H", "K")), Input("k", ("B", "T", "H", "K"), "unit_norm"),
                   Input("v", ("B", "T", "H", "V")), Input("beta", ("B", "T", "H"), "unit_interval")),
    _STATE, _OUT, delta_rule_step, doc="S' = S + beta k (v - S^T k)^T; o = scale S'^T q")
GATED_DELTA_RULE = Operation(
    "gated_delta_rule", (Input("q", ("B", "T", "H", "K")), Input("k", ("B", "T", "H", "K")),
                         Input("v", ("B", "T", "HV", "V")), Input("g", ("B", "T", "HV"), "log_decay"),
                         Input("beta", ("B", "T", "HV"), "unit_interval")),
    (("S", ("HV", "K", "V")),), ("B", "T", "HV", "V"), gated_delta_rule_step, groups=(("H", "HV"),),
    log_decay=lambda x: x.g,
    doc="q, k L2-normalized; S' = exp(g) S + beta k (v - (exp(g) S)^T k)^T; o = scale S'^T q; HV = H x groups")
MLSTM = Operation(
    "mlstm", _QKV + (Input("i", ("B", "T", "H")), Input("f", ("B", "T", "H"))),
    (("C", ("H", "K", "V")), ("n", ("H", "K")), ("m", ("H",))), _OUT, mlstm_step,
    log_decay=lambda x: np.abs(value_of(logsigmoid(x.f))) + np.abs(value_of(x.i)),
    doc="exponential gating, max stabilizer m, normalizer n; h = q^T C / max(|q^T n|, exp(-m)) + eps")
MAMBA2_SSD = Operation(
    "mamba2_ssd", (Input("x", ("B", "T", "H", "P")), Input("dt", ("B", "T", "H"), "positive"),
                   Input("A", ("H",), "negative"), Input("B", ("B", "T", "G", "N")), Input("C", ("B", "T", "G", "N")),
                   Input("D", ("H",))),
    (("S", ("H", "P", "N")),), ("B", "T", "H", "P"), mamba2_step, scale=None, groups=(("G", "H"),),
    log_decay=lambda x: value_of(x.dt) * value_of(x.A),
    doc="a = exp(dt A) per head; S' = a S + dt x B^T; y = S' C + D x; G groups of heads share B and C")
MAMBA_S6 = Operation(
    "mamba_s6", (Input("x", ("B", "T", "D")), Input("dt", ("B", "T", "D"), "positive"),
                 Input("A", ("D", "N"), "negative"), Input("B", ("B", "T", "N")), Input("C", ("B", "T", "N")),
                 Input("D", ("D",))),
    (("S", ("D", "N")),), ("B", "T", "D"), mamba_s6_step, scale=None,
    log_decay=lambda x: value_of(x.dt)[..., None] * value_of(x.A),
    doc="per channel d: S_d' = exp(dt_d A_d) S_d + dt_d x_d B; y_d = C . S_d' + D_d x_d")

#: Every operation the oracle runs, by name.
OPERATIONS = {record.name: record for record in (LINEAR_ATTENTION, RETNET, GLA, DELTA_RULE, GATED_DELTA_RULE, MLSTM,
                                                 MAMBA2_SSD, MAMBA_S6)}


def operation_record(name):
    """The Operation ``name`` names: one of OPERATIONS, or ``package.module:NAME`` naming an
    Operation of your own; ValueError saying what is wrong otherwise."""
    return record_named(name, OPERATIONS, Operation, "operation", "operation")


def is_operation(name):
    """Whether ``name`` (a declaration) names an operation rather than a layer's variant."""
    if isinstance(name, Operation) or name in OPERATIONS:
        return True
    if isinstance(name, str) and ":" in name:
        try:
            operation_record(name)
        except ValueError:
            return False
        return True
    return False
