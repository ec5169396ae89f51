"""The oracle against ``onnx.reference.ReferenceEvaluator`` (an independent implementation):
tanh RNN, GRU (linear_before_reset=1) and LSTM, stacked by chaining nodes, bidirectional,
with initial states.  ONNX has no ReLU RNN, no projection and ignores sequence_lens."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import reference
from reference import names

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

#: Torch gate blocks in ONNX's order: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h.
GATE_SLICES = {"LSTM": [(0, 1), (3, 4), (1, 3)], "GRU": [(1, 2), (0, 1), (2, 3)], "RNN_TANH": [(0, 1)]}
OPS = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN"}
GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1}


def _reorder(mode, array, hidden):
    return np.concatenate([array[a * hidden:b * hidden] for a, b in GATE_SLICES[mode]], axis=0)


def onnx_rnn(x, weights, mode, num_layers, bidirectional, hidden, hx):
    """Runs one ONNX node per layer; returns (output (T, B, D*H), h_n, c_n or None)."""
    directions = 2 if bidirectional else 1
    layer_in, h_parts, c_parts = x, [], []
    for layer in range(num_layers):
        suffixes = names.suffixes(layer, directions)
        feeds = {
            "X": layer_in,
            "W": np.stack([_reorder(mode, weights["weight_ih" + s], hidden) for s in suffixes]),
            "R": np.stack([_reorder(mode, weights["weight_hh" + s], hidden) for s in suffixes]),
            "B": np.stack([np.concatenate([_reorder(mode, weights["bias_ih" + s], hidden),
                                           _reorder(mode, weights["bias_hh" + s], hidden)]) for s in suffixes]),
            "initial_h": hx[0][layer * directions:(layer + 1) * directions],
        }
        inputs, outputs = ["X", "W", "R", "B", "", "initial_h"], ["Y", "Y_h"]
        if mode == "LSTM":
            feeds["initial_c"] = hx[1][layer * directions:(layer + 1) * directions]
            inputs.append("initial_c")
            outputs.append("Y_c")
        extra = {"linear_before_reset": 1} if mode == "GRU" else {}
        node = helper.make_node(OPS[mode], inputs, outputs, hidden_size=hidden,
                                direction="bidirectional" if bidirectional else "forward", **extra)
        graph = helper.make_graph(
            [node], "layer", [helper.make_tensor_value_info(k, TensorProto.DOUBLE, v.shape) for k, v in feeds.items()],
            [helper.make_tensor_value_info(name, TensorProto.DOUBLE, None) for name in outputs])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
        results = ReferenceEvaluator(model).run(None, feeds)
        y = results[0]  # (T, D, B, H)
        layer_in = y.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], directions * hidden)
        h_parts.append(results[1])
        if mode == "LSTM":
            c_parts.append(results[2])
    return layer_in, np.concatenate(h_parts), (np.concatenate(c_parts) if mode == "LSTM" else None)


@st.composite
def onnx_cases(draw):
    mode = draw(st.sampled_from(sorted(GATE_SLICES)))
    sizes = st.integers(1, 12)
    input_size, hidden, steps, batch = draw(sizes), draw(sizes), draw(st.integers(1, 10)), draw(st.integers(1, 4))
    num_layers, bidirectional = draw(st.integers(1, 3)), draw(st.booleans())
    scale = draw(st.sampled_from([0.5, 2.0, 6.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    directions, gates = 2 if bidirectional else 1, GATES[mode] * hidden
    weights = {}
    for layer in range(num_layers):
        in_size = input_size if layer == 0 else directions * hidden
        for s in names.suffixes(layer, directions):
            weights["weight_ih" + s] = rng.uniform(-scale, scale, (gates, in_size)) / np.sqrt(hidden)
            weights["weight_hh" + s] = rng.uniform(-scale, scale, (gates, hidden)) / np.sqrt(hidden)
            weights["bias_ih" + s] = rng.uniform(-scale, scale, gates)
            weights["bias_hh" + s] = rng.uniform(-scale, scale, gates)
    hx = tuple(rng.normal(size=(num_layers * directions, batch, hidden)) for _ in range(2))
    return mode, rng.normal(size=(steps, batch, input_size)), weights, num_layers, bidirectional, hidden, hx


def _relative(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


@given(onnx_cases())
def test_oracle_matches_onnx_reference_evaluator(case):
    mode, x, weights, num_layers, bidirectional, hidden, hx = case
    expected_out, expected_h, expected_c = onnx_rnn(x, weights, mode, num_layers, bidirectional, hidden, hx)
    out, state = reference.rnn(x, weights, mode=mode, num_layers=num_layers, bidirectional=bidirectional,
                               hx=hx if mode == "LSTM" else hx[0])
    h_n, c_n = state if mode == "LSTM" else (state, None)
    assert _relative(out, expected_out) <= 1e-12
    assert _relative(h_n, expected_h) <= 1e-12
    if mode == "LSTM":
        assert _relative(c_n, expected_c) <= 1e-12


def test_onnx_harness_sees_a_wrong_gate_order():
    """The comparison can fail: swapping two torch gate blocks breaks agreement."""
    rng = np.random.default_rng(1)
    w = {"weight_ih_l0": rng.normal(size=(8, 3)), "weight_hh_l0": rng.normal(size=(8, 2)),
         "bias_ih_l0": rng.normal(size=8), "bias_hh_l0": rng.normal(size=8)}
    x, hx = rng.normal(size=(4, 2, 3)), (rng.normal(size=(1, 2, 2)), rng.normal(size=(1, 2, 2)))
    expected, _, _ = onnx_rnn(x, w, "LSTM", 1, False, 2, hx)
    swapped = {k: np.concatenate([v[4:6], v[2:4], v[0:2], v[6:8]]) for k, v in w.items()}
    out, _ = reference.rnn(x, swapped, mode="LSTM", hx=hx)
    assert _relative(out, expected) > 1e-3
