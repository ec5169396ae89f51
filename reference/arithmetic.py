"""The numbers the oracle computes with: the cell equations are written once, on these.

``reference.cells`` writes each equation once, with ordinary operators and the functions
here (``tanh``, ``sigmoid``, ``relu``, ``linear``, ``lerp``, ``split``).  The same code runs
on three kinds of numbers:

* float64 arrays: the oracle's values (``reference.rnn``), at numpy's speed;
* ``Num``s of an ``Arithmetic`` with a ``Precision``: each primitive computes its value and,
  beside it, a bound on the error of a correct implementation that computes the same
  primitive in that precision from inputs known only to within their own bounds
  (``reference.rnn_with_bound``);
* ``Num``s of an ``Arithmetic`` that records on a ``Tape``: each primitive also records its
  vector-Jacobian product, written below with the same primitives, so backpropagating
  through the tape gives the gradients and, with a precision, their bounds
  (``reference.rnn_backward``, ``reference.rnn_backward_with_bound``).

So a bound cannot drift from the values it bounds: it is the same equations run on bounded
numbers.  The bound is worst-case and first-order: a dot product of n terms plus bias is off
by ``n u (|W| |x| + |b|)`` (``Precision.dot``), an activation by its steepest slope within
its input's error interval, a product by ``|a| e_b + |b| e_a + e_a e_b``, and every stored
result adds its own rounding.
"""
import math
from dataclasses import dataclass

