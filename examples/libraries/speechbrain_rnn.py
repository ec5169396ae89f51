"""speechbrain's recurrent layers (``pip install --no-deps speechbrain``, CPU) behind torch.nn's
contracts, so that the suite checks the library's own computation.

``speechbrain/__init__.py`` imports its whole toolkit, torchaudio included, whose native build must
match torch's exactly; ``_load`` imports ``speechbrain/nnet/RNN.py`` with the packages above it as
empty namespaces, and stands in for the one helper it imports that the recurrent layers never call
(``length_to_mask``, used by the attentional decoder).  The layers' code is the library's, unchanged.

* ``QuasiRNN``: ``speechbrain.nnet.RNN.QuasiRNNLayer`` per layer (Bradbury et al. 2016, f-pooling with an
  output gate), behind torch.nn.LSTM's contract: states (h, c), h0 not read.  Its two directions share
  one weight set (the layer runs the reversed sequence as more batch rows): bidirectional is declared
  unsupported until a record can say so.
* ``LSTM`` and ``GRU``: torch's layers behind speechbrain's forward with relative lengths (its recipes'
  ``wav_lens``), which it turns back into steps itself.
* ``LiGRU`` and ``SLiGRU``: the light GRUs with layer normalization (SLiGRU's inside the recurrence),
  behind torch.nn.GRU's contract.

    rnn-conformance --impl examples.libraries.speechbrain_rnn:QuasiRNN --dtypes float64,float32
"""
import importlib.machinery
import importlib.util
import sys
import types

import torch
from torch import nn


def _load():
    spec = importlib.util.find_spec("speechbrain")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("speechbrain is not installed: pip install --no-deps speechbrain")
    if "speechbrain.nnet.RNN" in sys.modules:
        return sys.modules["speechbrain.nnet.RNN"]
    root = spec.submodule_search_locations[0]
    for name in ("speechbrain", "speechbrain.nnet", "speechbrain.dataio", "speechbrain.utils"):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [root + name[len("speechbrain"):].replace(".", "/")]
            package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
            package.__spec__.submodule_search_locations = package.__path__
            sys.modules[name] = package
    if "speechbrain.dataio.dataio" not in sys.modules:
        dataio = types.ModuleType("speechbrain.dataio.dataio")

        def length_to_mask(*args, **kwargs):
            raise NotImplementedError("not loaded by this adapter (it imports torchaudio)")
        dataio.length_to_mask = length_to_mask
        sys.modules["speechbrain.dataio.dataio"] = dataio
    import speechbrain.nnet.RNN as rnn
    return rnn


RNN = _load()


def _batch_major(input, batch_first):
    if isinstance(input, nn.utils.rnn.PackedSequence):
        raise NotImplementedError("speechbrain's layers take padded batches, not packed sequences")
    if input.dim() not in (2, 3):
        raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
    batched = input.dim() == 3
    if not batched:
        return input.unsqueeze(0), batched
    return (input if batch_first else input.transpose(0, 1)), batched


