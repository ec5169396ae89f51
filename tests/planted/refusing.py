"""Correct layers that refuse some configurations in their constructors, as real third-party
kernels do (sru's adapter refuses ``num_layers > 1``; a fused kernel refuses wide layers).  A
refusal is never a failure: a row is judged on the examples that ran."""
from .torch_rnn import TorchGRU, TorchLSTM


class SingleLayerLSTM(TorchLSTM):
    """Refuses stacking (``num_layers > 1``) and declares it: the seed models, which stack two
    layers, are unsupported, never failed."""

    rnn_conformance_unsupported = ("multi_layer", "dropout")

    def __init__(self, input_size, hidden_size, num_layers=1, **options):
        if num_layers > 1:
            raise NotImplementedError("SingleLayerLSTM stacks no layers: num_layers must be 1")
        super().__init__(input_size, hidden_size, num_layers, **options)


class UndeclaredSingleLayerLSTM(SingleLayerLSTM):
    """The same refusal without the declaration: every draw that stacks is refused."""

    rnn_conformance_unsupported = ()


class NarrowGRU(TorchGRU):
    """Refuses ``hidden_size > 8`` (a kernel's register budget), declares nothing: draws past
    it are refused, the rest judged."""

    def __init__(self, input_size, hidden_size, *args, **options):
        if hidden_size > 8:
            raise ValueError(f"NarrowGRU supports hidden_size up to 8, got {hidden_size}")
        super().__init__(input_size, hidden_size, *args, **options)


class TinyGRU(TorchGRU):
    """Refuses all but the narrowest layers (``hidden_size > 1`` or ``input_size > 2``): most
    draws are refused, and the rows that pass on the few left say their evidence is thin."""

    def __init__(self, input_size, hidden_size, *args, **options):
        if hidden_size > 1 or input_size > 2:
            raise NotImplementedError(f"TinyGRU is 1 unit wide on at most 2 inputs, got {input_size}x{hidden_size}")
        super().__init__(input_size, hidden_size, *args, **options)
