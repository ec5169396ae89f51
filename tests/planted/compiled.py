"""Targets that only a transform tells apart: a bug that appears only when compiled, and correct
modules that defeat compilation (so that a compiled row of theirs would test eager code)."""
import torch

from .torch_rnn import TorchLSTM


class LSTMForgetGateSlipsWhenCompiled(TorchLSTM):
    """Correct eagerly; traced by torch.compile (``torch.compiler.is_compiling()``, as a custom
    fused kernel path is chosen) the forget gate reads the input gate's block."""

    def split(self, gates):
        i, f, g, o = gates.chunk(4, dim=1)
        return (i, i, g, o) if torch.compiler.is_compiling() else (i, f, g, o)


class LSTMWithGraphBreak(torch.nn.LSTM):
    """torch's LSTM whose forward calls print (a graph break): compiled, part of it runs eagerly."""

    def forward(self, input, hx=None):
        print(end="")
        return super().forward(input, hx)


class LSTMCompilerDisabled(torch.nn.LSTM):
    """torch's LSTM whose forward is ``torch.compiler.disable``d: compiled, it all runs eagerly."""

    @torch.compiler.disable
    def forward(self, input, hx=None):
        return super().forward(input, hx)


class LSTMSubclass(torch.nn.LSTM):
    """torch's LSTM under a user's name: the built-in known differences are torch's targets'
    only, so torch's bugs fail here."""
