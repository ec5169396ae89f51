"""xlstm's sLSTM cell (``pip install --no-deps xlstm``), its vanilla (pure-torch) backend, behind
torch.nn.LSTM's contract with four states (h, c, n, m), so that the suite checks the library's own
step (``xlstm/blocks/slstm/src/vanilla``): each layer is the library's ``sLSTMCell_vanilla`` with
one head, fed ``W_ih x`` by a plain ``Linear`` of this adapter (the library's block computes its own
input projections, convolution and head-wise linears around the cell: not the recurrence).  One
direction, no packed input, no dropout: declared unsupported.

Its step takes m from i~ alone while every normalizer state of the batch is 0 (``torch.all(n ==
0.0)``): the record branches per element (``reference.where``), which agrees wherever the suite
draws (a zero state, or n > 0 throughout); a batch mixing both is what a record cannot say.

    rnn-conformance --impl examples.libraries.xlstm_slstm:XlstmSLSTM --dtypes float64,float32
"""
import torch
from torch import nn
from xlstm.blocks.slstm.cell import sLSTMCell_vanilla, sLSTMCellConfig

STATES = ("h", "c", "n", "m")


class XlstmSLSTM(nn.Module):
    rnn_conformance_variant = "examples.libraries.variants:SLSTM_XLSTM"
    rnn_conformance_unsupported = ("bidirectional", "packed", "dropout", "no_bias")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout or bidirectional or not bias:
            raise NotImplementedError("this adapter runs xlstm's sLSTM cell in one direction, with biases")
        self.hidden_size, self.batch_first = hidden_size, batch_first
        self.inputs = nn.ModuleList(nn.Linear(input_size if k == 0 else hidden_size, 4 * hidden_size, bias=False)
                                    for k in range(num_layers))
        self.cells = nn.ModuleList(
            sLSTMCell_vanilla(sLSTMCellConfig(hidden_size=hidden_size, num_heads=1, backend="vanilla",
                                              input_shape="SBGNH", output_shape="SBH", dtype="float32"))
            for _ in range(num_layers))
        self.to(device=device, dtype=dtype)

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        for k in range(len(self.cells)):
            own[f"inputs.{k}.weight"] = state_dict[f"weight_ih_l{k}"]
            own[f"cells.{k}._recurrent_kernel_"] = state_dict[f"weight_hh_l{k}"].unsqueeze(0)  # (1 head, 4H, H)
            own[f"cells.{k}._bias_"] = state_dict[f"bias_ih_l{k}"] + state_dict[f"bias_hh_l{k}"]
        return own

    def forward(self, input, hx=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise NotImplementedError("xlstm's sLSTM cell takes no packed input")
        if input.dim() not in (2, 3):
            raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        x = (input.transpose(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        if x.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        count = len(self.cells)
        if hx is not None:
            expected = (count, x.size(1), self.hidden_size) if batched else (count, self.hidden_size)
            if len(hx) != 4 or any(tuple(s.shape) != expected for s in hx):
                raise RuntimeError(f"Expected four states of size {expected}")
            hx = tuple(s if batched else s.unsqueeze(1) for s in hx)
        finals = []
        for k, (project, cell) in enumerate(zip(self.inputs, self.cells)):
            state = None if hx is None else torch.stack([s[k] for s in hx])
            x, last = cell(project(x), state)
            finals.append(last)
        states = tuple(torch.stack([f[j] for f in finals]) for j in range(4))
        if not batched:
            return x[:, 0], tuple(s[:, 0] for s in states)
        return (x.transpose(0, 1) if self.batch_first else x), states
