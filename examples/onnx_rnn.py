"""onnxruntime's LSTM, GRU and RNN as torch-like layers, so that the suite can check them:

    rnn-conformance --impl examples.onnx_rnn:PeepholeLSTM
    rnn-conformance --impl examples.onnx_rnn:ResetBeforeGRU

Each class is one variant of ``reference`` (its ``rnn_conformance_variant``) run by one ONNX
node per layer: torch's constructor and forward contract, parameters under torch's names and
gate order (``onnx_inputs`` reorders them to ONNX's), float32 on the CPU, packed input through
ONNX's ``sequence_lens``.  It has no autograd (onnxruntime runs no backward), so it declares
``backward`` unsupported, and no float64 (onnxruntime's recurrent kernels have none).

``onnx_layer`` is also what the oracle's tests use to compare ``reference`` with onnxruntime
and with ``onnx.reference`` on ONNX's options (peepholes, input_forget, clip, activations,
linear_before_reset).  Needs ``onnx`` and ``onnxruntime`` (``pip install onnx onnxruntime``).
"""
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

import reference

#: Torch's gate blocks in ONNX's order: LSTM i, f, g, o -> i, o, f, c; GRU r, z, n -> z, r, h.
#: None: a block ONNX has and the variant has not (a coupled LSTM's forget gate: zeros).
ONNX_BLOCKS = {("LSTM", 4): (0, 3, 1, 2), ("LSTM", 3): (0, 2, None, 1), ("GRU", 3): (1, 0, 2), ("RNN", 1): (0,)}


def _blocks(array, gates, order):
    """Rows of ``array`` (gate blocks stacked, torch's order) in ``order`` (None: zeros)."""
    size = array.shape[0] // gates
    pieces = [np.zeros_like(array[:size]) if b is None else array[b * size:(b + 1) * size] for b in order]
    return np.concatenate(pieces, axis=0)


def onnx_inputs(variant, weights, suffixes):
    """W, R, B (and P) of one ONNX node from torch-named weights of one layer's directions."""
    spec = variant.onnx
    order = ONNX_BLOCKS[(spec.op, variant.gates)]
    get = lambda kind, s: weights.get(kind + s)
    feeds = {"W": np.stack([_blocks(get("weight_ih", s), variant.gates, order) for s in suffixes]),
             "R": np.stack([_blocks(get("weight_hh", s), variant.gates, order) for s in suffixes])}
    if get("bias_ih", suffixes[0]) is not None:
        feeds["B"] = np.stack([np.concatenate([_blocks(get("bias_ih", s), variant.gates, order),
                                               _blocks(get("bias_hh", s), variant.gates, order)]) for s in suffixes])
    if spec.peepholes:
        feeds["P"] = np.stack([_blocks(get("weight_p", s), 3, (0, 2, 1)) for s in suffixes])  # i, f, o -> i, o, f
    return feeds


def onnx_layer(variant, hidden_size, directions, dtype=np.float64):
    """An ONNX model of one layer of ``variant``: inputs X, W, R, B, sequence_lens, initial_h
    (initial_c), P as ONNX names them; outputs Y, Y_h (Y_c)."""
    from onnx import TensorProto, helper

    spec = variant.onnx
    element = {np.float64: TensorProto.DOUBLE, np.float32: TensorProto.FLOAT}[dtype]
    inputs = ["X", "W", "R", "B", "sequence_lens", "initial_h"] + (
        ["initial_c", "P"] if spec.op == "LSTM" else [])
    outputs = ["Y", "Y_h"] + (["Y_c"] if spec.op == "LSTM" else [])
    attributes = dict(hidden_size=hidden_size, direction="bidirectional" if directions == 2 else "forward",
                      activations=[a.name for a in spec.activations] * directions)  # a list per direction
    alphas = [a.alpha for a in spec.activations if a.alpha is not None] * directions
    betas = [a.beta for a in spec.activations if a.beta is not None] * directions
    attributes.update({"activation_alpha": alphas} if alphas else {})
    attributes.update({"activation_beta": betas} if betas else {})
    attributes.update({"clip": spec.clip} if spec.clip is not None else {})
    attributes.update({"input_forget": 1} if spec.input_forget else {})
    if spec.op == "GRU":
        attributes["linear_before_reset"] = int(spec.linear_before_reset)
    node = helper.make_node(spec.op, inputs, outputs, **attributes)
    declared = [helper.make_tensor_value_info(name, TensorProto.INT32 if name == "sequence_lens" else element, None)
                for name in inputs]
    graph = helper.make_graph([node], "layer", declared,
                              [helper.make_tensor_value_info(name, element, None) for name in outputs])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def run_layers(variant, x, weights, num_layers, directions, hx, run, dtype=np.float64, lengths=None):
    """Stacked layers of ``variant`` over x (T, B, I), one ONNX node each, each node run by
    ``run(model, feeds)`` -> outputs.  hx: the initial states (L*D, B, .), a tuple.  Returns
    (output (T, B, D*H), final states as a tuple of (L*D, B, H))."""
    hidden = weights["weight_ih_l0"].shape[0] // variant.gates
    model = onnx_layer(variant, hidden, directions, dtype)
    layer_in, finals = x, [[] for _ in hx]
    for layer in range(num_layers):
        feeds = {k: v.astype(dtype) for k, v in onnx_inputs(variant, weights,
                                                            reference.names.suffixes(layer, directions)).items()}
        feeds["X"] = layer_in.astype(dtype)
        feeds["sequence_lens"] = np.full(x.shape[1], x.shape[0], np.int32) if lengths is None \
            else np.asarray(lengths, np.int32)
        for name, state in zip(("initial_h", "initial_c"), hx):
            feeds[name] = state[layer * directions:(layer + 1) * directions].astype(dtype)
        if variant.onnx.op == "LSTM" and "P" not in feeds:
            feeds["P"] = np.zeros((directions, 3 * hidden), dtype)
        if "B" not in feeds:
            feeds["B"] = np.zeros((directions, 2 * len(ONNX_BLOCKS[(variant.onnx.op, variant.gates)]) * hidden), dtype)
        y, *states = run(model, feeds)
        layer_in = y.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], directions * hidden)
        for store, state in zip(finals, states):
            store.append(state)
    return layer_in, tuple(np.concatenate(parts) for parts in finals)


