"""What ``torch.nn.RNNCell``, ``GRUCell`` and ``LSTMCell`` must compute: one step, with torch's
contract, forward and backward, values and error bounds.

A cell is one step of a one-layer sequence with the same weights, so these run the layers'
time loop (``reference.layers``) over a single step: the equations are those of
``reference.cells``, nothing is written again.
"""
import numpy as np

from . import layers
from . import names
from .cells import variant
from .names import layer_as_cell

MODES = layers.MODES


def cell(x, weights, mode="LSTM", hx=None):
    """What a torch cell returns for ``cell(x, hx)``, in float64.

    x: (B, I), or (I,) unbatched.
    weights: keyed like the cell's ``state_dict()``: ``weight_ih`` (G*H, I), ``weight_hh``
        (G*H, H), and ``bias_ih``, ``bias_hh`` (G*H,) unless the cell has no bias; G is 1
        (RNN_TANH, RNN_RELU), 3 (GRU) or 4 (LSTM).
    hx: h (B, H) or (H,); for LSTM the pair (h, c).  None means zeros.
    Returns h', or (h', c') for LSTM, shaped like hx.
    """
    x_seq, w, mode, h = _as_sequence(x, weights, mode, hx)
    _, finals = layers.rnn(x_seq, w, mode=mode, hx=h)
    return _step_state(finals if variant(mode).paired else (finals,), mode)


def cell_with_bound(x, weights, precision, mode="LSTM", hx=None):
    """``cell(...)`` and, in the same structure, a per-element bound on the error of an
    implementation computing in ``precision``.  Returns (result, bound)."""
    x_seq, w, mode, h = _as_sequence(x, weights, mode, hx)
    (_, finals), (_, bounds) = layers.rnn_with_bound(x_seq, w, precision, mode=mode, hx=h)
    if not variant(mode).paired:
        finals, bounds = (finals,), (bounds,)
    return _step_state(finals, mode), _step_state(bounds, mode)


def cell_backward(x, weights, mode="LSTM", hx=None, grad_h=None, grad_c=None):
    """Gradients of ``sum(grad_h * h') + sum(grad_c * c')`` for ``cell`` called with the same
    arguments.  Returns a dict: ``"input"`` (like x), ``"hx"`` (like h), ``"cx"`` for LSTM, and
    one entry per weight, keyed like ``weights``."""
    return _cell_gradients(layers.rnn_backward(**_backward_args(x, weights, mode, hx, grad_h, grad_c)), mode)


def cell_backward_with_bound(x, weights, precision, mode="LSTM", hx=None, grad_h=None, grad_c=None):
    """``cell_backward(...)`` and, keyed the same way, a per-element bound on the error of an
    implementation computing the gradients in ``precision``.  Returns (gradients, bounds)."""
    grads, bounds = layers.rnn_backward_with_bound(precision=precision,
                                                   **_backward_args(x, weights, mode, hx, grad_h, grad_c))
    return _cell_gradients(grads, mode), _cell_gradients(bounds, mode)


def _as_sequence(x, weights, mode, hx):
    """(x, weights, mode, hx) of ``layers.rnn`` for the one-step, one-layer sequence of this
    cell call."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"x has {x.ndim} dimensions: a cell takes (B, I) or (I,)")
    paired = variant(mode).paired
    if hx is not None:
        parts = tuple(hx) if paired else (hx,)
        for part in parts:
            if np.ndim(part) != x.ndim:
                raise ValueError(f"hx has {np.ndim(part)} dimensions and x {x.ndim}: a cell takes both "
                                 "batched or both unbatched")
        hx = tuple(np.asarray(p, dtype=np.float64)[None] for p in parts) if paired \
            else np.asarray(hx, dtype=np.float64)[None]
    kinds = tuple(kind for kind in variant(mode).kinds if kind != "weight_hr")
    return x[None], names.cell_as_layer(weights, kinds), mode, hx


def _step_state(finals, mode):
    """h' (and c') from a one-step sequence's final states, each (1, B, H) or (1, H)."""
    return tuple(f[0] for f in finals) if variant(mode).paired else finals[0][0]


def _backward_args(x, weights, mode, hx, grad_h, grad_c):
    x_seq, w, mode, h = _as_sequence(x, weights, mode, hx)
    lift = lambda g: None if g is None else np.asarray(g, dtype=np.float64)[None]
    return dict(x=x_seq, weights=w, mode=mode, hx=h, grad_h_n=lift(grad_h),
                grad_c_n=lift(grad_c) if variant(mode).paired else None)


def _cell_gradients(grads, mode):
    """A one-step sequence's gradients under the cell's names."""
    states = [f"{state}0" for state in variant(mode).states]
    out = {"input": grads["input"][0]}
    out.update({f"{name[0]}x": grads[name][0] for name in states})  # torch's cells call them hx, cx
    out.update(layer_as_cell({k: v for k, v in grads.items() if k != "input" and k not in states}))
    return out
