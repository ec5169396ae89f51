"""Targets that misbehave in ways that are not numerical: the suite must name each clearly."""
import time

import torch

from .torch_rnn import TorchGRU, TorchLSTM


class HangingGRU(TorchGRU):
    """forward never returns in reasonable time."""

    def forward(self, input, hx=None):
        time.sleep(3600)


class CrashingLSTM(TorchLSTM):
    """forward raises for any input."""

    def forward(self, input, hx=None):
        raise IndexError("planted crash in forward")


class LSTMWithoutPacking(TorchLSTM):
    """Declares that it does not take PackedSequence input, and refuses projections."""

    rnn_conformance_unsupported = ("packed",)

    def __init__(self, *args, proj_size=0, **kwargs):
        if proj_size:
            raise NotImplementedError("projections are not implemented")
        super().__init__(*args, **kwargs)


NOT_A_CLASS = 42


class RenamedGRU(torch.nn.Module):
    """A correct GRU whose parameters live under other names, loaded through the mapping hook."""

    inner = TorchGRU

    def __init__(self, input_size, hidden_size, **options):
        super().__init__()
        self.core = self.inner(input_size, hidden_size, **options)

    def load_torch_state_dict(self, state_dict):
        self.core.load_state_dict(state_dict)

    def forward(self, input, hx=None):
        return self.core(input, hx)


class GRUWithoutDropout(TorchGRU):
    """A correct GRU whose constructor has no dropout argument (like many fused kernels)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, 0.0, bidirectional)


class ThirdPartyLSTM(RenamedGRU):
    """Like a real third-party LSTM: its own parameter names (loaded through the mapping hook),
    no PackedSequence input.  Correct otherwise."""

    inner = TorchLSTM

    def forward(self, input, hx=None):
        if isinstance(input, torch.nn.utils.rnn.PackedSequence):
            raise TypeError("ThirdPartyLSTM takes padded tensors only")
        return super().forward(input, hx)


class PrintingGRU(TorchGRU):
    """Correct, and prints at every call, as a module that dumps its graphs does."""

    def forward(self, *args):
        print("PrintingGRU: a line of the target's own output")
        return super().forward(*args)


class NeedsOwnArguments(torch.nn.Module):
    """A GRU whose constructor takes arguments of its own (a keyword-only ``layers``): the suite
    cannot build it torch's way, and must say how to adapt it (a factory)."""

    def __init__(self, n_in, n_hidden, *, layers):
        super().__init__()
        self.gru = torch.nn.GRU(n_in, n_hidden, layers)

    def forward(self, input, hx=None):
        return self.gru(input, hx)
