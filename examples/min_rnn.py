"""minGRU and minLSTM layers with torch.nn.GRU's contract, each in two forms that compute the
same numbers in real arithmetic:

* ``MinGRU``/``MinLSTM``: the step loop;
* ``MinGRUScan``/``MinLSTMScan``: the log-space parallel scan (Heinsen 2023) that makes these
  recurrences fast: log h_t = a*_t + logcumsumexp_{k <= t}(log b_k - a*_k), a*_t the cumulative
  sum of log a_k, for h_t = a_t h_{t-1} + b_t, with log h_0 as the first term.  It needs h_0 > 0
  (it takes log h_0; 0 is -inf, which it takes as no term, and which a state that underflows
  becomes): its variant declares h positive, and its layer refuses a negative h_0.  It
  is less accurate than the loop by nature (the cumulative sums cancel, more with every step), so
  it declares a scan error per step (``rnn_conformance_scan_error``, in roundoffs).

The equations: ``examples/min_rnn_variant.py``.  softplus is written ``logaddexp(0, x)``:
``F.softplus`` turns linear above 20, off by up to 2e-9 there.

    rnn-conformance --impl examples.min_rnn:MinGRUScan --dtypes float64,float32
"""
import torch
import torch.nn.functional as F

from examples.recurrent import Recurrent, last_of_each, reverse_each


def softplus(x):
    return torch.logaddexp(torch.zeros_like(x), x)


def g(v):
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v):
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -softplus(-v))


class MinGRU(Recurrent):
    """h' = (1 - z) h + z g(v): the step loop."""

    rnn_conformance_variant = "examples.min_rnn_variant:MINGRU"
    gates = 2

    def shapes(self, in_size):
        return {"weight_ih": (self.gates * self.hidden_size, in_size), "bias_ih": (self.gates * self.hidden_size,)}

    def step(self, x, state, p, side):
        k, v = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(2, -1)
        z = torch.sigmoid(k)
        return ((1 - z) * state[0] + z * g(v),)

    # the scan's coefficients: log a_t and log b_t of h_t = a_t h_{t-1} + b_t
    def log_coefficients(self, gx):
        k, v = gx.chunk(2, -1)
        return -softplus(k), -softplus(-k) + log_g(v)


class MinLSTM(MinGRU):
    """h' = f / (f + i) h + i / (f + i) g(v): the step loop."""

    rnn_conformance_variant = "examples.min_rnn_variant:MINLSTM"
    gates = 3

    def step(self, x, state, p, side):
        k_f, k_i, v = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return (f / (f + i) * state[0] + i / (f + i) * g(v),)

    def log_coefficients(self, gx):
        k_f, k_i, v = gx.chunk(3, -1)
        log_f, log_i = -softplus(-k_f), -softplus(-k_i)
        total = torch.logaddexp(log_f, log_i)
        return log_f - total, log_i - total + log_g(v)


class _Scan:
    """The log-space parallel scan of a minGRU or minLSTM layer (mixed in before the layer)."""

    rnn_conformance_scan_error = 4.0

    def _initial_state(self, hx, x, batched):
        state = super()._initial_state(hx, x, batched)
        if not bool((state[0] >= 0).all()):  # 0 is log h_0 = -inf, which logcumsumexp takes as nothing
            raise ValueError(f"{type(self).__name__}: the log-space scan needs h0 >= 0 (it takes log h0)")
        return state

    def run_direction(self, x, state, p, side, lengths, reverse):
        if reverse:
            x = reverse_each(x, lengths)
        log_a, log_b = self.log_coefficients(F.linear(x, p("weight_ih"), p("bias_ih")))
        a_star = torch.cumsum(log_a, dim=0)
        terms = torch.cat([torch.log(state[0]).unsqueeze(0), log_b - a_star], dim=0)
        h = torch.exp(a_star + torch.logcumsumexp(terms, dim=0)[1:])
        final = last_of_each(h, lengths)
        if lengths is not None:
            live = (torch.arange(x.size(0)).unsqueeze(1) < lengths.unsqueeze(0)).to(x.device).unsqueeze(-1)
            h = torch.where(live, h, torch.zeros_like(h))
        return (reverse_each(h, lengths) if reverse else h), (final,)


class MinGRUScan(_Scan, MinGRU):
    """minGRU by the log-space parallel scan; h positive."""

    rnn_conformance_variant = "examples.min_rnn_variant:MINGRU_LOG"


class MinLSTMScan(_Scan, MinLSTM):
    """minLSTM by the log-space parallel scan; h positive."""

    rnn_conformance_variant = "examples.min_rnn_variant:MINLSTM_LOG"
