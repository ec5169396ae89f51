"""One time step of each recurrent variant, written once, like torch's docs.

These functions are the only place the equations live: gate order (LSTM: i, f, g, o;
GRU: r, z, n), the GRU's reset placement, the LSTM's projection.  On float64 arrays they
compute the oracle's values; on ``reference.arithmetic.Num``s the same lines compute error
bounds beside the values, and record what backpropagation needs for the gradients and
their bounds.  To change how a variant computes, edit its function here: values, bounds,
gradients and gradient bounds all follow.

Every cell takes the input projection ``gx = W_ih x + b_ih`` already computed for the
step (the layer computes it for all steps at once), the previous state, and the
hidden-to-hidden weights as an ``Affine`` (``W_hh h + b_hh``).

Each variant is one ``Variant`` record in ``VARIANTS`` (at the end): what the layers and
the suite need to know about it is read from there, never from its name.
"""
from dataclasses import dataclass
from typing import Callable

from .arithmetic import lerp, linear, relu, sigmoid, split, tanh


def rnn_tanh_cell(gx, h, hidden):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh).  gx (B, H), h (B, H) -> (h',)."""
    return (tanh(gx + linear(h, hidden)),)


def rnn_relu_cell(gx, h, hidden):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh).  gx (B, H), h (B, H) -> (h',)."""
    return (relu(gx + linear(h, hidden)),)


def gru_cell(gx, h, hidden):
    """torch.nn.GRU, with the reset gate applied after the hidden matmul:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)
        z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    gx (B, 3H), h (B, H) -> (h',).
    """
    x_rz, x_n = split(gx, 2, 1)
    h_rz, h_n = split(linear(h, hidden), 2, 1)
    r, z = split(sigmoid(x_rz + h_rz), 1, 1)
    n = tanh(x_n + r * h_n)
    return (lerp(n, h, z),)


def lstm_cell(gx, h, c, hidden, projection=None):
    """torch.nn.LSTM:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c'),  then h' = W_hr h' when the layer has a projection

    gx (B, 4H), h (B, P) with P = proj_size or H, c (B, H) -> (h', c').
    """
    i_f, g, o = split(gx + linear(h, hidden), 2, 1, 1)
    i, f = split(sigmoid(i_f), 1, 1)
    g, o = tanh(g), sigmoid(o)
    c_next = f * c + i * g
    h_next = o * tanh(c_next)
    if projection is not None:
        h_next = linear(h_next, projection)
    return h_next, c_next


@dataclass(frozen=True)
class Variant:
    """One recurrent variant, as the oracle runs it.

    name: its mode (torch's ``mode`` string); gates: the gate blocks stacked in ``weight_ih``
    and ``weight_hh`` ((gates * H, I) and (gates * H, P)); states: the names of its state, the
    first the one it outputs (``("h",)``, or ``("h", "c")``: a state is then the tuple and
    ``hx`` the pair (h0, c0)); step: its cell, ``step(gx, *state, hidden[, projection])`` ->
    new state; projection: whether its layer may project h (``weight_hr``, ``proj_size``).
    A state named ``h`` has the output size P (proj_size or H), any other the hidden size H.
    """

    name: str
    gates: int
    states: tuple
    step: Callable
    projection: bool = False

    @property
    def paired(self):
        """Whether its state is a tuple (h, c) rather than h alone."""
        return len(self.states) > 1

    @property
    def initial_state(self):
        """How ``hx`` is written for it: 'h0' or '(h0, c0)'."""
        names = [f"{state}0" for state in self.states]
        return f"({', '.join(names)})" if self.paired else names[0]


#: Every variant the oracle runs, by mode.
VARIANTS = {variant.name: variant for variant in (
    Variant("RNN_TANH", gates=1, states=("h",), step=rnn_tanh_cell),
    Variant("RNN_RELU", gates=1, states=("h",), step=rnn_relu_cell),
    Variant("GRU", gates=3, states=("h",), step=gru_cell),
    Variant("LSTM", gates=4, states=("h", "c"), step=lstm_cell, projection=True),
)}


def variant(mode):
    """The Variant of ``mode``; ValueError naming the modes there are otherwise."""
    if mode not in VARIANTS:
        raise ValueError(f"mode={mode!r}: expected one of {', '.join(VARIANTS)}")
    return VARIANTS[mode]
