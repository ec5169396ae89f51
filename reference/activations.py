"""The activations ONNX's recurrent operators accept (``activations``, ``activation_alpha``,
``activation_beta``), written once on the primitives of ``reference.arithmetic``.

Sigmoid, Tanh and Relu are the primitives themselves; Affine, ScaledTanh and HardSigmoid are
written with them (and a clamp); LeakyRelu, ThresholdedRelu, Elu, Softsign and Softplus are
``Monotone`` functions: each is a non-decreasing function with its derivative, so that one
primitive (``arithmetic.monotone``) gives every one its error bound and its vector-Jacobian
product.  ``clamp`` is also the cell clip of ONNX's ``clip`` attribute.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .arithmetic import monotone, relu, sigmoid, sigmoid_value, tanh


def _magnitude(a, value):
    return np.abs(value)


@dataclass(frozen=True)
class Monotone:
    """A non-decreasing function for ``arithmetic.monotone``.

    value: a -> f(a) on float64 arrays; derivative: a -> f'(a), taking at a kink the side
    ONNX's definition takes (``x if x >= 0``: the right side at 0); breaks: where f' jumps or
    turns (it is monotone between them); scale: (a, f(a)) -> the magnitude whose roundings a
    correct evaluation of f may add (default |f(a)|; larger where f is a difference of larger
    terms, as ``alpha * (exp(a) - 1)`` near 0).
    """

    name: str
    value: Callable
    derivative: Callable
    breaks: tuple = ()
    scale: Callable = _magnitude


def clamp(low, high):
    """min(max(a, low), high); its derivative is 1 on [low, high], as torch.clamp's."""
    return Monotone(f"clamp({low:g}, {high:g})", lambda a: np.clip(a, low, high),
                    lambda a: ((a >= low) & (a <= high)).astype(np.float64), breaks=(low, high))


def _leaky_relu(alpha):
    return Monotone("LeakyRelu", lambda a: np.where(a >= 0.0, a, alpha * a),
                    lambda a: np.where(a >= 0.0, 1.0, alpha), breaks=(0.0,))


def _thresholded_relu(alpha):
    return Monotone("ThresholdedRelu", lambda a: np.where(a > alpha, a, 0.0),
                    lambda a: (a > alpha).astype(np.float64), breaks=(alpha,))


def _elu(alpha):
    return Monotone("Elu", lambda a: np.where(a >= 0.0, a, alpha * np.expm1(np.minimum(a, 0.0))),
                    lambda a: np.where(a >= 0.0, 1.0, alpha * np.exp(np.minimum(a, 0.0))), breaks=(0.0,),
                    scale=lambda a, v: np.abs(v) + np.where(a < 0.0, alpha, 0.0))


SOFTSIGN = Monotone("Softsign", lambda a: a / (1.0 + np.abs(a)), lambda a: 1.0 / (1.0 + np.abs(a)) ** 2,
                    breaks=(0.0,))
SOFTPLUS = Monotone("Softplus", lambda a: np.logaddexp(0.0, a), sigmoid_value,
                    scale=lambda a, v: np.abs(v) + 1.0)
LOGSIGMOID = Monotone("LogSigmoid", lambda a: -np.logaddexp(0.0, -a), lambda a: sigmoid_value(-a),
                      scale=lambda a, v: np.abs(v) + 1.0)
UNIT_CLAMP = clamp(0.0, 1.0)


def softplus(a):
    """log(1 + exp(a)), exactly (torch's ``F.softplus`` turns linear above its threshold, 20:
    off by up to 2e-9 there, which float64 sees)."""
    return monotone(a, SOFTPLUS)


def logsigmoid(a):
    """log(sigmoid(a)) = -softplus(-a)."""
    return monotone(a, LOGSIGMOID)


@dataclass(frozen=True)
class Activation:
    """One entry of ONNX's ``activations`` list, with its alpha and beta (None: it takes none)."""

    name: str
    alpha: Optional[float] = None
    beta: Optional[float] = None
    apply: Callable = field(default=None, compare=False, repr=False)

    def __call__(self, a):
        return self.apply(a)

    def __str__(self):
        given = [f"{v:g}" for v in (self.alpha, self.beta) if v is not None]
        return self.name + (f"({', '.join(given)})" if given else "")


#: name -> (default alpha, default beta, (alpha, beta) -> the function on primitives); None: no
#: such argument; ``...``: required (ONNX gives no default).
_ACTIVATIONS = {
    "Sigmoid": (None, None, lambda alpha, beta: sigmoid),
    "Tanh": (None, None, lambda alpha, beta: tanh),
    "Relu": (None, None, lambda alpha, beta: relu),
    "Affine": (..., ..., lambda alpha, beta: lambda a: alpha * a + beta),
    "LeakyRelu": (0.01, None, lambda alpha, beta: lambda a: monotone(a, _leaky_relu(alpha))),
    "ThresholdedRelu": (1.0, None, lambda alpha, beta: lambda a: monotone(a, _thresholded_relu(alpha))),
    "ScaledTanh": (..., ..., lambda alpha, beta: lambda a: alpha * tanh(beta * a)),
    "HardSigmoid": (0.2, 0.5, lambda alpha, beta: lambda a: monotone(alpha * a + beta, UNIT_CLAMP)),
    "Elu": (1.0, None, lambda alpha, beta: lambda a: monotone(a, _elu(alpha))),
    "Softsign": (None, None, lambda alpha, beta: lambda a: monotone(a, SOFTSIGN)),
    "Softplus": (None, None, lambda alpha, beta: lambda a: monotone(a, SOFTPLUS)),
}
#: Every activation name ONNX's RNN, GRU and LSTM accept.
ACTIVATION_NAMES = tuple(_ACTIVATIONS)


def arguments(name):
    """(takes alpha, takes beta) of the ONNX activation ``name``; ValueError for an unknown name."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation {name!r}: expected one of {', '.join(ACTIVATION_NAMES)}")
    return tuple(default is not None for default in _ACTIVATIONS[name][:2])


def activation(name, alpha=None, beta=None):
    """The ONNX activation ``name`` with its alpha/beta (their ONNX defaults where omitted).
    ValueError for an unknown name, a missing required or an unexpected argument, or one that
    makes the function decreasing somewhere (the bounds need it non-decreasing)."""
    arguments(name)
    default_alpha, default_beta, make = _ACTIVATIONS[name]
    resolved = []
    for label, given, default in (("alpha", alpha, default_alpha), ("beta", beta, default_beta)):
        if default is None and given is not None:
            raise ValueError(f"activation {name} takes no {label} (got {given!r})")
        if default is ... and given is None:
            raise ValueError(f"activation {name} needs an {label}: ONNX gives it no default")
        resolved.append(float(given) if given is not None else None if default is None else float(default))
    alpha, beta = resolved
    if name in ("LeakyRelu", "ThresholdedRelu", "Elu", "Affine", "HardSigmoid") and alpha < 0.0 or (
            name == "ScaledTanh" and alpha * beta < 0.0):
        raise ValueError(f"activation {name} with alpha={alpha:g}{'' if beta is None else f', beta={beta:g}'} "
                         "decreases somewhere: the oracle's bounds need non-decreasing activations")
    return Activation(name, alpha, beta, make(alpha, beta))
