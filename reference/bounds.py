"""First-order forward error bounds: how far a correct implementation may be from the oracle.

Each ``*_cell_bound`` recomputes a cell's values exactly like ``reference.cells`` and,
beside them, a per-element bound on the error of an implementation that computes the
same function in a given ``Precision`` from inputs known only to within ``e_*``.  The
bound is worst-case: sums of dot products are bounded by ``n * u * (|W| |x| + |b|)``,
activations by their largest slope within the input's error interval, products by
``|a| e_b + |b| e_a + e_a e_b``, and every stored result adds its own rounding.
"""
from dataclasses import dataclass

import numpy as np

from .cells import gru_gates, hidden_projection, lstm_gates, relu, sigmoid

#: Roundoffs charged for one fused elementwise expression, whatever form it is written in.
ELEMENTWISE_ROUNDINGS = 3.0


@dataclass(frozen=True)
class Precision:
    """Unit roundoffs of the arithmetic an implementation uses.

    storage: roundoff of every stored elementwise result (the dtype's unit roundoff).
    accumulate: roundoff of the accumulation inside dot products (float32 for
        half-precision matmuls that accumulate in float32).
    operand: roundoff applied to matmul operands before multiplying (TF32: 2**-11).
    function_ulps: how many storage roundoffs tanh/exp implementations may be off.
    underflow: absolute error of one stored result that underflows: the smallest normal
        number, since a correct implementation may flush subnormals to zero.
    activation: absolute error of one sigmoid or tanh evaluation beyond that, declared by an
        implementation that approximates them (fast kernels); 0 for torch's.
    """

    storage: float
    accumulate: float
    operand: float = 0.0
    function_ulps: float = 4.0
    underflow: float = 0.0
    activation: float = 0.0

    def __post_init__(self):
        for name in ("storage", "accumulate", "operand"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"Precision.{name}={getattr(self, name)!r}: expected a unit roundoff in [0, 1)")
        for name in ("function_ulps", "underflow", "activation"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"Precision.{name}={getattr(self, name)!r}: expected >= 0")

    def dot(self, n):
        """Relative error of an n-term dot product plus bias: the accumulation, the operands'
        rounding, and two stored results (torch's linear may store the product, then add the
        bias in the dtype: seen in bfloat16 RNNs, whose errors reached 0.9 of one rounding)."""
        return n * self.accumulate + 2.0 * self.operand + 2.0 * self.storage

    def plus(self, other):
        """The precision whose errors cover both: used to add the oracle's own float64 roundoff."""
        return Precision(self.storage + other.storage, self.accumulate + other.accumulate,
                         self.operand + other.operand, max(self.function_ulps, other.function_ulps),
                         self.underflow + other.underflow, self.activation + other.activation)

    def rounding(self, value, roundings=1.0):
        """Error of storing ``value`` after ``roundings`` roundings, underflow included."""
        return roundings * self.storage * np.abs(value) + self.underflow


def affine_bound(x, e_x, w, b, prec, terms):
    """Error of ``x @ w.T + b`` for x (..., n) known to within e_x (or exact when None)."""
    abs_w = np.abs(w)
    magnitude = np.abs(x) @ abs_w.T
    if b is not None:
        magnitude = magnitude + np.abs(b)
    bound = prec.dot(terms) * magnitude + prec.underflow
    return bound if e_x is None else bound + e_x @ abs_w.T


def _sum(a, e_a, b, e_b, prec):
    s = a + b
    return s, e_a + e_b + prec.rounding(s)


def _product(a, e_a, b, e_b, prec):
    p = a * b
    return p, np.abs(a) * e_b + np.abs(b) * e_a + e_a * e_b + prec.rounding(p)


def _smooth(fn, slope, a, e_a, prec):
    """fn(a) and its error: the steepest slope of fn within [a - e_a, a + e_a] times e_a, the
    function's own error and the stored rounding."""
    out = fn(a)
    steepest = slope(np.maximum(np.abs(a) - e_a, 0.0))
    return out, steepest * e_a + prec.rounding(out, prec.function_ulps) + prec.activation


def _tanh_slope(m):
    """1 - tanh(m)**2 for m >= 0, accurate where it is tiny (written 4 e / (1 + e)**2, e = exp(-2m))."""
    e = np.exp(-2.0 * m)
    return 4.0 * e / (1.0 + e) ** 2


def _sigmoid_slope(m):
    """sigmoid(m) * (1 - sigmoid(m)) for m >= 0, accurate where it is tiny (written e / (1 + e)**2, e = exp(-m))."""
    e = np.exp(-m)
    return e / (1.0 + e) ** 2


def tanh_with_bound(a, e_a, prec):
    return _smooth(np.tanh, _tanh_slope, a, e_a, prec)


