"""Targets that misbehave in ways that are not numerical: the suite must name each clearly."""
import time

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