import numpy as np

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
    scan: relative error, per step and per unit of log-magnitude, of an implementation that is
        not a step loop (a log-space or associative parallel scan, a chunked recurrence),
        declared by it.  A log-space scan's cumulative sums cancel terms as large as its log
        coefficients, which are at most about 1 + |pre-activation| of the step's gates: after
        steps 1..k of a direction each state carries ``scan * M_k`` of its magnitude more, M_k
        the sum of those magnitudes so far, which later steps propagate like any error; walking
        back, every state gradient ``scan * M_T``, and every gate gradient ``scan * M_T`` of
        |d state| (|state before| + |state after|) (it is a difference of terms that large);
        0 for a step loop.
    """

    storage: float
    accumulate: float
    operand: float = 0.0
    function_ulps: float = 4.0
    underflow: float = 0.0
    activation: float = 0.0
    scan: float = 0.0

    def __post_init__(self):
        for name in ("storage", "accumulate", "operand"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"Precision.{name}={getattr(self, name)!r}: expected a unit roundoff in [0, 1)")
        for name in ("function_ulps", "underflow", "activation", "scan"):
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
                         self.underflow + other.underflow, self.activation + other.activation,
                         self.scan + other.scan)

    def rounding(self, value, roundings=1.0):
        """Error of storing ``value`` after ``roundings`` roundings, underflow included."""
        error = np.abs(value)
        error *= roundings * self.storage  # in place, like ``roundings * storage * |value|``
        if self.underflow:
            error += self.underflow
        return error


# --- values: what every primitive computes, on plain arrays and inside Nums alike ---------------

def sigmoid_value(a):
    """Logistic function 1 / (1 + exp(-a)): accurate to a few ulps relative everywhere,
    also where it is tiny (a << 0); exp overflows to inf only where the result is below
    1e-308 and rounds to 0 (callers run under ``np.errstate(over="ignore")``)."""
    e = np.exp(np.negative(a))
    if not isinstance(e, np.ndarray):
        return 1.0 / (1.0 + e)
    e += 1.0
    return np.divide(1.0, e, out=e)  # in place: 1 / (1 + e), as fast as numpy goes


def _relu_value(a):
    return np.maximum(a, 0.0)


def _lerp_value(start, end, weight):
    return (1.0 - weight) * start + weight * end


def _blocks(a, blocks):
    """Slices of the last axis in proportion to ``blocks`` (gate blocks of one size each)."""
    unit = a.shape[-1] // sum(blocks)
    pieces, start = [], 0
    for size in blocks:
        pieces.append(a[..., start * unit:(start + size) * unit])
        start += size
    return tuple(pieces)


def _transposed(weight):
    """weight.T, also for a stack of weights (one per direction: ``layers``' paired directions)."""
    return weight.T if weight.ndim == 2 else np.swapaxes(weight, -1, -2)


class Affine:
    """``x @ weight.T + bias`` as an implementation computes it, and the weight gradients
    summed over every use of it in a backward pass.

    terms: how many products one output's dot product sums, for its bound (default: the
    input size, plus one with a bias).  A recurrent step passes I + H + 2, since an
    implementation may compute the whole step as one fused product.
    names: the state-dict keys of (weight, bias), to report the gradients under.
    """

    def __init__(self, weight, bias=None, terms=None, names=None):
        self.weight = np.asarray(weight, dtype=np.float64)
        self.bias = None if bias is None else np.asarray(bias, dtype=np.float64)
        self.terms = self.weight.shape[1] + (bias is not None) if terms is None else terms
        self.names = names
        self.weight_t = _transposed(self.weight)
        self._abs_weight = None
        self.abs_bias = None if self.bias is None else np.abs(self.bias)
        self.sums = None  # name -> GradientSum, filled by backpropagation
        self.parent, self.rows, self._blocks = None, slice(None), {}

    @property
    def abs_weight(self):
        if self._abs_weight is None:
            self._abs_weight = np.abs(self.weight)
        return self._abs_weight

    def blocks(self, *blocks):
        """Its rows cut in proportion to ``blocks`` (gate blocks), each an Affine of its own
        whose weight gradients are summed into this one's rows."""
        if blocks not in self._blocks:
            unit, start, pieces = self.weight.shape[0] // sum(blocks), 0, []
            for size in blocks:
                rows = slice(start * unit, (start + size) * unit)
                piece = Affine(self.weight[rows], None if self.bias is None else self.bias[rows], self.terms,
                               self.names)
                piece.parent, piece.rows = self, rows
                pieces.append(piece)
                start += size
            self._blocks[blocks] = tuple(pieces)
        return self._blocks[blocks]

    @property
    def abs_weight_t(self):
        return _transposed(self.abs_weight)

    def value(self, x):
        out = x @ self.weight_t
        if self.bias is not None:
            out += self.bias
        return out

    def gradients(self, precision):
        """{name: (gradient, bound or None)} of what backpropagation accumulated."""
        return {name: total.result(precision) for name, total in (self.sums or {}).items()}


class GradientSum:
    """A weight gradient summed over rows and calls (``d.T @ v``, or ``d`` summed for a bias),
    with what its bound needs: the products' magnitudes, the propagated error, and how many
    terms and stored partial sums (one per matrix product) it adds up.

    The rows of ``d.T @ v`` wait until they hold ``PENDING`` elements and are then multiplied
    out in one product per block of rows: a step's rank-B update of a (4H, I + H) sum would
    pass over it four times per step (value, magnitude, two error terms); pending, the passes
    are shared by every step in the batch of rows."""

    #: Elements (of d and v together) that wait before a product: 32 MiB of float64.
    PENDING = 1 << 22

    def __init__(self, shape, bounded):
        self._value = np.zeros(shape)
        self.magnitude = np.zeros(shape) if bounded else None
        self.error = np.zeros(shape) if bounded else None
        self.terms = self.partials = 0
        self._pending, self._pending_size = {}, 0  # (start, stop, step) -> (block, [(g, x, e_g, e_x)])

    @property
    def value(self):
        self._flush()
        return self._value

    def add(self, d, v=None, block=slice(None)):
        """d (..., N, G) upstream gradients; v (..., N, K) the inputs, or None for a bias (or a
        vector used elementwise: d is then its gradient, per row); into rows ``block``."""
        shape = np.shape(_value(d))
        rows, partials = math.prod(shape[:-1]), math.prod(shape[:-2])
        if v is None and self._value.ndim > 1:  # a parameter of more than one axis used elementwise
            rows = math.prod(shape[:len(shape) - self._value.ndim])
        g = _value(d).reshape((rows, -1) if self._value.ndim < 2 or v is not None else (rows,) + self._value.shape)
        bounded = self.magnitude is not None
        if v is None:
            self._value[block] += g.sum(axis=0)
            if bounded:
                self.magnitude[block] += np.abs(g).sum(axis=0)
                self.error[block] += _full(d.error, d.value).reshape(g.shape).sum(axis=0)
        else:
            x = _value(v).reshape(rows, -1)
            e_g = _full(d.error, d.value).reshape(g.shape) if bounded else None
            e_x = _full(v.error, v.value).reshape(x.shape) if bounded else None
            key = (block.start, block.stop, block.step)
            self._pending.setdefault(key, (block, []))[1].append((g, x, e_g, e_x))
            self._pending_size += g.size + x.size
            if self._pending_size >= self.PENDING:
                self._flush()
        self.terms += rows
        self.partials += partials

    def _flush(self):
        """Multiply out the pending rows: value ``d^T v``, magnitude ``|d|^T |v|``, error
        ``e_d^T (|v| + e_v) + |d|^T e_v``."""
        for block, items in self._pending.values():
            g, x = (np.concatenate([item[i] for item in items]) for i in (0, 1))
            self._value[block] += g.T @ x
            if self.magnitude is not None:
                e_g, e_x = (np.concatenate([item[i] for item in items]) for i in (2, 3))
                abs_g, abs_x = np.abs(g), np.abs(x)
                self.magnitude[block] += abs_g.T @ abs_x
                abs_x += e_x
                self.error[block] += e_g.T @ abs_x + abs_g.T @ e_x
        self._pending, self._pending_size = {}, 0

    def result(self, precision):
        value = self.value
        if precision is None:
            return value, None
        return value, ((precision.dot(self.terms) + self.partials * precision.storage) * self.magnitude
                       + self.error + precision.underflow)


_ALLOCATOR_WARM = False


def _warm_allocator():
    """Once per process, allocate and free 16 MiB (never touched).  glibc maps a block past its
    mmap threshold (128 KiB at first) and, when a mapped block is freed, raises the threshold to
    its size and the heap's trim threshold to twice that; until then a bound's state-sized
    temporaries (512 KiB at K = V = 128 and four heads) were each mapped afresh or trimmed away
    and paged in again: 220 page faults per product, 20 times the cost of a pass over the state.
    After it, freed temporaries up to 16 MiB are reused from the heap, as in any process that
    has once freed a larger array."""
    global _ALLOCATOR_WARM
    if not _ALLOCATOR_WARM:
        _ALLOCATOR_WARM = True
        np.empty(2 << 20)  # 16 MiB of float64, freed at once


def _size(x):
    return x.size if x.__class__ is np.ndarray else np.size(x)


def _outer_shapes(a, b):
    """Whether a * b is an outer product: a (..., K, 1) and b (..., 1, V), or the other way
    round, with K and V past 1 and the same leading axes (``matrix.outer``'s shapes)."""
    if a.__class__ is not np.ndarray or b.__class__ is not np.ndarray or a.ndim < 2 or a.ndim != b.ndim:
        return False
    if a.shape[:-2] != b.shape[:-2] or a.dtype != np.float64 or b.dtype != np.float64:
        return False
    return (a.shape[-1] == 1 and b.shape[-2] == 1 and a.shape[-2] > 1 and b.shape[-1] > 1) or \
        (b.shape[-1] == 1 and a.shape[-2] == 1 and b.shape[-2] > 1 and a.shape[-1] > 1)


def _full(error, value):
    return np.broadcast_to(error, np.shape(value)) if np.ndim(error) < np.ndim(value) else error


# --- Nums and the arithmetic that computes them -------------------------------------------------

class Num:
    """A float64 array the oracle computed, with (``error``) a per-element bound on a correct
    implementation's error in it, or None where the arithmetic has no precision."""

    __slots__ = ("value", "error", "arith")
    __array_ufunc__ = None  # ``array + num`` calls Num.__radd__, not numpy elementwise

    def __init__(self, value, error, arith):
        self.value, self.error, self.arith = value, error, arith

    @property
    def shape(self):
        return np.shape(self.value)

    def __add__(self, other):
        return self.arith.add(self, other)

    def __radd__(self, other):
        return self.arith.add(other, self)

    def __sub__(self, other):
        return self.arith.sub(self, other)

    def __rsub__(self, other):
        return self.arith.sub(other, self)

    def __mul__(self, other):
        return self.arith.mul(self, other)

    def __rmul__(self, other):
        return self.arith.mul(other, self)

    def __neg__(self):
        return self.arith.neg(self)

    def __truediv__(self, other):
        return self.arith.div(self, other)

    def __rtruediv__(self, other):
        return self.arith.div(other, self)

    def __pow__(self, other):
        return self.arith.power(self, other)

    def __rpow__(self, other):
        return self.arith.power(other, self)

    def __abs__(self):
        return self.arith.absolute(self)

    def __getitem__(self, key):
        return self.arith.index(self, key)

    def __repr__(self):
        return f"Num(value={self.value!r}, error={self.error!r})"


class Tape:
    """The primitives one computation ran, in order, each with its vector-Jacobian product."""

    def __init__(self):
        self.nodes = []  # (vjp, inputs, outputs, extra)

    def backward(self, arith, outputs, grads, leaves):
        """Gradients of ``leaves`` (Nums this tape's computation started from) given ``grads``
        of ``outputs``, computed in ``arith`` (which has no tape).  Contributions from several
        uses of one Num are summed in the order the uses ran backwards; a leaf no output
        depends on gets None."""
        table = {}
        for out, grad in zip(outputs, grads):
            _accumulate(arith, table, out, grad)
        for vjp, inputs, outs, extra in reversed(self.nodes):
            if len(outs) == 1:
                grad = table.pop(id(outs[0]), None)
                if grad is None:
                    continue
                got = (grad,)
            else:
                got = [table.pop(id(out), None) for out in outs]
                if all(g is None for g in got):
                    continue
                got = [arith.zeros(np.shape(out.value)) if g is None else g for g, out in zip(got, outs)]
            for x, grad in zip(inputs, vjp(arith, got, inputs, outs, extra)):
                if isinstance(x, Num) and grad is not None:
                    _accumulate(arith, table, x, grad)
        return [table.get(id(leaf)) for leaf in leaves]


def _accumulate(arith, table, num, grad):
    key = id(num)
    table[key] = grad if key not in table else arith.add(table[key], grad)


class Arithmetic:
    """How numbers compute: in ``precision`` (None: values only, no bounds), recording each
    primitive on ``tape`` (None: not recorded).  With neither, results are plain arrays."""

    def __init__(self, precision=None, tape=None):
        if precision is not None and not isinstance(precision, Precision):
            raise TypeError(f"precision={precision!r}: expected a reference.Precision")
        self.precision, self.tape = precision, tape
        self.plain = precision is None and tape is None
        if precision is not None:
            _warm_allocator()

    def recording(self):
        """The same precision with a new tape."""
        return Arithmetic(self.precision, Tape())

    def make(self, value, error):
        """A number of this arithmetic: ``value`` itself when it is plain."""
        return value if self.plain else Num(value, None if self.precision is None else error, self)

    def exact(self, value):
        """A value known exactly (an input, an upstream gradient): its error is 0."""
        return self.make(np.asarray(value, dtype=np.float64), 0.0)

    def adopt(self, x):
        """``x`` (a Num of any arithmetic, or an array) as a number of this one: on a tape, a
        leaf of it."""
        if x.__class__ is Num:
            return x.value if self.plain else Num(x.value, x.error, self)
        return self.make(x, 0.0)

    def zeros(self, shape):
        return self.exact(np.zeros(shape))

    def _num(self, a):
        if a.__class__ is Num:
            return a
        return Num(a, None if self.precision is None else 0.0, self)

    def _emit(self, vjp, inputs, value, error, extra=None):
        out = Num(value, error, self)
        if self.tape is not None:
            self.tape.nodes.append((vjp, inputs, (out,), extra))
        return out

    def _round(self, value, roundings=1.0):
        return self.precision.rounding(value, roundings)

    # -- elementwise arithmetic --

    def add(self, a, b):
        value = _value(a) + _value(b)
        if self.plain:
            return value
        a, b = self._num(a), self._num(b)
        return self._emit(_add_vjp, (a, b), value, None if self.precision is None else self._sum_error(a, b, value))

    def sub(self, a, b):
        value = _value(a) - _value(b)
        if self.plain:
            return value
        a, b = self._num(a), self._num(b)
        return self._emit(_sub_vjp, (a, b), value, None if self.precision is None else self._sum_error(a, b, value))

    def _sum_error(self, a, b, value):
        """e_a + e_b and the stored rounding of a sum or difference, in one array of its shape."""
        error = self._round(value)
        for e in (a.error, b.error):
            if not _is_zero(e):
                error += e  # e broadcasts into the sum's shape
        return error

    def mul(self, a, b):
        """a * b.  Its error: ``|a| e_b + e_a (|b| + e_b)`` and the stored rounding
        ``u |a b|``, formed as ``(u |a| + e_a) |b| + (|a| + e_a) e_b`` with the factors of the
        operand with fewer elements (a gate, a key) made first: a state times a gate costs the
        product and three passes over the state, an outer product of two vectors two (the
        terms of an operand known exactly are not formed)."""
        va, vb = _value(a), _value(b)
        outer = _outer_shapes(va, vb)
        if not outer:
            value = va * vb
        else:  # (..., K, 1) (..., 1, V) by einsum, the column first: the same products, exact,
            # without numpy broadcasting's slow inner loops over a length-1 axis
            column, row = (va, vb) if va.shape[-1] == 1 else (vb, va)
            value = np.einsum("...ki,...iv->...kv", column, row)
        if self.plain:
            return value
        a, b = self._num(a), self._num(b)
        return self._emit(_mul_vjp, (a, b), value,
                          None if self.precision is None else self._product_error(a, b, value, outer))

    def _product_error(self, a, b, value, outer=False):
        if _size(a.value) > _size(b.value):
            a, b = b, a  # the bound is symmetric in a and b
        abs_a, abs_b = np.abs(a.value), np.abs(b.value)
        first = abs_a * self.precision.storage
        if not _is_zero(a.error):
            first = first + a.error
        if outer:  # both terms, (..., K, 2) @ (..., 2, V): one matrix product of two terms
            second = abs_a if _is_zero(a.error) else abs_a + a.error
            e_b = np.broadcast_to(b.error, np.shape(b.value))
            a_side, b_side = ((first, second), (abs_b, e_b)) if a.value.shape[-1] == 1 else ((abs_b, e_b), (first, second))
            error = np.concatenate(a_side, axis=-1) @ np.concatenate(b_side, axis=-2)
            if error.shape != np.shape(value):
                error = np.array(np.broadcast_to(error, np.shape(value)))
        elif isinstance(abs_b, np.ndarray) and abs_b.dtype == np.float64 and abs_b.shape == np.shape(value):
            abs_b *= first  # in place: |b| is not needed again
            error = abs_b
        else:
            error = np.asarray(first * abs_b, dtype=np.float64)
            if error.shape != np.shape(value):
                error = np.array(np.broadcast_to(error, np.shape(value)))
        if not outer and not _is_zero(b.error):
            error += (abs_a if _is_zero(a.error) else abs_a + a.error) * b.error
        if self.precision.underflow:
            error += self.precision.underflow
        return error

    def neg(self, a):
        """-a: exact."""
        if self.plain:
            return -_value(a)
        a = self._num(a)
        return self._emit(_neg_vjp, (a,), -a.value, a.error)

    def div(self, a, b):
        """a / b.  Its error: ``(e_a + |a/b| e_b) / (|b| - e_b)`` (exact to first order, and an
        upper bound while b's interval stays clear of 0: infinite where it may reach 0, so
        that a variant divides only by what its domains keep away from 0), and the stored
        rounding."""
        value = _value(a) / _value(b)
        if self.plain:
            return value
        a, b = self._num(a), self._num(b)
        error = None
        if self.precision is not None:
            clear = np.abs(b.value) - b.error
            with np.errstate(divide="ignore", invalid="ignore"):
                moved = np.where(clear > 0.0, (a.error + np.abs(value) * b.error) / clear, np.inf)
            error = moved + self._round(value)
        return self._emit(_div_vjp, (a, b), value, error)

    def absolute(self, a):
        """|a|: exact."""
        value = np.abs(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        return self._emit(_abs_vjp, (a,), value, a.error)

    def maximum(self, a, b):
        """The larger of a and b (a stabilizer): exact, and off by at most the larger of their
        errors.  Its gradient goes to the larger, half to each at a tie (torch.maximum's)."""
        return self._extremum(np.maximum, a, b)

    def minimum(self, a, b):
        """The smaller of a and b: as ``maximum``."""
        return self._extremum(np.minimum, a, b)

    def _extremum(self, fn, a, b):
        value = fn(_value(a), _value(b))
        if self.plain:
            return value
        a, b = self._num(a), self._num(b)
        error = None if self.precision is None else np.maximum(_full(a.error, a.value), _full(b.error, b.value))
        return self._emit(_extremum_vjp, (a, b), value, error, fn)

    def power(self, a, p):
        """a ** p, p a number or a Num (RG-LRU's ``a ** (c r)``); a > 0 unless p is a whole
        number.  Its error, to first order: ``|y| (|p| e_a / (|a| - e_a) + |log a| e_p)``,
        infinite where a's interval reaches 0, and ``function_ulps`` roundings of y."""
        value = np.power(_value(a), _value(p))
        if self.plain:
            return value
        a, p = self._num(a), self._num(p)
        error = None
        if self.precision is not None:
            clear = np.abs(a.value) - a.error
            with np.errstate(divide="ignore", invalid="ignore"):
                relative = np.where(clear > 0.0, np.abs(p.value) * a.error / clear, np.where(a.error > 0.0, np.inf, 0.0))
                relative = relative + np.where(p.error > 0.0, np.abs(np.log(np.abs(a.value))) * p.error, 0.0)
                moved = np.abs(value) * np.expm1(np.minimum(relative, 700.0))
            error = moved + self._round(value, self.precision.function_ulps)
        return self._emit(_power_vjp, (a, p), value, error)

    def exp(self, a):
        """e ** a.  Its error: ``|y| expm1(e_a)`` (the interval's upper end) and
        ``function_ulps`` roundings of y: relative everywhere, which is why stabilized gates
        subtract a running maximum first."""
        value = np.exp(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        error = None
        if self.precision is not None:
            error = np.abs(value) * np.expm1(np.minimum(a.error, 700.0)) + self._round(value, self.precision.function_ulps)
        return self._emit(_exp_vjp, (a,), value, error)

    def log(self, a):
        """The natural logarithm of a > 0.  Its error: ``-log1p(-e_a / a)`` (the interval's
        lower end; infinite where it reaches 0) and ``function_ulps`` roundings of log a."""
        value = np.log(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        error = None
        if self.precision is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                share = _full(a.error, a.value) / a.value
                moved = np.where(share < 1.0, -np.log1p(-np.minimum(share, 1.0)), np.inf)
            error = moved + self._round(value, self.precision.function_ulps)
        return self._emit(_log_vjp, (a,), value, error)

    def sqrt(self, a, max_gradient=None):
        """The square root of a >= 0.  Its error: how far it moves over a's interval (steepest
        at the lower end, down to 0) and ``function_ulps`` roundings of the root.  With
        ``max_gradient``, its derivative is bounded by it (Griffin's ``SqrtBoundDerivative``):
        g / sqrt(max(4 a, 1 / max_gradient**2)), finite at 0."""
        value = np.sqrt(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        error = None
        if self.precision is not None:
            low = np.sqrt(np.maximum(a.value - a.error, 0.0))
            high = np.sqrt(a.value + a.error)
            error = np.maximum(value - low, high - value) + self._round(value, self.precision.function_ulps)
        return self._emit(_sqrt_vjp, (a,), value, error, max_gradient)

    def sum_over(self, a, axis):
        """The sum of a along ``axis`` (LTC's sum over synapses).  Its error: the terms'
        errors and a dot product's rounding of n terms (``Precision.dot``) of their magnitudes."""
        value = np.sum(_value(a), axis=axis)
        if self.plain:
            return value
        a = self._num(a)
        error = None
        if self.precision is not None:
            n = np.shape(a.value)[axis]
            error = (np.sum(_full(a.error, a.value), axis=axis)
                     + self.precision.dot(n) * np.sum(np.abs(a.value), axis=axis) + self.precision.underflow)
        return self._emit(_sum_vjp, (a,), value, error, axis)

    def contract(self, a, state):
        """a^T S: a (..., K), S (..., K, V) -> (..., V), each element a K-term dot product,
        computed as one matrix product (the products a_k S_kv are never held).  Its error is
        ``sum_over(a[..., None] * S, -2)``'s, term for term: the products' propagated errors
        ``|a| e_S + e_a (|S| + e_S)``, their roundings, and a K-term dot product's of their
        magnitudes (``Precision.dot``)."""
        return self._matvec(a, state, _contract_vjp, lambda x, s: (x[..., None, :] @ s)[..., 0, :], -2)

    def apply(self, state, b):
        """S b: S (..., K, V), b (..., V) -> (..., K), each element a V-term dot product; its
        error as ``sum_over(S * b[..., None, :], -1)``'s (``contract``'s, transposed)."""
        return self._matvec(b, state, _apply_vjp, lambda x, s: (s @ x[..., :, None])[..., 0], -1)

    def _matvec(self, vector, state, vjp, product, axis):
        """The error, ``(|x| c + e_x) |S| + (|x| + e_x) e_S`` with c a stored rounding and an
        n-term dot product's: two matrix products (``|x| |S| c + |x| e_S + e_x (|S| + e_S)``
        regrouped)."""
        value = product(_value(vector), _value(state))
        if self.plain:
            return value
        vector, state = self._num(vector), self._num(state)
        error = None
        if self.precision is not None:
            n = np.shape(state.value)[axis]
            abs_vector = np.abs(vector.value)
            left = abs_vector * (self.precision.storage + self.precision.dot(n))
            if not _is_zero(vector.error):
                left += vector.error
            error = product(left, np.abs(state.value))
            if not _is_zero(state.error):
                right = abs_vector if _is_zero(vector.error) else abs_vector + vector.error
                error += product(right, _full(state.error, state.value))
            if self.precision.underflow:
                error += (n + 1) * self.precision.underflow
        return self._emit(vjp, (vector, state), value, error)

    def lerp(self, start, end, weight):
        """``(1 - weight) * start + weight * end`` (torch.lerp), one fused expression: an
        implementation may also write ``start + weight * (end - start)``; charged
        ``ELEMENTWISE_ROUNDINGS`` roundings of the operands' and result's magnitudes."""
        value = _lerp_value(_value(start), _value(end), _value(weight))
        if self.plain:
            return value
        a, b, w = self._num(start), self._num(end), self._num(weight)
        error = None
        if self.precision is not None:
            error = (np.abs(1.0 - w.value) * a.error + np.abs(w.value) * b.error + np.abs(a.value - b.value) * w.error
                     + w.error * (a.error + b.error)
                     + self._round(np.abs(a.value) + np.abs(b.value) + np.abs(value), ELEMENTWISE_ROUNDINGS))
        return self._emit(_lerp_vjp, (a, b, w), value, error)

    def scan_slack(self, a, scanned):
        """``a`` (a state, or its gradient) with the declared scan error (``Precision.scan``)
        of a log-magnitude ``scanned`` (a number or an array like a) added to its error."""
        if self.precision is None or not self.precision.scan or a.__class__ is not Num:
            return a
        return Num(a.value, a.error + scanned * self.precision.scan * np.abs(a.value), self)

    def slack(self, a, of, roundings):
        """``a`` with ``roundings`` more roundings of ``of``'s magnitude in its error (an
        implementation's extra stored results that the expression does not show)."""
        if self.precision is None:
            return a
        return Num(a.value, a.error + self._round(of.value, roundings), self)

    # -- activations --

    def tanh(self, a):
        return self._smooth(np.tanh, _tanh_slope, _tanh_vjp, a)

    def sigmoid(self, a):
        return self._smooth(sigmoid_value, _sigmoid_slope, _sigmoid_vjp, a)

    def _smooth(self, fn, slope, vjp, a):
        """fn(a) and its error: the steepest slope of fn within [a - e_a, a + e_a] times e_a,
        the function's own error and the stored rounding."""
        value = fn(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        error = None
        if self.precision is not None:
            error = slope(np.maximum(np.abs(a.value) - a.error, 0.0)) * a.error
            error += self._round(value, self.precision.function_ulps)
            if self.precision.activation:
                error += self.precision.activation
        return self._emit(vjp, (a,), value, error)

    def monotone(self, a, function):
        """``function`` (a ``Monotone``) of a.  Its error: how far the function moves over
        a's error interval (it is monotone, so the interval's ends bound it), and
        ``function_ulps`` roundings of the magnitude its evaluation rounds (``function.scale``)."""
        value = function.value(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        error = None
        if self.precision is not None:
            e_a = _full(a.error, a.value)
            moved = np.maximum(np.abs(function.value(a.value + e_a) - value),
                               np.abs(value - function.value(a.value - e_a)))
            error = moved + self._round(function.scale(a.value, value), self.precision.function_ulps)
        return self._emit(_monotone_vjp, (a,), value, error, function)

    def relu(self, a):
        """max(a, 0): exact."""
        value = _relu_value(_value(a))
        if self.plain:
            return value
        a = self._num(a)
        return self._emit(_relu_vjp, (a,), value, a.error)

    # -- linear algebra --

    def linear(self, x, affine):
        """``affine`` applied to x (..., n)."""
        value = affine.value(_value(x))
        if self.plain:
            return value
        x = self._num(x)
        error = None
        if self.precision is not None:
            # dot (|x| |W|^T + |b|) + e_x |W|^T as one matrix product: (dot |x| + e_x) |W|^T + dot |b|
            dot = self.precision.dot(affine.terms)
            left = np.abs(x.value) * dot
            if np.ndim(x.error):
                left += x.error
            error = left @ affine.abs_weight_t
            if affine.bias is not None:
                error += dot * affine.abs_bias
            if self.precision.underflow:
                error += self.precision.underflow
        return self._emit(_linear_vjp, (x,), value, error, affine)

    def linear_transposed(self, g, affine):
        """``g @ weight``: how a gradient flows back through ``affine`` (a dot product of
        ``weight.shape[0]`` terms, no bias)."""
        value = _value(g) @ affine.weight
        if self.plain:
            return value
        g = self._num(g)
        error = None
        if self.precision is not None:
            # dot |g| |W| + e_g |W| as one matrix product (``linear``'s regrouping)
            left = np.abs(g.value) * self.precision.dot(affine.weight.shape[0])
            if np.ndim(g.error):
                left += g.error
            error = left @ affine.abs_weight
            if self.precision.underflow:
                error += self.precision.underflow
        return self._emit(_linear_transposed_vjp, (g,), value, error, affine)

    # -- moving values around (exact) --

    def split(self, a, blocks):
        """The last axis cut into pieces in proportion to ``blocks``."""
        values = _blocks(_value(a), blocks)
        if self.plain:
            return values
        a = self._num(a)
        if self.precision is None:
            outs = tuple([Num(v, None, self) for v in values])
        else:
            outs = tuple([Num(v, e, self) for v, e in zip(values, _blocks(_full(a.error, a.value), blocks))])
        if self.tape is not None:
            self.tape.nodes.append((_split_vjp, (a,), outs, None))
        return outs

    def concat(self, parts, axis=-1):
        value = np.concatenate([_value(p) for p in parts], axis=axis)
        if self.plain:
            return value
        parts = [self._num(p) for p in parts]
        error = None if self.precision is None else np.concatenate(
            [_full(p.error, p.value) for p in parts], axis=axis)
        return self._emit(_concat_vjp, tuple(parts), value, error, axis)

    def stack(self, parts):
        value = np.stack([_value(p) for p in parts])
        if self.plain:
            return value
        parts = [self._num(p) for p in parts]
        error = None if self.precision is None else np.stack([_full(p.error, p.value) for p in parts])
        return self._emit(_stack_vjp, tuple(parts), value, error)

    def index(self, a, key):
        value = _value(a)[key]
        if self.plain:
            return value
        a = self._num(a)
        error = None if self.precision is None else _full(a.error, a.value)[key]
        return self._emit(_index_vjp, (a,), value, error, key)

    def where(self, mask, a, b, uncertain=None):
        """a where mask, else b (mask a boolean array that broadcasts); ``uncertain``: where the
        mask itself may go either way in a correct implementation (a ``Condition``'s operands
        within their error of each other): the bound is infinite there."""
        value = np.where(mask, _value(a), _value(b))
        if self.plain:
            return value
        a, b = self._num(a), self._num(b)
        error = None if self.precision is None else np.where(mask, a.error, b.error)
        if error is not None and uncertain is not None:
            error = np.where(uncertain, np.inf, error)
        return self._emit(_where_vjp, (a, b), value, error, mask)


def _value(x):
    return x.value if x.__class__ is Num else x


def _tanh_slope(m):
    """1 - tanh(m)**2 for m >= 0, accurate where it is tiny (written 4 e / (1 + e)**2, e = exp(-2m))."""
    e = np.exp(-2.0 * m)
    return 4.0 * e / np.square(1.0 + e)


def _sigmoid_slope(m):
    """sigmoid(m) * (1 - sigmoid(m)) for m >= 0, accurate where it is tiny (written e / (1 + e)**2, e = exp(-m))."""
    e = np.exp(-m)
    return e / np.square(1.0 + e)


def _relu_may_flip(a, e_a):
    """Where a pre-activation known to within e_a may lie on the other side of ReLU's kink
    (derivative 1 for a > 0, 0 for a <= 0, as torch takes it): a > 0 down to 0, or a <= 0
    up past 0.  At a = 0 known exactly nothing flips."""
    return np.where(a > 0.0, a <= e_a, -a < e_a)


# --- vector-Jacobian products: vjp(arith, output grads, inputs, outputs, extra) -> input grads -----
# Written with the primitives, so that in an arithmetic with a precision they carry bounds too:
# a derivative computed from a stored activation y carries y's error.

def _add_vjp(ar, grads, inputs, outs, extra):
    return _fit(ar, grads[0], inputs[0]), _fit(ar, grads[0], inputs[1])


def _sub_vjp(ar, grads, inputs, outs, extra):
    return _fit(ar, grads[0], inputs[0]), _fit(ar, ar.neg(grads[0]), inputs[1])


def _mul_vjp(ar, grads, inputs, outs, extra):
    (g,), (a, b) = grads, inputs
    return _fit(ar, ar.mul(g, b), a), _fit(ar, ar.mul(g, a), b)


def _neg_vjp(ar, grads, inputs, outs, extra):
    return (ar.neg(grads[0]),)


def _lerp_vjp(ar, grads, inputs, outs, extra):
    """d start = g (1 - w), d end = g w, d weight = g (end - start); each also one fused
    expression's roundings of g (an implementation may take either form's gradient)."""
    (g,), (start, end, weight) = grads, inputs
    return (ar.slack(ar.mul(g, ar.sub(1.0, weight)), g, ELEMENTWISE_ROUNDINGS),
            ar.slack(ar.mul(g, weight), g, ELEMENTWISE_ROUNDINGS),
            ar.slack(ar.mul(g, ar.sub(end, start)), g, ELEMENTWISE_ROUNDINGS))


def _fit(ar, grad, like):
    """``grad`` summed down to the shape of the operand ``like``, over the axes along which it
    was broadcast (numpy's rules: leading axes it lacked, and axes where it had size 1), as
    torch's autograd sums a broadcast operand's gradient (``sum_to_size``)."""
    shape, got = np.shape(_value(like)), np.shape(_value(grad))
    if shape == got:
        return grad
    if len(shape) == 0:  # a Python number: nothing reads its gradient
        return grad
    for _ in range(len(got) - len(shape)):
        grad = ar.sum_over(grad, 0)
    for axis, size in enumerate(shape):
        if size == 1 and np.shape(_value(grad))[axis] != 1:
            grad = ar.index(ar.sum_over(grad, axis), (slice(None),) * axis + (None,))  # summed, the axis kept
    return grad


def _div_vjp(ar, grads, inputs, outs, extra):
    """da = g / b, db = -g y / b, from the stored y = a / b."""
    (g,), (a, b), (y,) = grads, inputs, outs
    da = ar.div(g, b)
    return _fit(ar, da, a), _fit(ar, ar.neg(ar.mul(da, y)), b)


def _abs_vjp(ar, grads, inputs, outs, extra):
    """da = g sign(a) (0 at 0, as torch); the sign's error is 2 where a may lie across 0."""
    a = inputs[0]
    sign = np.sign(a.value)
    flip = None
    if ar.precision is not None:
        e_a = _full(a.error, a.value)
        flip = np.where((np.abs(a.value) <= e_a) & (e_a > 0.0), 2.0, 0.0)
    return (ar.mul(grads[0], ar.make(sign, flip)),)


def _extremum_vjp(ar, grads, inputs, outs, fn):
    """The gradient goes to the operand chosen, half to each at a tie; where the operands'
    intervals overlap the choice may differ, so the share's error is 1 there."""
    (g,), (a, b) = grads, inputs
    a_value, b_value = np.broadcast_arrays(a.value, b.value)
    chosen = fn(a_value, b_value)
    tie = a_value == b_value
    share_a = np.where(tie, 0.5, (chosen == a_value).astype(np.float64))
    error = None
    if ar.precision is not None:
        overlap = np.abs(a_value - b_value) <= _full(a.error, a.value) + _full(b.error, b.value)
        error = np.where(overlap & ~(tie & (_full(a.error, a.value) + _full(b.error, b.value) == 0.0)), 1.0, 0.0)
    return (_fit(ar, ar.mul(g, ar.make(share_a, error)), a),
            _fit(ar, ar.mul(g, ar.make(1.0 - share_a, error)), b))


def _power_vjp(ar, grads, inputs, outs, extra):
    """da = g p y / a, dp = g y log a, from the stored y = a ** p."""
    (g,), (a, p), (y,) = grads, inputs, outs
    gy = ar.mul(g, y)
    da = ar.div(ar.mul(gy, p), a)
    dp = ar.mul(gy, ar.log(a)) if np.all(np.asarray(a.value) > 0.0) else ar.mul(gy, 0.0)
    return _fit(ar, da, a), _fit(ar, dp, p)


def _exp_vjp(ar, grads, inputs, outs, extra):
    """da = g y, from the stored y = exp(a)."""
    return (ar.mul(grads[0], outs[0]),)


def _log_vjp(ar, grads, inputs, outs, extra):
    """da = g / a."""
    return (ar.div(grads[0], inputs[0]),)


def _sqrt_vjp(ar, grads, inputs, outs, max_gradient):
    """da = g / (2 y), from the stored y = sqrt(a); with ``max_gradient``,
    g / sqrt(max(4 a, 1 / max_gradient**2))."""
    if max_gradient is None:
        return (ar.div(grads[0], ar.mul(2.0, outs[0])),)
    return (ar.div(grads[0], ar.sqrt(ar.maximum(ar.mul(4.0, inputs[0]), 1.0 / max_gradient ** 2))),)


def _contract_vjp(ar, grads, inputs, outs, extra):
    """d a = S g (a V-term dot product), d S = a g^T (products): ``sum_over``'s and ``mul``'s."""
    (g,), (a, state) = grads, inputs
    return (_fit(ar, ar.apply(state, g), a),
            _fit(ar, ar.mul(ar.index(a, (Ellipsis, slice(None), None)), ar.index(g, (Ellipsis, None, slice(None)))),
                 state))


def _apply_vjp(ar, grads, inputs, outs, extra):
    """d b = g^T S (a K-term dot product), d S = g b^T."""
    (g,), (b, state) = grads, inputs
    return (_fit(ar, ar.contract(g, state), b),
            _fit(ar, ar.mul(ar.index(g, (Ellipsis, slice(None), None)), ar.index(b, (Ellipsis, None, slice(None)))),
                 state))


def _is_zero(error):
    """Whether an error is the exact 0 of a number known exactly (a 0-d zero, not an array)."""
    if error is None:
        return True
    if error.__class__ is np.ndarray:
        return error.ndim == 0 and error == 0.0
    return np.ndim(error) == 0 and error == 0.0


def _sum_vjp(ar, grads, inputs, outs, axis):
    """da = g broadcast back along the summed axis (exact copies)."""
    g, a = grads[0], inputs[0]
    shape = np.shape(a.value)
    spread = lambda v: np.broadcast_to(np.expand_dims(v, axis), shape).copy()
    error = None if ar.precision is None else spread(_full(g.error, g.value))
    return (ar.make(spread(_value(g)), error),)


def _tanh_vjp(ar, grads, inputs, outs, extra):
    """da = g (1 - y**2), from the stored y = tanh(a)."""
    y = outs[0]
    return (ar.mul(grads[0], ar.sub(1.0, ar.mul(y, y))),)


def _sigmoid_vjp(ar, grads, inputs, outs, extra):
    """da = g y (1 - y), from the stored y = sigmoid(a)."""
    y = outs[0]
    return (ar.mul(grads[0], ar.mul(y, ar.sub(1.0, y))),)


def _relu_vjp(ar, grads, inputs, outs, extra):
    """da = g where a > 0; the slope's error is 1 where a may lie across the kink."""
    a = inputs[0]
    slope = (a.value > 0.0).astype(np.float64)
    flip = None if ar.precision is None else _relu_may_flip(a.value, _full(a.error, a.value)).astype(np.float64)
    return (ar.mul(grads[0], ar.make(slope, flip)),)


def _monotone_vjp(ar, grads, inputs, outs, function):
    """da = g f'(a); the derivative's error is how far f' moves over a's error interval
    (f' is monotone between ``function.breaks``, so the interval's ends and the breaks
    inside it bound it) plus ``function_ulps`` roundings of it."""
    a = inputs[0]
    slope = function.derivative(a.value)
    error = None
    if ar.precision is not None:
        e_a = _full(a.error, a.value)
        low, high = a.value - e_a, a.value + e_a
        moved = np.maximum(np.abs(function.derivative(low) - slope), np.abs(function.derivative(high) - slope))
        for point in function.breaks:
            inside = (low <= point) & (point <= high)
            for side in (np.nextafter(point, -np.inf), np.nextafter(point, np.inf)):
                moved = np.where(inside, np.maximum(moved, np.abs(function.derivative(side) - slope)), moved)
        error = moved + ar.precision.rounding(np.abs(slope), ar.precision.function_ulps)
    return (ar.mul(grads[0], ar.make(slope, error)),)


def _linear_vjp(ar, grads, inputs, outs, affine):
    """dx = g @ W; the weight (and bias) gradients are summed into ``affine``."""
    (g,), (x,) = grads, inputs
    _sum_weight_gradients(ar, affine, g, x)
    return (ar.linear_transposed(g, affine),)


def _linear_transposed_vjp(ar, grads, inputs, outs, affine):
    raise NotImplementedError("second derivatives: the oracle backpropagates once")


def _sum_weight_gradients(ar, affine, g, x):
    whole = affine.parent or affine  # a block's gradients go into its rows of the whole
    if whole.sums is None:
        bounded = ar.precision is not None
        weight_name, bias_name = whole.names or ("weight", "bias")
        whole.sums = {weight_name: GradientSum(whole.weight.shape, bounded)}
        if whole.bias is not None:
            whole.sums[bias_name] = GradientSum(whole.bias.shape, bounded)
    sums = iter(whole.sums.values())
    next(sums).add(g, x, affine.rows)
    for bias in sums:
        bias.add(g, block=affine.rows)


def _split_vjp(ar, grads, inputs, outs, extra):
    return (ar.concat(grads),)


def _concat_vjp(ar, grads, inputs, outs, axis):
    sizes = np.cumsum([np.shape(p.value)[axis] for p in inputs])[:-1]
    g = grads[0]
    values = np.split(_value(g), sizes, axis=axis)
    errors = [None] * len(values) if ar.precision is None else np.split(_full(g.error, g.value), sizes, axis=axis)
    return tuple(ar.make(v, e) for v, e in zip(values, errors))


def _stack_vjp(ar, grads, inputs, outs, extra):
    return tuple(ar.index(grads[0], k) for k in range(len(inputs)))


def _index_vjp(ar, grads, inputs, outs, key):
    """da = g put back where it was taken from; an index array that takes an element twice
    (heads shared by ``repeat_interleave``) sums its gradients there (``np.add.at``)."""
    g, a = grads[0], inputs[0]
    put = np.add.at if _takes_arrays(key) else _assign
    value = np.zeros(np.shape(a.value))
    put(value, key, _value(g))
    error = None
    if ar.precision is not None:
        error = np.zeros(np.shape(a.value))
        put(error, key, _full(g.error, g.value))
        if put is not _assign:  # the sums' roundings
            error += ar._round(value)
    return (ar.make(value, error),)


def _takes_arrays(key):
    return any(isinstance(part, (np.ndarray, list)) for part in (key if isinstance(key, tuple) else (key,)))


def _assign(array, key, values):
    array[key] = values


def _where_vjp(ar, grads, inputs, outs, mask):
    g = grads[0]
    return ar.where(mask, g, 0.0), ar.where(mask, 0.0, g)


# --- the functions equations are written with: plain arrays in, plain arrays out; Nums in, Nums out --

def tanh(a):
    return a.arith.tanh(a) if isinstance(a, Num) else np.tanh(a)


def sigmoid(a):
    return a.arith.sigmoid(a) if isinstance(a, Num) else sigmoid_value(a)


def relu(a):
    return a.arith.relu(a) if isinstance(a, Num) else _relu_value(a)


def monotone(a, function):
    """``function`` (a ``reference.activations.Monotone``) of a."""
    return a.arith.monotone(a, function) if isinstance(a, Num) else function.value(a)


def linear(x, affine):
    """``x @ affine.weight.T + affine.bias``."""
    return x.arith.linear(x, affine) if isinstance(x, Num) else affine.value(x)


def lerp(start, end, weight):
    """``(1 - weight) * start + weight * end``, as ``torch.lerp``."""
    for a in (start, end, weight):
        if isinstance(a, Num):
            return a.arith.lerp(start, end, weight)
    return _lerp_value(start, end, weight)


def split(a, *blocks):
    """The last axis of ``a`` cut in proportion to ``blocks``: ``split(gates, 2, 1, 1)`` is
    (the first two gate blocks, the third, the fourth)."""
    return a.arith.split(a, blocks) if isinstance(a, Num) else _blocks(a, blocks)


def _call(name, *args):
    """The arithmetic method ``name`` on ``args`` when one is a Num, else None."""
    for a in args:
        if isinstance(a, Num):
            return getattr(a.arith, name)(*args)
    return None


def exp(a):
    """e ** a (relative error bound; subtract a stabilizer first where a may be large)."""
    return a.arith.exp(a) if isinstance(a, Num) else np.exp(a)


def log(a):
    """The natural logarithm of a > 0."""
    return a.arith.log(a) if isinstance(a, Num) else np.log(a)


def sqrt(a, max_gradient=None):
    """The square root of a >= 0; with ``max_gradient``, its derivative bounded by it (Griffin's
    RG-LRU: sqrt(1 - a**2) at a = 1)."""
    return a.arith.sqrt(a, max_gradient) if isinstance(a, Num) else np.sqrt(a)


def absolute(a):
    """|a| (also ``abs(num)``)."""
    return a.arith.absolute(a) if isinstance(a, Num) else np.abs(a)


def divide(a, b):
    """a / b (also ``a / b`` on Nums); b kept away from 0 by the variant's domains."""
    got = _call("div", a, b)
    return np.divide(a, b) if got is None else got


def maximum(a, b):
    """The elementwise larger of a and b (a stabilizer such as sLSTM's ``m``)."""
    got = _call("maximum", a, b)
    return np.maximum(a, b) if got is None else got


def minimum(a, b):
    """The elementwise smaller of a and b."""
    got = _call("minimum", a, b)
    return np.minimum(a, b) if got is None else got


def power(a, p):
    """a ** p (also ``a ** p`` on Nums), p a number or an array/Num; a > 0 unless p is whole."""
    got = _call("power", a, p)
    return np.power(a, p) if got is None else got


def sum_over(a, axis=-1):
    """The sum of a along ``axis`` (LTC's sum over synapses)."""
    return a.arith.sum_over(a, axis) if isinstance(a, Num) else np.sum(a, axis=axis)


def pairwise(h):
    """h (..., H) as (..., H, 1): broadcast against an (H, H) parameter it gives the pairwise
    terms ``p[i, j]`` of unit i's state (LTC's synapses from i to j); ``sum_over(..., -2)``
    then sums over the presynaptic units."""
    return h[..., :, None]


class Condition:
    """A comparison a step branches on (``equal``, ``less``, ``greater``), elementwise: ``mask``
    where it holds, ``uncertain`` where the operands lie within their error bounds of each other,
    so that a correct implementation's rounding may decide it either way (None: nowhere).
    ``~``, ``&`` and ``|`` combine conditions; ``where(condition, a, b)`` branches on one.  It has
    no truth value: a step is elementwise over the batch and the units."""

    __slots__ = ("mask", "uncertain")

    def __init__(self, mask, uncertain=None):
        self.mask, self.uncertain = np.asarray(mask, dtype=bool), uncertain

    def _either(self, other):
        if self.uncertain is None:
            return other.uncertain
        return self.uncertain if other.uncertain is None else self.uncertain | other.uncertain

    def __invert__(self):
        return Condition(~self.mask, self.uncertain)

    def __and__(self, other):
        return Condition(self.mask & other.mask, self._either(other))

    def __or__(self, other):
        return Condition(self.mask | other.mask, self._either(other))

    def __bool__(self):
        raise TypeError("a step's condition is elementwise: branch with reference.where(condition, a, b); a "
                        "condition over the whole batch (torch.all) is not a step's (one sequence's) to take")


def _compare(a, b, holds):
    va, vb = _value(a), _value(b)
    errors = [x.error for x in (a, b) if x.__class__ is Num and x.error is not None]
    uncertain = None
    if errors:
        reach = sum(np.asarray(e, dtype=np.float64) for e in errors)
        near = (np.abs(va - vb) <= reach) & (reach > 0)
        uncertain = near if np.any(near) else None
    return Condition(holds(va, vb), uncertain)


def equal(a, b):
    """Where a == b (xlstm's sLSTM branches on its normalizer state being exactly 0)."""
    return _compare(a, b, np.equal)


def less(a, b):
    """Where a < b."""
    return _compare(a, b, np.less)


def greater(a, b):
    """Where a > b."""
    return _compare(a, b, np.greater)


def where(condition, a, b):
    """a where ``condition`` holds, else b: ``condition`` a ``Condition`` (``equal``, ``less``,
    ``greater``) or a boolean array.  The gradient goes to the branch taken, as ``torch.where``'s;
    where the condition is uncertain (see ``Condition``) the bound is infinite."""
    mask, uncertain = (condition.mask, condition.uncertain) if isinstance(condition, Condition) else (condition, None)
    for x in (a, b):
        if isinstance(x, Num):
            return x.arith.where(mask, a, b, uncertain)
    return np.where(mask, a, b)


def concat(parts, axis=-1):
    for p in parts:
        if isinstance(p, Num):
            return p.arith.concat(parts, axis)
    return np.concatenate(parts, axis=axis)


def stack(parts):
    for p in parts:
        if isinstance(p, Num):
            return p.arith.stack(parts)
    return np.stack(parts)


def constant(value, like):
    """``value`` (an array) as an exact number of ``like``'s arithmetic (plain where ``like`` is a
    plain array): a constant the step computes further with the primitives, so that their
    roundings are charged (RetNet's fixed decay, exp(log1p(-2^(-5-h))) in the implementation)."""
    return like.arith.exact(value) if isinstance(like, Num) else np.asarray(value, dtype=np.float64)


def value_of(x):
    """The value of a Num, or the array itself."""
    return x.value if isinstance(x, Num) else x


def error_of(x):
    """The error bound of a Num (zeros where it is exact)."""
    return _full(x.error, x.value) if isinstance(x, Num) else np.zeros(np.shape(x))
