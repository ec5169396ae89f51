"""The primitives of matrix-valued states (a (K, V) state per head, Mamba's (P, N)): outer
products, contractions, L2 normalization and heads shared by groups.

Each is written on ``reference.arithmetic``'s primitives (broadcast products, sums, square
roots, indexing), so that its value, its error bound and its vector-Jacobian product come
from the same lines: a contraction over K is K products summed, bounded as a K-term dot
product (``Precision.dot``), and its gradient is the products' gradients summed back.
Shapes: any leading axes (batch, heads) broadcast; the last one or two are the vectors' and
the state's.
"""
import numpy as np

from .arithmetic import Num, sqrt, sum_over


def column(a):
    """a (..., K) as (..., K, 1): broadcast against a (..., K, V) state it scales its rows
    (a per-key decay, a key)."""
    return a[..., :, None]


def row(b):
    """b (..., V) as (..., 1, V): broadcast against a (..., K, V) state it scales its columns."""
    return b[..., None, :]


def per_head(a):
    """a (...,) of one number per head as (..., 1, 1): a scalar decay or gate of each head's state."""
    return a[..., None, None]


def outer(a, b):
    """a b^T: a (..., K), b (..., V) -> (..., K, V); each element one product."""
    return column(a) * row(b)


def contract(a, state):
    """a^T S: a (..., K), S (..., K, V) -> (..., V) (a query reading a state, ``q^T S``, or the
    delta rule's ``k^T S``); each element a dot product of K terms (one matrix product, its
    bound ``Arithmetic.contract``'s)."""
    number = _number(a, state)
    if number is None:  # the same sum without the (..., K, V) products held (einsum's loop)
        return np.einsum("...k,...kv->...v", a, state)
    return number.arith.contract(a, state)


def apply(state, b):
    """S b: S (..., K, V), b (..., V) -> (..., K) (Mamba's ``S C``, mLSTM's ``C q`` in the
    (V, K) convention); each element a dot product of V terms."""
    number = _number(state, b)
    if number is None:
        return np.einsum("...kv,...v->...k", state, b)
    return number.arith.apply(state, b)


def _number(*values):
    """The first of ``values`` that is a Num (None: all are plain arrays)."""
    return next((v for v in values if isinstance(v, Num)), None)


def dot(a, b):
    """a . b over the last axis: (..., K), (..., K) -> (...,)."""
    return sum_over(a * b, axis=-1)


def l2_normalize(x, eps=1e-6):
    """x / sqrt(sum(x**2) + eps) along the last axis: (..., K) -> (..., K).  The form of
    FLA's and transformers' ``l2norm`` (``x * rsqrt(sum(x * x) + eps)``); eps keeps the
    denominator clear of 0, so the bound stays finite for a zero vector."""
    return x / sqrt(dot(x, x) + eps)[..., None]


def repeat_heads(x, groups, axis):
    """x with each head along ``axis`` repeated ``groups`` times in place, as
    ``torch.repeat_interleave(x, groups, dim=axis)``: head j of the result is head
    j // groups of x (grouped value attention: value heads sharing query/key heads).  Its
    gradient sums the copies' (``arithmetic``'s index of a repeated index array)."""
    if groups == 1:
        return x
    ndim = np.ndim(x.value if hasattr(x, "value") else x)
    axis = axis % ndim
    heads = np.shape(x.value if hasattr(x, "value") else x)[axis]
    return x[(slice(None),) * axis + (np.repeat(np.arange(heads), groups),)]
