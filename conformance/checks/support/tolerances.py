"""How close a target must come to the oracle: precisions per device and dtype, and comparisons.

The oracle bounds the error a correct implementation can make (``reference.arithmetic``);
here we choose the unit roundoffs that bound is computed with, add the oracle's own
float64 roundoff, and measure every comparison as ``error / tolerance``.
"""
import math
from dataclasses import dataclass

import numpy as np
import torch

import reference

from ...reproduce import hooks
from ...reproduce.claims import assert_same_shape, close_ratios, differing, either_ratios, numbers, worst
from ...errors import NotRepresentable


#: Unit roundoff of the TF32 format cuDNN uses for float32 matmuls when allowed.
TF32_ROUNDOFF = 2.0 ** -11
#: The oracle computes in float64; its own errors are covered by adding this precision.
ORACLE_PRECISION = reference.Precision(storage=2.0 ** -53, accumulate=2.0 ** -53)


def unit_roundoff(dtype):
    return torch.finfo(dtype).eps / 2.0


def uses_tf32(device, dtype):
    """True where float32 RNN matmuls may run in TF32 under the flags in force: cuDNN on CUDA
    with its allow_tf32, or torch's own kernels through cuBLAS (cuDNN disabled, the ``native``
    backend, or a configuration cuDNN does not take) with ``cuda.matmul.allow_tf32``."""
    if dtype != torch.float32 or not str(device).startswith("cuda"):
        return False
    cudnn = torch.backends.cudnn.enabled and torch.backends.cudnn.allow_tf32
    return cudnn or torch.backends.cuda.matmul.allow_tf32


def precision_for(device, dtype, activation_error=0.0, scan_error=0.0):
    """The ``reference.Precision`` of a correct implementation on device/dtype, oracle included.
    Half-precision matmuls accumulate in float32; stored results keep the dtype's roundoff;
    ``activation_error`` is what a target declares for its sigmoid/tanh (0 for torch's),
    ``scan_error`` its error per step as a scan, in roundoffs of the dtype (0 for a step loop)."""
    u = unit_roundoff(dtype)
    operand = TF32_ROUNDOFF if uses_tf32(device, dtype) else 0.0
    target = reference.Precision(storage=u, accumulate=min(u, unit_roundoff(torch.float32)),
                                 operand=operand, underflow=absolute_floor(dtype), activation=activation_error,
                                 scan=scan_error * u)
    return target.plus(ORACLE_PRECISION)


def absolute_floor(dtype):
    """Absolute error a correct result may have anywhere: subnormals may be flushed to zero."""
    return torch.finfo(dtype).smallest_normal


@dataclass(frozen=True)
class Comparison:
    """The worst element of one compared quantity.  ``expected`` is the oracle's or torch's
    contract, unless ``sides`` names the two runs of a relation (got's, then the other's):
    then neither is "expected".  ``note`` explains the index (a state's layer and direction)."""

    quantity: str
    ratio: float
    index: tuple
    got: float
    expected: float
    error: float
    tolerance: float
    sides: tuple = None
    note: str = ""
    #: the oracle's value there is exactly 0 with a bound of 0 (at most the underflow floor: a
    #: weight that cannot matter, a masked unit): any value beyond the underflow floor is wrong, whatever its size, and
    #: the ratio is infinite (the report writes none) rather than a size against that floor
    exact_zero: bool = False

    @property
    def passed(self):
        return self.ratio <= 1.0

    def describe(self):
        where = f"{self.quantity}[{', '.join(map(str, self.index))}]" if self.index else self.quantity
        where += f" ({self.note})" if self.note else ""
        if self.exact_zero:
            return (f"{where}: got {self.got:.8g}, expected exactly 0 (no rounding can make it non-zero: the "
                    f"oracle's value and bound there are 0)")
        if self.sides:
            values = f"{self.sides[0]} {self.got:.8g}, {self.sides[1]} {self.expected:.8g}, difference {self.error:.3g}"
            if self.tolerance == 0.0:
                return f"{where}: {values} (tolerance 0: the arithmetic is identical)"
            return f"{where}: {values}, tolerance {self.tolerance:.3g} (difference/tolerance {self.ratio:.3g})"
        if self.tolerance == 0.0:
            return (f"{where}: got {self.got:.8g}, expected exactly {self.expected:.8g}, difference "
                    f"{self.error:.3g} (tolerance 0: the arithmetic is identical)")
        return (f"{where}: got {self.got:.8g}, expected {self.expected:.8g}, error {self.error:.3g}, "
                f"tolerance {self.tolerance:.3g} (error/tolerance {self.ratio:.3g})")


