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
"""
from .arithmetic import lerp, linear, relu, sigmoid, split, tanh

#: Number of gate blocks stacked in ``weight_ih``/``weight_hh`` per mode.
GATE_COUNT = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


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


#: The step function of each mode: cell(gx, *state, hidden[, projection]) -> new state.
CELLS = {"RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell, "GRU": gru_cell, "LSTM": lstm_cell}