def onnxruntime_runner():
    """``run(model, feeds)`` with onnxruntime (a session per model, kept)."""
    import onnxruntime

    sessions = {}

    def run(model, feeds):
        key = id(model)
        if key not in sessions:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            sessions[key] = (model, onnxruntime.InferenceSession(model.SerializeToString(), options,
                                                                 providers=["CPUExecutionProvider"]))
        return sessions[key][1].run(None, feeds)

    return run


def reference_evaluator_runner(model, feeds):
    """``run(model, feeds)`` with ``onnx.reference`` (which ignores clip, input_forget and the
    activation list: use it only where it implements what the model asks)."""
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model).run(None, feeds)


class OnnxRuntimeLayer(nn.Module):
    """A layer of ``rnn_conformance_variant`` that onnxruntime computes."""

    rnn_conformance_variant = "LSTM"
    #: onnxruntime's CPU kernels evaluate sigmoid and tanh by approximations (MLAS): seen off
    #: from the float32 bound by 1.1e-7 absolute where 1e-7 was declared (PeepholeLSTM, seed 2).
    rnn_conformance_activation_error = 5e-7
    rnn_conformance_unsupported = ("backward", "float64", "bfloat16", "float16", "cuda", "dropout",
                                   "non_contiguous")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if dropout:
            raise NotImplementedError("onnxruntime's recurrent operators have no dropout")
        self.variant = reference.variant(self.rnn_conformance_variant)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.directions = batch_first, 2 if bidirectional else 1
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * self.directions
            for suffix in reference.names.suffixes(layer, self.directions):
                for kind, shape in self.variant.shapes(in_size, hidden_size, bias=bias).items():
                    bound = 1.0 / np.sqrt(hidden_size)
                    self.register_parameter(kind + suffix, nn.Parameter(
                        torch.empty(shape, device=device, dtype=dtype).uniform_(-bound, bound)))
        self._run = onnxruntime_runner()

    def forward(self, input, hx=None):
        packed, lengths = isinstance(input, PackedSequence), None
        if packed:  # ONNX's sequence_lens: each sequence runs over its own steps, both directions
            x, lengths = pad_packed_sequence(input)
            batched, dtype_of = True, x.dtype
        elif input.dim() not in (2, 3):
            raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
        else:
            batched, dtype_of = input.dim() == 3, input.dtype
            x = input if batched else input.unsqueeze(1)
            x = x.transpose(0, 1) if batched and self.batch_first else x
        if x.shape[0] == 0 or x.shape[-1] != self.input_size:
            raise RuntimeError(f"input of shape {tuple(input.shape)}: expected T >= 1 steps of {self.input_size} "
                               f"features")
        count, batch = self.num_layers * self.directions, x.shape[1]
        parts = [None] * len(self.variant.states) if hx is None else (list(hx) if isinstance(hx, tuple) else [hx])
        states = [np.zeros((count, batch, self.hidden_size)) if p is None else
                  (p if batched else p.unsqueeze(1)).detach().cpu().double().numpy() for p in parts]
        dtype = np.float32 if dtype_of == torch.float32 else np.float64
        weights = {name: p.detach().cpu().double().numpy() for name, p in self.named_parameters()}
        output, finals = run_layers(self.variant, x.detach().cpu().double().numpy(), weights, self.num_layers,
                                    self.directions, tuple(states), self._run, dtype,
                                    None if lengths is None else lengths.numpy())
        as_tensor = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype_of, device=x.device)
        output = as_tensor(output)
        finals = [as_tensor(f) for f in finals]
        if packed:
            order = input.sorted_indices
            out, lens = output, lengths
            if order is not None:
                out, lens = output[:, order.to(output.device)], lengths[order.cpu()]
            data = pack_padded_sequence(out, lens, enforce_sorted=True).data
            output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output, finals = output[:, 0], [f[:, 0] for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (tuple(finals) if self.variant.paired else finals[0])


class PeepholeLSTM(OnnxRuntimeLayer):
    rnn_conformance_variant = "LSTM_PEEPHOLE"


class CoupledLSTM(OnnxRuntimeLayer):
    rnn_conformance_variant = "LSTM_COUPLED"


class ClippedLSTM(OnnxRuntimeLayer):
    rnn_conformance_variant = "LSTM_CLIP"


class HardSigmoidLSTM(OnnxRuntimeLayer):
    rnn_conformance_variant = "LSTM_HARD_SIGMOID"


class ResetBeforeGRU(OnnxRuntimeLayer):
    rnn_conformance_variant = "GRU_RESET_BEFORE"