#: Quantities whose first index is torch's ``layer * num_directions + direction``.
STATES = ("h_n", "c_n", "h0", "c0", "grad h0", "grad c0")


def state_note(quantity, index, config):
    """'layer 1, reverse' for an index into a stacked or bidirectional state (h_n, c_n, h0,
    c0 and their gradients), '' otherwise (``config`` may be a case holding one)."""
    config = getattr(config, "config", config)
    directions, layers = getattr(config, "directions", 1), getattr(config, "num_layers", 1)
    if not index or not quantity.startswith(STATES) or (directions == 1 and layers == 1):
        return ""
    layer, direction = divmod(index[0], directions)
    return f"layer {layer}" + ("" if directions == 1 else f", {('forward', 'reverse')[direction]}")


def compare(quantity, got, expected, bound, dtype, config=None, exact=True, sides=None, other=None,
            forward_finite=True):
    """Compares a target's tensor with the oracle's float64 values within ``bound`` plus an
    underflow floor.  Fails on a shape mismatch (``claims.assert_same_shape``) and raises
    NotRepresentable when the exact values overflow ``dtype``.  With ``exact`` False,
    ``expected`` is another run of the target, not the oracle (``sides`` names the two runs):
    the caller has made sure the exact values fit (only the bound is checked here), and a NaN
    or infinite value there fails like one in ``got`` (``other``: that run's tensor, for a
    reproducer)."""
    got_values, expected = numbers(got), np.asarray(expected, dtype=np.float64)
    hooks.checked(config, assert_same_shape, quantity, got_values, expected, None if exact else sides)
    tolerance = np.asarray(bound, dtype=np.float64) + absolute_floor(dtype)
    # gradients only: a forward value whose bound is infinite may be NaN in a correct implementation too
    # (minLSTM's f / (f + i) when both underflow: 0 / 0), which the bound model says by being infinite
    # and only where the target's forward was finite: a forward 0 / 0 that its infinite bound
    # allows makes the gradients through it NaN too, judged alike (``forward_finite``)
    broken = _non_finite_where_finite(got_values, expected, dtype, tolerance) \
        if exact and quantity.startswith("grad") and forward_finite else None
    if broken is not None:
        return broken(quantity, tolerance, config)
    if not representable(expected if exact else 0.0, tolerance, dtype):
        raise NotRepresentable(f"{quantity} overflows {dtype}")
    hooks.compared("close" if exact else "runs", quantity, got, expected if exact else other, tolerance, sides)
    error, ratio = close_ratios(got_values, expected, tolerance)
    zero = np.broadcast_to(exact & (expected == 0.0) & (np.asarray(bound) <= absolute_floor(dtype)), ratio.shape)
    ratio = np.where(zero & (ratio > 1.0), np.inf, ratio)
    if ratio.size == 0:
        return Comparison(quantity, 0.0, (), 0.0, 0.0, 0.0, 0.0)
    index = worst(ratio)
    return Comparison(quantity, float(ratio[index]), index, float(got_values[index]), float(expected[index]),
                      float(error[index]), float(tolerance[index]), sides, state_note(quantity, index, config),
                      bool(zero[index]) and bool(ratio[index] > 1.0) and not np.isnan(got_values[index]))


def _non_finite_where_finite(got, expected, dtype, tolerance):
    """A NaN or inf gradient where the exact one is finite and fits the dtype fails where the
    bound is finite, and in float32 and float64 where it is infinite too (a derivative the bound
    model cannot bound, sqrt's at 0).  Not under a NaN bound: the bound's own arithmetic met an
    unbounded term times 0 there, the 0 / 0 or inf * 0 a correct implementation meets too (the
    worked minLSTM's f / (f + i) and sLSTM's c / n, once production widths saturate their gates:
    their forward passes there under its infinite bound, and the gradient is judged alike).  Not
    in float16 and bfloat16 under an infinite bound either: there the bound is so because
    intermediate values leave the dtype's narrow range, where a correct implementation overflows
    too (torch's float16 LSTM backward, seed 4242).  None where there is none, else a function
    making the failing Comparison of its first element."""
    if got.shape != expected.shape:
        return None
    bound = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), got.shape)
    wide = torch.finfo(dtype).bits >= 32
    broken = (~np.isfinite(got) & np.isfinite(expected) & (np.abs(expected) <= torch.finfo(dtype).max / 4)
              & (np.isfinite(bound) | (wide & ~np.isnan(bound))))
    if not broken.any():
        return None
    index = tuple(int(i) for i in np.argwhere(broken)[0])

    def failing(quantity, tolerance, config):
        return Comparison(quantity, float("inf"), index, float(got[index]), float(expected[index]),
                          float(abs(got[index] - expected[index])), float(np.broadcast_to(tolerance, got.shape)[index]),
                          None, state_note(quantity, index, config))
    return failing