class QuasiRNN(nn.Module):
    rnn_conformance_variant = "examples.libraries.variants:QRNN"
    rnn_conformance_unsupported = ("bidirectional", "packed", "dropout", "no_bias")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout or bidirectional or not bias:
            raise NotImplementedError("this adapter runs QuasiRNN in one direction, with biases, without dropout")
        self.hidden_size, self.batch_first = hidden_size, batch_first
        self.qrnn = RNN.QuasiRNN(hidden_size, input_size=input_size, num_layers=num_layers).to(device=device,
                                                                                               dtype=dtype)

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        for k in range(len(self.qrnn.qrnn)):
            own[f"qrnn.qrnn.{k}.w.weight"] = state_dict[f"weight_ih_l{k}"]
            own[f"qrnn.qrnn.{k}.w.bias"] = state_dict[f"bias_ih_l{k}"]
        return own

    def forward(self, input, hx=None):
        x, batched = _batch_major(input, self.batch_first)
        if x.size(1) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        count = len(self.qrnn.qrnn)
        c0 = None
        if hx is not None:
            h0, c0 = hx
            expected = (count, x.size(0), self.hidden_size) if batched else (count, self.hidden_size)
            if tuple(h0.shape) != expected or tuple(c0.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {tuple(h0.shape)}, {tuple(c0.shape)}")
            c0 = c0 if batched else c0.unsqueeze(1)
        finals_h, finals_c = [], []
        for k, layer in enumerate(self.qrnn.qrnn):
            x, c = layer(x, None if c0 is None else c0[k])
            finals_h.append(x[:, -1])
            finals_c.append(c)
        h_n, c_n = torch.stack(finals_h), torch.stack(finals_c)
        if not batched:
            return x[0], (h_n[:, 0], c_n[:, 0])
        return (x if self.batch_first else x.transpose(0, 1)), (h_n, c_n)


class LiGRU(nn.Module):
    """``speechbrain.nnet.RNN.LiGRU`` (Ravanelli et al. 2018, light GRU) with
    ``normalization="layernorm"`` behind torch.nn.GRU's contract: its own stacking and states.
    ReLU candidates (its default).  Its batchnorm default mixes the batch in training (the
    statistics of the batch): not this row.  Its two directions share one weight set: declared
    unsupported, with no bias (its linears have none; ``bias=False`` freezes the norm's)."""
    rnn_conformance_variant = "examples.libraries.variants:LIGRU_LN"
    rnn_conformance_unsupported = ("bidirectional", "packed", "dropout", "no_bias")
    library = "LiGRU"
    layer_norm = dict(normalization="layernorm")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout or bidirectional or not bias:
            raise NotImplementedError(f"this adapter runs {self.library} in one direction, with biases, without "
                                      f"dropout")
        self.hidden_size, self.batch_first = hidden_size, batch_first
        self.ligru = getattr(RNN, self.library)(hidden_size, input_shape=(1, 1, input_size), num_layers=num_layers,
                                               **self.layer_norm).to(device=device, dtype=dtype)

    def rnn_conformance_from_torch(self, state_dict):
        own = {}
        for k in range(len(self.ligru.rnn)):
            own[f"ligru.rnn.{k}.w.weight"] = state_dict[f"weight_ih_l{k}"]
            own[f"ligru.rnn.{k}.u.weight"] = state_dict[f"weight_hh_l{k}"]
            own[f"ligru.rnn.{k}.norm.weight"] = state_dict[f"ln_weight_l{k}"]
            own[f"ligru.rnn.{k}.norm.bias"] = state_dict[f"ln_bias_l{k}"]
        return own

    def forward(self, input, hx=None):
        x, batched = _batch_major(input, self.batch_first)
        if x.size(1) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        count = len(self.ligru.rnn)
        if hx is not None:
            expected = (count, x.size(0), self.hidden_size) if batched else (count, self.hidden_size)
            if tuple(hx.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
            hx = hx if batched else hx.unsqueeze(1)
        output, h_n = self.ligru(x, hx)
        if not batched:
            return output[0], h_n[:, 0]
        return (output if self.batch_first else output.transpose(0, 1)), h_n


class SLiGRU(LiGRU):
    """``speechbrain.nnet.RNN.SLiGRU`` (stabilised light GRU): LiGRU with a layer norm (no affine
    parameters) of the recurrent term, inside the recurrence; ``ff_normalization="layernorm"``."""
    rnn_conformance_variant = "examples.libraries.variants:SLIGRU"
    library = "SLiGRU"
    layer_norm = dict(ff_normalization="layernorm")


class LSTM(nn.Module):
    """``speechbrain.nnet.RNN.LSTM``: torch.nn.LSTM (batch-first) behind speechbrain's forward,
    ``forward(x, hx=None, lengths=None)`` with *relative* lengths, as its recipes pass them
    (``wav_lens``: each length over the padded length, float32).  This adapter gives a packed
    batch to it that way (padded batch-first, lengths L / T) and packs what it returns; speechbrain
    turns the relative lengths back into steps itself (``lengths * x.size(1)``, then torch's
    ``pack_padded_sequence``).  No projection, no unbatched input (its wrapper takes neither)."""
    rnn_conformance_variant = "LSTM"
    rnn_conformance_unsupported = ("proj_size", "unbatched")
    library = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        self.batch_first = batch_first
        self.layer = getattr(RNN, self.library)(hidden_size, input_size=input_size, num_layers=num_layers, bias=bias,
                                                 dropout=dropout, bidirectional=bidirectional).to(device=device,
                                                                                                 dtype=dtype)

    def rnn_conformance_from_torch(self, state_dict):
        return {"layer.rnn." + name: value for name, value in state_dict.items()}

    def forward(self, input, hx=None):
        if isinstance(input, nn.utils.rnn.PackedSequence):
            padded, lengths = nn.utils.rnn.pad_packed_sequence(input, batch_first=True)
            relative = lengths.to(torch.float32) / padded.size(1)  # speechbrain's wav_lens
            output, h_n = self.layer(padded, hx, lengths=relative.to(padded.device))
            packed = nn.utils.rnn.pack_padded_sequence(output, lengths, batch_first=True,
                                                       enforce_sorted=input.sorted_indices is None)
            return packed, h_n
        if input.dim() != 3:
            raise ValueError(f"speechbrain's {self.library} takes a batch (B, T, I); got {input.dim()}-D input")
        x = input if self.batch_first else input.transpose(0, 1)
        output, h_n = self.layer(x, hx)
        return (output if self.batch_first else output.transpose(0, 1)), h_n


class GRU(LSTM):
    """``speechbrain.nnet.RNN.GRU``: torch.nn.GRU behind the same forward."""
    rnn_conformance_variant = "GRU"
    rnn_conformance_unsupported = ("unbatched",)
    library = "GRU"