def sigmoid_with_bound(a, e_a, prec):
    return _smooth(sigmoid, _sigmoid_slope, a, e_a, prec)


def _preactivation(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms):
    gh = hidden_projection(h, w_hh, b_hh)
    return gh, affine_bound(h, e_h, w_hh, b_hh, prec, terms) + e_gx


def rnn_preactivation_bound(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms):
    """a = gx + W_hh h + b_hh of a tanh or ReLU RNN step, and its error."""
    gh, e_a = _preactivation(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms)
    return _sum(gx, e_a, gh, 0.0, prec)


def rnn_cell_bound(gx, e_gx, state, err, w_hh, b_hh, prec, terms, nonlinearity):
    """Values and bounds of one tanh or ReLU RNN step: state (h,), err (e_h,)."""
    (h,), (e_h,) = state, err
    a, e_a = rnn_preactivation_bound(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms)
    if nonlinearity == "tanh":
        h_next, e_next = tanh_with_bound(a, e_a, prec)
    else:
        h_next, e_next = relu(a), e_a
    return (h_next,), (e_next,)


def gru_gates_bound(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms):
    """GRU gates r, z, n and the hidden part h_n = W_hn h + b_hn of one step, each as a
    (value, error) pair (equations in ``reference.cells.gru_cell``)."""
    gh, e_gh = _preactivation(gx, 0.0, h, e_h, w_hh, b_hh, prec, terms)
    (x_r, x_z, x_n), (ex_r, ex_z, ex_n) = gru_gates(gx), gru_gates(e_gx)
    (h_r, h_z, h_n), (eh_r, eh_z, eh_n) = gru_gates(gh), gru_gates(e_gh)
    r, e_r = sigmoid_with_bound(*_sum(x_r, ex_r, h_r, eh_r, prec), prec)
    z, e_z = sigmoid_with_bound(*_sum(x_z, ex_z, h_z, eh_z, prec), prec)
    rh, e_rh = _product(r, e_r, h_n, eh_n, prec)
    n, e_n = tanh_with_bound(*_sum(x_n, ex_n, rh, e_rh, prec), prec)
    return (r, e_r), (z, e_z), (n, e_n), (h_n, eh_n)


def gru_cell_bound(gx, e_gx, state, err, w_hh, b_hh, prec, terms):
    """Values and bounds of one GRU step (equations in ``reference.cells.gru_cell``)."""
    (h,), (e_h,) = state, err
    _, (z, e_z), (n, e_n), _ = gru_gates_bound(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms)
    h_next = (1.0 - z) * n + z * h
    e_next = (np.abs(1.0 - z) * e_n + np.abs(z) * e_h + np.abs(n - h) * e_z + e_z * (e_n + e_h)
              + prec.rounding(np.abs(n) + np.abs(h) + np.abs(h_next), ELEMENTWISE_ROUNDINGS))
    return (h_next,), (e_next,)


def lstm_gates_bound(gx, e_gx, h, e_h, c, e_c, w_hh, b_hh, prec, terms):
    """LSTM gates i, f, g, o, the new cell state c' and tanh(c') of one step, each as a
    (value, error) pair (equations in ``reference.cells.lstm_cell``)."""
    gh, e_gates = _preactivation(gx, e_gx, h, e_h, w_hh, b_hh, prec, terms)
    gates, e_gates = _sum(gx, e_gates, gh, 0.0, prec)
    (i, f, g, o), (e_i, e_f, e_g, e_o) = lstm_gates(gates), lstm_gates(e_gates)
    i, f, o = sigmoid_with_bound(i, e_i, prec), sigmoid_with_bound(f, e_f, prec), sigmoid_with_bound(o, e_o, prec)
    g = tanh_with_bound(g, e_g, prec)
    c_next = _sum(*_product(*f, c, e_c, prec), *_product(*i, *g, prec), prec)
    return i, f, g, o, c_next, tanh_with_bound(*c_next, prec)


def lstm_cell_bound(gx, e_gx, state, err, w_hh, b_hh, w_hr, prec, terms):
    """Values and bounds of one LSTM step (equations in ``reference.cells.lstm_cell``)."""
    (h, c), (e_h, e_c) = state, err
    _, _, _, o, (c_next, e_c_next), t = lstm_gates_bound(gx, e_gx, h, e_h, c, e_c, w_hh, b_hh, prec, terms)
    h_next, e_h_next = _product(*o, *t, prec)
    if w_hr is not None:
        e_h_next = affine_bound(h_next, e_h_next, w_hr, None, prec, w_hr.shape[1])
        h_next = h_next @ w_hr.T
    return (h_next, c_next), (e_h_next, e_c_next)
