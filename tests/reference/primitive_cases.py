"""The cases of ``tests/reference/test_reference_primitives.py``, shared with
``benchmarks/primitive_truths.py`` (which prints the largest errors they find as a table)."""
import math

import numpy as np

import reference
from reference.arithmetic import Arithmetic, Num

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126)

#: name -> (function on primitives, arguments, the value computed by hand)
HAND_CASES = {
    "exp": (reference.exp, ([0.0, 1.0, -2.0],), [1.0, math.e, 1.0 / math.e ** 2]),
    "log": (reference.log, ([1.0, math.e, 0.25],), [0.0, 1.0, -2.0 * math.log(2.0)]),
    "sqrt": (reference.sqrt, ([4.0, 0.0, 2.25],), [2.0, 0.0, 1.5]),
    "softplus": (reference.softplus, ([0.0, -1.0],), [math.log(2.0), math.log(1.0 + 1.0 / math.e)]),
    "logsigmoid": (reference.logsigmoid, ([0.0, 1.0],), [-math.log(2.0), -math.log(1.0 + 1.0 / math.e)]),
    "divide": (reference.divide, ([6.0, -1.0], [3.0, 4.0]), [2.0, -0.25]),
    "abs": (reference.absolute, ([-3.0, 0.0, 2.5],), [3.0, 0.0, 2.5]),
    "maximum": (reference.maximum, ([1.0, 5.0], [2.0, -5.0]), [2.0, 5.0]),
    "minimum": (reference.minimum, ([1.0, 5.0], [2.0, -5.0]), [1.0, -5.0]),
    "power by a scalar": (lambda a: reference.power(a, 3.0), ([2.0, 0.5],), [8.0, 0.125]),
    "power by a tensor": (reference.power, ([4.0, 0.25], [0.5, 2.0]), [2.0, 0.0625]),
    "sum over an axis": (lambda a: reference.sum_over(a, 0), ([[1.0, 2.0], [3.0, 4.0]],), [4.0, 6.0]),
    "pairwise": (lambda h, p: reference.sum_over(reference.pairwise(h) * p, -2),
                 ([[1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]]), [[7.0, 10.0]]),
    "where on a comparison": (lambda a, b: reference.where(reference.less(a, b), a * b, a - b),
                              ([1.0, 3.0, 2.0], [2.0, 1.0, 2.0]), [2.0, 2.0, 0.0]),
    "where a state is 0": (lambda n, i: reference.where(reference.equal(n, 0.0), i, i + n),
                           ([0.0, 0.5], [3.0, 3.0]), [3.0, 3.5]),
}

_positive = lambda rng, shape: rng.uniform(0.2, 3.0, shape)
_any = lambda rng, shape: rng.standard_normal(shape) + 0.1
_away = lambda rng, shape: np.sign(rng.standard_normal(shape)) * rng.uniform(0.5, 2.0, shape)

#: name -> (input makers, function on primitives) for finite differences
VJP_CASES = {
    "exp": ([_any], reference.exp),
    "log": ([_positive], reference.log),
    "sqrt": ([_positive], reference.sqrt),
    "softplus": ([_any], reference.softplus),
    "logsigmoid": ([_any], reference.logsigmoid),
    "divide": ([_any, _away], lambda a, b: a / b),
    "divide by a broadcast (B, 1)": ([_any, _away], lambda a, b: a / b[..., :1]),
    "abs": ([_away], abs),
    "maximum": ([_any, _any], reference.maximum),
    "minimum": ([_any, _any], reference.minimum),
    "power by a scalar": ([_positive], lambda a: a ** 2.5),
    "power by a tensor": ([_positive, _any], lambda a, p: a ** p),
    "sum over an axis": ([_any], lambda a: reference.sum_over(a, -1)[..., None] * a),
    "pairwise, summed": ([_any, _any], lambda h, p: reference.sum_over(reference.pairwise(h) * p[0], -2)),
    "a stabilized exponential": ([_any, _any], lambda i, f: reference.exp(i - reference.maximum(i, f))),
    "where on a comparison": ([_any, _any], lambda a, b: reference.where(reference.less(a, b), a * b,
                                                                        reference.exp(a))),
}


def finite_difference_error(name, step=1e-6):
    """The largest absolute difference between the primitive's vector-Jacobian product and
    central finite differences of its value path, over its inputs."""
    makers, fn = VJP_CASES[name]
    rng = np.random.default_rng(1)
    inputs = [make(rng, (3, 3)) for make in makers]
    recording = Arithmetic().recording()
    leaves = [recording.adopt(x) for x in inputs]
    out = fn(*leaves)
    upstream = rng.standard_normal(out.shape)
    grads = recording.tape.backward(Arithmetic(), [out], [upstream], leaves)
    worst = 0.0
    for k, x in enumerate(inputs):
        numeric = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            shifted = [v.copy() for v in inputs]
            shifted[k][index] += step
            up = np.sum(upstream * fn(*shifted))
            shifted[k][index] -= 2 * step
            numeric[index] = (up - np.sum(upstream * fn(*shifted))) / (2 * step)
        got = np.zeros_like(x) if grads[k] is None else np.broadcast_to(grads[k], x.shape)
        worst = max(worst, float(np.max(np.abs(got - numeric))))
    return worst


#: name -> (input makers, function on primitives, the same computed by numpy in float32)
BOUND_CASES = {
    "exp": ([_any], reference.exp, np.exp),
    "log": ([_positive], reference.log, np.log),
    "sqrt": ([_positive], reference.sqrt, np.sqrt),
    "softplus": ([_any], reference.softplus, lambda a: np.logaddexp(np.float32(0), a)),
    "logsigmoid": ([_any], reference.logsigmoid, lambda a: -np.logaddexp(np.float32(0), -a)),
    "divide": ([_any, _away], lambda a, b: a / b, lambda a, b: a / b),
    "abs": ([_any], abs, np.abs),
    "maximum": ([_any, _any], reference.maximum, np.maximum),
    "minimum": ([_any, _any], reference.minimum, np.minimum),
    "power by a scalar": ([_positive], lambda a: a ** 2.5, lambda a: a ** np.float32(2.5)),
    "power by a tensor": ([_positive, _any], lambda a, p: a ** p, lambda a, p: a ** p),
    "sum over an axis": ([_any], lambda a: reference.sum_over(a, -1), lambda a: np.sum(a, axis=-1, dtype=np.float32)),
    "sLSTM's stabilized gate": ([_any, _any], lambda i, f: reference.exp(i - reference.maximum(i, f)),
                                lambda i, f: np.exp(i - np.maximum(i, f))),
    "where on a comparison": ([_any, _any], lambda a, b: reference.where(reference.greater(a * b, b), a * b, a - b),
                              lambda a, b: np.where(a * b > b, a * b, a - b)),
}


def float32_cases(name, seed, scale, size=64):
    """(the primitive on Nums carrying the inputs' float32 rounding errors, the same computed
    by numpy in float32 as float64)."""
    makers, on_nums, in_float32 = BOUND_CASES[name]
    rng = np.random.default_rng(seed)
    ar = Arithmetic(FLOAT32)
    nums, rounded = [], []
    for make in makers:
        exact = make(rng, (size, 4)) * (scale if make is _any else 1.0)
        low = exact.astype(np.float32)
        nums.append(Num(exact, np.abs(exact - low.astype(np.float64)), ar))
        rounded.append(low)
    with np.errstate(all="ignore"):
        return on_nums(*nums), in_float32(*rounded).astype(np.float64)
