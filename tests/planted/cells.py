"""Planted bugs in single-step cells: each subclasses torch's cell (so its kind is inferred and
its parameters carry torch's names) and computes the step in plain torch ops with one bug."""
import torch
from torch import nn


def _unbatched_aware(step):
    """forward(input, hx=None) with torch's cell contract around ``step(module, x, state)``,
    x (B, I) and state a tuple of (B, H) tensors; returns h' or (h', c')."""
    def forward(self, input, hx=None):
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        count = 2 if isinstance(self, nn.LSTMCell) else 1
        if hx is None:
            state = tuple(x.new_zeros(x.shape[0], self.hidden_size) for _ in range(count))
        else:
            state = tuple(hx) if count == 2 else (hx,)
            state = state if batched else tuple(s.unsqueeze(0) for s in state)
        new = step(self, x, state)
        new = new if batched else tuple(n.squeeze(0) for n in new)
        return new if count == 2 else new[0]
    return forward


def _gates(module, x, h):
    gates = x @ module.weight_ih.T + h @ module.weight_hh.T
    if module.bias:
        gates = gates + module.bias_ih + module.bias_hh
    return gates


def _lstm(module, x, state, order=(0, 1, 2, 3), detach_c=False):
    h, c = state
    i, f, g, o = (_gates(module, x, h).chunk(4, dim=-1)[k] for k in order)
    c = c.detach() if detach_c else c
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_next), c_next


class LSTMCellInputForgetSwapped(nn.LSTMCell):
    """Reads the forget gate's block as the input gate's and the other way round."""

    forward = _unbatched_aware(lambda self, x, state: _lstm(self, x, state, order=(1, 0, 2, 3)))


class LSTMCellNoGradientToCx(nn.LSTMCell):
    """Detaches the incoming cell state: the same values, no gradient to cx."""

    forward = _unbatched_aware(lambda self, x, state: _lstm(self, x, state, detach_c=True))


def _gru(self, x, state, reset_before=False, ignore_hx=False):
    (h,) = state
    h = torch.zeros_like(h) if ignore_hx else h
    x_r, x_z, x_n = (x @ self.weight_ih.T + (self.bias_ih if self.bias else 0)).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ self.weight_hh.T + (self.bias_hh if self.bias else 0)).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    if reset_before:
        w_hn = self.weight_hh[2 * self.hidden_size:]
        h_n = (r * h) @ w_hn.T + (self.bias_hh[2 * self.hidden_size:] if self.bias else 0)
        n = torch.tanh(x_n + h_n)
    else:
        n = torch.tanh(x_n + r * h_n)
    return ((1 - z) * n + z * h,)


class GRUCellResetBeforeMatmul(nn.GRUCell):
    """Applies the reset gate before the hidden matmul (the original GRU paper, not torch)."""

    forward = _unbatched_aware(lambda self, x, state: _gru(self, x, state, reset_before=True))


class GRUCellIgnoresHx(nn.GRUCell):
    """Starts every step from zeros, whatever hx says."""

    forward = _unbatched_aware(lambda self, x, state: _gru(self, x, state, ignore_hx=True))


class RNNCellUnbatchedKeepsBatchAxis(nn.RNNCell):
    """For unbatched input returns h' of shape (1, H) instead of (H,)."""

    def forward(self, input, hx=None):
        out = super().forward(input, hx)
        return out.unsqueeze(0) if input.dim() == 1 else out


class RNNCellAlwaysTanh(nn.RNNCell):
    """Ignores nonlinearity='relu'."""

    def forward(self, input, hx=None):
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx if batched else hx.unsqueeze(0))
        out = torch.tanh(_gates(self, x, h))
        return out if batched else out.squeeze(0)


class LSTMCellRemembersStateWhenHxNone(nn.LSTMCell):
    """hx=None continues from the state of the previous call instead of zeros."""

    def forward(self, input, hx=None):
        if hx is None and getattr(self, "_last", None) is not None and self._last[0].shape[:-1] == input.shape[:-1]:
            hx = self._last
        out = super().forward(input, hx)
        self._last = tuple(o.detach() for o in out)
        return out


class GRUCellTruncatesWideInput(nn.GRUCell):
    """Silently drops input features past input_size instead of refusing a wrong input size."""

    def forward(self, input, hx=None):
        return super().forward(input[..., :self.input_size], hx)