def representable(values, bound, dtype):
    """Whether values known to within ``bound`` stay clear of ``dtype``'s overflow (a quarter
    of its largest value), so that a correct implementation returns them finite."""
    magnitude = np.abs(values) + bound
    return bool(np.all(np.isfinite(magnitude))) and np.max(magnitude, initial=0.0) <= torch.finfo(dtype).max / 4


def compare_exact(quantity, got, expected, dtype, config=None, sides=None):
    """Two runs whose arithmetic is identical must agree bit for bit (NaN where the other
    has NaN counts as agreeing): the tolerance is zero and any difference fails.  ``sides``
    names the two runs of a relation (``expected`` is then not the contract's)."""
    got_values, expected_values = numbers(got), numbers(expected)
    hooks.checked(config, assert_same_shape, quantity, got_values, expected_values,
                  sides or ("this run", "the other run"))
    hooks.compared("identical", quantity, got, expected, None, sides or ("this run", "the other run"))
    differs = differing(got_values, expected_values)
    if not differs.any():
        return Comparison(quantity, 0.0, (), 0.0, 0.0, 0.0, 0.0)
    error = np.where(differs, np.abs(got_values - expected_values), 0.0)
    index = worst(np.where(differs, np.nan_to_num(error, nan=np.inf) + 1.0, 0.0))
    return Comparison(quantity, float("inf"), index, float(got_values[index]), float(expected_values[index]),
                      float(error[index]), 0.0, sides, state_note(quantity, index, config))


def compare_runs(quantity, got, other, bound, dtype, config=None, sides=("this run", "the other run")):
    """Two runs of the same exact function in different arrangements (batch order, splits,
    layouts), named by ``sides``: each is within ``bound`` (plus the underflow floor) of the
    exact value, so they differ by at most twice that."""
    return compare(quantity, got, numbers(other), 2.0 * np.asarray(bound) + absolute_floor(dtype), dtype, config,
                   exact=False, sides=sides, other=other)




def compare_either(quantity, got, candidates, dtype, config=None):
    """Each element must match one of several allowed outcomes (value, bound) pairs, e.g. a
    unit dropped or kept: the ratio of an element is its smallest error / tolerance.  Raises
    NotRepresentable, as ``compare`` does, where an outcome overflows ``dtype`` or its bound
    does (an overflowed bound is NaN or inf: it says nothing, and would fail every element)."""
    got_values = numbers(got)
    outcomes = [np.asarray(expected, dtype=np.float64) for expected, _ in candidates]
    for expected in outcomes:
        hooks.checked(config, assert_same_shape, quantity, got_values, expected)
    tolerances = [np.broadcast_to(np.asarray(bound, dtype=np.float64) + absolute_floor(dtype), got_values.shape)
                  for _, bound in candidates]
    if not all(representable(expected, tolerance, dtype) for expected, tolerance in zip(outcomes, tolerances)):
        raise NotRepresentable(f"{quantity} overflows {dtype}")
    hooks.compared("either", quantity, got, outcomes, [t.copy() for t in tolerances])
    errors, ratios = either_ratios(got_values, outcomes, tolerances)
    nearest = np.argmin(ratios, axis=0)
    pick = lambda stacked: np.take_along_axis(stacked, nearest[None], axis=0)[0]
    ratio, error, tolerance, expected = pick(ratios), pick(errors), pick(np.stack(tolerances)), pick(np.stack(outcomes))
    if ratio.size == 0:
        return Comparison(quantity, 0.0, (), 0.0, 0.0, 0.0, 0.0)
    index = worst(ratio)
    return Comparison(quantity, float(ratio[index]), index, float(got_values[index]),
                      float(expected[index]), float(error[index]), float(tolerance[index]))


def compare_rate(quantity, hits, trials, probability, false_alarm):
    """A count of independent events of the given probability: by Hoeffding's inequality the
    observed fraction strays from it by more than sqrt(ln(2 / false_alarm) / (2 trials)) with
    chance below false_alarm.  That distance is the tolerance."""
    if trials == 0:
        return Comparison(quantity, 0.0, (), 0.0, probability, 0.0, 1.0)
    fraction, allowed = hits / trials, math.sqrt(math.log(2.0 / false_alarm) / (2.0 * trials))
    error = abs(fraction - probability)
    return Comparison(f"{quantity} ({hits} of {trials})", error / allowed, (), fraction, probability, error, allowed)
