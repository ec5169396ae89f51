"""The configuration of one example: a small frozen dataclass printed compactly everywhere."""
from dataclasses import dataclass, replace
from typing import Optional, Tuple

#: The kinds of recurrent layer a target can be, and the reference modes each covers.
LAYER_KINDS = {"rnn": ("RNN_TANH", "RNN_RELU"), "gru": ("GRU",), "lstm": ("LSTM",)}
#: The kinds of single-step cell (torch.nn.RNNCell, GRUCell, LSTMCell).
CELL_KINDS = {"rnn_cell": ("RNN_TANH", "RNN_RELU"), "gru_cell": ("GRU",), "lstm_cell": ("LSTM",)}
#: Every kind a target can be.
KIND_MODES = {**LAYER_KINDS, **CELL_KINDS}
#: The dtypes the suite checks, by torch's name (``tolerances.DTYPES`` maps them to torch dtypes).
DTYPE_NAMES = ("float64", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class RNNConfig:
    """Module options, input layout and data seed of one example.

    batch is None for unbatched input; lengths (one per sequence) selects packed input;
    weight_scale multiplies torch's default init bound 1/sqrt(hidden_size); dropout is the
    constructor's dropout probability (between layers, training mode only).
    """

    mode: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    bias: bool = True
    batch_first: bool = False
    proj_size: int = 0
    steps: int = 1
    batch: Optional[int] = 1
    with_hx: bool = False
    lengths: Optional[Tuple[int, ...]] = None
    contiguous: bool = True
    weight_scale: float = 1.0
    seed: int = 0
    dropout: float = 0.0

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    @property
    def out_size(self):
        return self.proj_size or self.hidden_size

    def with_(self, **changes):
        return replace(self, **changes)

    def __str__(self):
        flags = [f"I={self.input_size}", f"H={self.hidden_size}"]
        flags += [f"P={self.proj_size}"] if self.proj_size else []
        flags += [f"L={self.num_layers}"] + (["bi"] if self.bidirectional else [])
        flags += ([] if self.bias else ["no-bias"]) + (["batch_first"] if self.batch_first else [])
        flags += [f"dropout={self.dropout:g}"] if self.dropout else []
        data = [f"T={self.steps}", "unbatched" if self.batch is None else f"B={self.batch}"]
        data += (["hx"] if self.with_hx else []) + ([] if self.contiguous else ["non-contiguous"])
        data += [f"lengths={list(self.lengths)}"] if self.lengths is not None else []
        data += [f"scale={self.weight_scale:g}", f"seed={self.seed}"]
        return f"{self.mode}({','.join(flags)}) {' '.join(data)}"