class RNNCellFrozenHiddenBias(nn.RNNCell):
    """bias_hh is not trainable (requires_grad=False)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.bias:
            self.bias_hh.requires_grad_(False)


class GRUCellBatchMeanLeaks(nn.GRUCell):
    """Mixes a little of the batch's mean state into every row (a fused kernel reading across
    rows): each row depends on its neighbours."""

    forward = _unbatched_aware(lambda self, x, state: _gru(self, x, (0.9 * state[0] + 0.1 * state[0].mean(0),)))


class LSTMCellHxRowsShifted(nn.LSTMCell):
    """In batches of three or more, each row reads the previous row's h (a wrong offset in a
    batched kernel path); batches of one and two are right."""

    forward = _unbatched_aware(lambda self, x, state: _lstm(
        self, x, (state[0].roll(1, 0) if x.shape[0] >= 3 else state[0], state[1])))


class GRUCellDropsBatchAxisOfHx(nn.GRUCell):
    """Squeezes hx's batch axis whenever it has one row, as if the call were unbatched: a
    batched call with a batch of one returns h' of shape (H,) instead of (1, H)."""

    def forward(self, input, hx=None):
        if hx is not None and hx.dim() == 2 and hx.shape[0] == 1:
            return super().forward(input.squeeze(0), hx.squeeze(0))
        return super().forward(input, hx)


class CustomNamedGRUCell(nn.Module):
    """A correct GRU cell with parameters of its own names (``w_x``, ``w_h``, ``b_x``, ``b_h``)
    and torch's constructor and call contract; ``load_torch_state_dict`` maps torch's names."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.w_x = nn.Parameter(torch.zeros(3 * hidden_size, input_size))
        self.w_h = nn.Parameter(torch.zeros(3 * hidden_size, hidden_size))
        self.b_x = nn.Parameter(torch.zeros(3 * hidden_size)) if bias else None
        self.b_h = nn.Parameter(torch.zeros(3 * hidden_size)) if bias else None

    weight_ih = property(lambda self: self.w_x)
    weight_hh = property(lambda self: self.w_h)
    bias_ih = property(lambda self: self.b_x)
    bias_hh = property(lambda self: self.b_h)

    def load_torch_state_dict(self, tensors):
        self.load_state_dict({OWN_NAMES[key]: value for key, value in tensors.items()}, strict=True)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"input of shape {tuple(input.shape)} for input_size {self.input_size}")
        if hx is not None and (hx.dim() != input.dim() or hx.shape[-1] != self.hidden_size):
            raise ValueError(f"hx of shape {tuple(hx.shape)} for input {tuple(input.shape)}")
        return _unbatched_aware(_gru)(self, input, hx)


#: torch's cell names -> CustomNamedGRUCell's.
OWN_NAMES = {"weight_ih": "w_x", "weight_hh": "w_h", "bias_ih": "b_x", "bias_hh": "b_h"}


class MappedCustomNamedGRUCell(CustomNamedGRUCell):
    """The same cell with the mapping hook instead of the copying one: its weight gradients are
    compared under torch's names."""

    load_torch_state_dict = None

    def rnn_conformance_from_torch(self, tensors):
        return {OWN_NAMES[key]: value for key, value in tensors.items()}


class MappedGRUCellHiddenWeightGradientDoubled(MappedCustomNamedGRUCell):
    """w_h enters as 2 w_h - w_h (exact forward), so its gradient is doubled."""

    weight_hh = property(lambda self: 2.0 * self.w_h - self.w_h.detach())


#: (bug, the check that must reject it)
PLANTED = [
    (LSTMCellInputForgetSwapped, "cell_matches_oracle"),
    (LSTMCellNoGradientToCx, "cell_gradients_match_oracle"),
    (GRUCellResetBeforeMatmul, "cell_matches_oracle"),
    (GRUCellIgnoresHx, "cell_matches_oracle"),
    (RNNCellUnbatchedKeepsBatchAxis, "cell_matches_oracle"),
    (RNNCellAlwaysTanh, "cell_matches_oracle"),
    (LSTMCellRemembersStateWhenHxNone, "cell_hx_none_equals_zeros"),
    (GRUCellTruncatesWideInput, "cell_invalid_input_rejected"),
    (RNNCellFrozenHiddenBias, "cell_parameters_named_like_torch"),
    (GRUCellBatchMeanLeaks, "cell_batch_split_matches_whole"),
    (LSTMCellHxRowsShifted, "cell_batch_permutation_permutes_results"),
    (GRUCellDropsBatchAxisOfHx, "cell_unbatched_equals_batch_of_one"),
]
