"""One time step of each recurrent variant, vectorised over the batch, written like torch's docs.

Every cell takes the input projection ``gx = W_ih x + b_ih`` already computed for the
step (the layer computes it for all steps at once), the previous state, and the
hidden-to-hidden weights in torch's layout.  Gate order (LSTM: i, f, g, o; GRU: r, z, n)
and the GRU reset placement are written here and nowhere else.
"""
import numpy as np

#: Number of gate blocks stacked in ``weight_ih``/``weight_hh`` per mode.
GATE_COUNT = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def sigmoid(a):
    """Logistic function 1 / (1 + exp(-a)): accurate to a few ulps relative everywhere,
    also where it is tiny (a << 0); exp overflows to inf only where the result is below
    1e-308 and rounds to 0 (callers run under ``np.errstate(over="ignore")``)."""
    return 1.0 / (1.0 + np.exp(-a))


def relu(a):
    return np.maximum(a, 0.0)


def hidden_projection(h, w_hh, b_hh):
    """``W_hh h + b_hh`` for a batch: h (B, H_in), w_hh (G*H, H_in), b_hh (G*H,) or None."""
    gh = h @ w_hh.T
    if b_hh is not None:
        gh += b_hh
    return gh


def _blocks(stacked, count):
    size = stacked.shape[-1] // count
    return [stacked[..., k * size:(k + 1) * size] for k in range(count)]


def lstm_gates(gates):
    """Split stacked LSTM pre-activations (B, 4H) into torch's order: i, f, g, o."""
    return _blocks(gates, 4)


def gru_gates(stacked):
    """Split stacked GRU projections (B, 3H) into torch's order: r, z, n."""
    return _blocks(stacked, 3)


def rnn_tanh_cell(gx, h, w_hh, b_hh):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh).  gx (B, H), h (B, H) -> (h',)."""
    return (np.tanh(gx + hidden_projection(h, w_hh, b_hh)),)


def rnn_relu_cell(gx, h, w_hh, b_hh):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh).  gx (B, H), h (B, H) -> (h',)."""
    return (relu(gx + hidden_projection(h, w_hh, b_hh)),)


def gru_cell(gx, h, w_hh, b_hh):
    """torch.nn.GRU, with the reset gate applied after the hidden matmul:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)
        z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    gx (B, 3H), h (B, H) -> (h',).
    """
    gh = hidden_projection(h, w_hh, b_hh)
    size = h.shape[-1]
    r, z = _blocks(sigmoid(gx[..., :2 * size] + gh[..., :2 * size]), 2)  # one sigmoid call for r and z
    x_n, h_n = gru_gates(gx)[2], gru_gates(gh)[2]
    n = np.tanh(x_n + r * h_n)
    return ((1.0 - z) * n + z * h,)


def lstm_cell(gx, h, c, w_hh, b_hh, w_hr=None):
    """torch.nn.LSTM:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c'),  then h' = W_hr h' when the layer has a projection

    gx (B, 4H), h (B, P) with P = proj_size or H, c (B, H) -> (h', c').
    """
    gates = gx + hidden_projection(h, w_hh, b_hh)
    i, f, _, o = lstm_gates(sigmoid(gates))  # one sigmoid call for the three sigmoid gates
    g = np.tanh(lstm_gates(gates)[2])
    c_next = f * c + i * g
    h_next = o * np.tanh(c_next)
    if w_hr is not None:
        h_next = h_next @ w_hr.T
    return h_next, c_next
