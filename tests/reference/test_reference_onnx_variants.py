"""ONNX's variants in the oracle (peepholes, coupled input-forget, cell clip, the activation list
with its alpha and beta, GRU linear_before_reset=0) against truths that come from neither the
oracle nor torch:

* onnxruntime, which implements every option: its float32 results must lie within the oracle's
  float32 bound of the oracle's values (inputs rounded to float32 first, for both);
* onnx.reference's evaluator, which implements peepholes and linear_before_reset (and ignores
  clip, input_forget and activations): agreement to float64 roundoff;
* one step computed by hand for each named variant;
* central finite differences for every gradient, the peephole vector and GRU's cut R included.
"""
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import reference
from reference import activations, names

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
onnx = pytest.importorskip("onnx")
from examples.onnx_rnn import reference_evaluator_runner, run_layers  # noqa: E402
from tests.reference.test_reference_backward import _numeric as central_differences  # noqa: E402

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24)
ONNX_VARIANTS = [name for name, v in reference.VARIANTS.items() if v.onnx is not None]
#: Activation lists that keep the state bounded over a few steps (f, g, h for LSTM); alphas and
#: betas exact in float32, as ONNX's attributes are.
ACTIVATION_LISTS = [
    reference.onnx_lstm("LSTM_SOFT", activations=("HardSigmoid", "Softsign", "Softplus")),
    reference.onnx_lstm("LSTM_SCALED", activations=("Sigmoid", "ScaledTanh", "Affine"), alpha=(0.75, 0.875),
                        beta=(0.625, 0.25)),
    reference.onnx_gru("GRU_ELU", activations=("HardSigmoid", "Elu"), alpha=(0.25, 0.875), beta=(0.4375,), clip=2.5),
] + [reference.onnx_rnn(f"RNN_{name.upper()}", activations=(name,),
                        alpha=(0.75,) if activations.arguments(name)[0] else (),
                        beta=(0.375,) if activations.arguments(name)[1] else (), clip=2.0)
     for name in activations.ACTIVATION_NAMES]


def _case(variant, seed, layers=2, directions=2, steps=5, batch=3, input_size=4, hidden=3, scale=1.5, dtype=None):
    rng = np.random.default_rng(seed)
    weights = {}
    for layer in range(layers):
        in_size = input_size if layer == 0 else directions * hidden
        for suffix in names.suffixes(layer, directions):
            for kind, shape in variant.shapes(in_size, hidden).items():
                weights[kind + suffix] = rng.uniform(-scale, scale, shape) / math.sqrt(hidden)
    x = rng.normal(size=(steps, batch, input_size))
    hx = tuple(rng.normal(size=(layers * directions, batch, hidden)) for _ in variant.states)
    if dtype is not None:  # what the implementation holds: rounded, and the oracle is given the same
        rounded = lambda a: a.astype(dtype).astype(np.float64)
        x, weights, hx = rounded(x), {k: rounded(v) for k, v in weights.items()}, tuple(rounded(h) for h in hx)
    return x, weights, hx, layers, directions


def _oracle(variant, x, weights, hx, layers, directions, precision=None):
    kwargs = dict(mode=variant, num_layers=layers, bidirectional=directions == 2, hx=hx if variant.paired else hx[0])
    if precision is None:
        out, state = reference.rnn(x, weights, **kwargs)
        return (out,) + (tuple(state) if variant.paired else (state,)), None
    (out, state), (b_out, b_state) = reference.rnn_with_bound(x, weights, precision, **kwargs)
    parts = (out,) + (tuple(state) if variant.paired else (state,))
    bounds = (b_out,) + (tuple(b_state) if variant.paired else (b_state,))
    return parts, bounds


@pytest.mark.parametrize("variant", [reference.VARIANTS[n] for n in ONNX_VARIANTS] + ACTIVATION_LISTS,
                         ids=lambda v: v.name)
def test_onnxruntime_float32_lies_within_the_oracles_float32_bound(variant):
    """onnxruntime's LSTM/GRU/RNN (float32 only) with the variant's attributes: every element
    within the oracle's float32 bound, over 6 seeds of 2 bidirectional layers."""
    ort = pytest.importorskip("onnxruntime")
    from examples.onnx_rnn import onnxruntime_runner

    del ort
    run, worst = onnxruntime_runner(), 0.0
    for seed in range(6):
        x, weights, hx, layers, directions = _case(variant, seed, dtype=np.float32)
        parts, bounds = _oracle(variant, x, weights, hx, layers, directions, FLOAT32)
        out, states = run_layers(variant, x, weights, layers, directions, hx, run, np.float32)
        for got, want, bound in zip((out,) + states, parts, bounds):
            assert np.all(np.isfinite(want)), variant.name
            error = np.abs(got - want)
            ratio = np.max(np.where(error == 0.0, 0.0, error / np.where(bound == 0.0, 1e-300, bound)))
            worst = max(worst, ratio)
    assert worst <= 1.0, f"{variant.name}: onnxruntime is {worst:.3g} x the oracle's float32 bound away"


@pytest.mark.parametrize("name", ["LSTM_PEEPHOLE", "GRU_RESET_BEFORE"])
def test_onnx_reference_evaluator_agrees_to_float64_roundoff(name):
    variant = reference.VARIANTS[name]
    for seed in range(4):
        x, weights, hx, layers, directions = _case(variant, seed)
        parts, _ = _oracle(variant, x, weights, hx, layers, directions)
        out, states = run_layers(variant, x, weights, layers, directions, hx, reference_evaluator_runner)
        for got, want in zip((out,) + states, parts):
            assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want)), name


def test_the_onnx_comparison_can_fail():
    """Peepholes read in the wrong order (i, o, f as i, f, o) break agreement with onnx.reference."""
    variant = reference.VARIANTS["LSTM_PEEPHOLE"]
    x, weights, hx, layers, directions = _case(variant, 0)
    expected, states = run_layers(variant, x, weights, layers, directions, hx, reference_evaluator_runner)
    swapped = {k: (np.concatenate([v[:3], v[6:], v[3:6]]) if k.startswith("weight_p") else v)
               for k, v in weights.items()}
    parts, _ = _oracle(variant, x, swapped, hx, layers, directions)
    assert np.max(np.abs(parts[0] - expected)) > 1e-3


# --- one step by hand (H = 1, I = 1: every product a product of two numbers) -----------------------

def _sig(a):
    return 1.0 / (1.0 + math.exp(-a))


def _one_step(name, weights, x, h, c=None):
    variant = reference.VARIANTS[name]
    layer = {k + "_l0": np.array(v, dtype=np.float64).reshape(variant.shapes(1, 1)[k]) for k, v in weights.items()}
    hx = (np.array([[[h]]]), np.array([[[c]]])) if variant.paired else np.array([[[h]]])
    _, state = reference.rnn(np.array([[[x]]]), layer, mode=name, hx=hx)
    return tuple(float(s.ravel()[0]) for s in state) if variant.paired else float(state.ravel()[0])


def test_one_peephole_step_by_hand():
    w = dict(weight_ih=[0.5, -0.3, 0.8, 0.2], weight_hh=[0.1, 0.4, -0.6, 0.7], bias_ih=[0.05, 0.1, -0.2, 0.3],
             bias_hh=[0.0, -0.1, 0.2, 0.1], weight_p=[0.9, -0.4, 0.6])
    x, h, c = 1.2, -0.5, 0.8
    i = _sig(0.5 * x + 0.05 + 0.1 * h + 0.0 + 0.9 * c)
    f = _sig(-0.3 * x + 0.1 + 0.4 * h - 0.1 - 0.4 * c)
    g = math.tanh(0.8 * x - 0.2 - 0.6 * h + 0.2)
    c_next = f * c + i * g
    o = _sig(0.2 * x + 0.3 + 0.7 * h + 0.1 + 0.6 * c_next)
    assert np.allclose(_one_step("LSTM_PEEPHOLE", w, x, h, c), (o * math.tanh(c_next), c_next), rtol=1e-14)


def test_one_coupled_step_by_hand():
    w = dict(weight_ih=[0.5, 0.8, 0.2], weight_hh=[0.1, -0.6, 0.7], bias_ih=[0.05, -0.2, 0.3],
             bias_hh=[0.0, 0.2, 0.1])
    x, h, c = 1.2, -0.5, 0.8
    i = _sig(0.5 * x + 0.05 + 0.1 * h)
    g = math.tanh(0.8 * x - 0.2 - 0.6 * h + 0.2)
    c_next = (1.0 - i) * c + i * g
    o = _sig(0.2 * x + 0.3 + 0.7 * h + 0.1)
    assert np.allclose(_one_step("LSTM_COUPLED", w, x, h, c), (o * math.tanh(c_next), c_next), rtol=1e-14)


def test_one_clipped_step_by_hand():
    """clip = 1: the i and g inputs (3.1 and -2.6) are cut to 1 and -1, f and o are not."""
    w = dict(weight_ih=[2.0, 0.5, -2.0, 0.25], weight_hh=[1.0, 0.2, 1.0, -0.4], bias_ih=[0.1, 0.0, 0.0, 0.0],
             bias_hh=[0.0, 0.0, -0.2, 0.0])
    x, h, c = 1.0, 1.0, 0.5
    i, f, g, o = _sig(1.0), _sig(0.7), math.tanh(-1.0), _sig(-0.15)
    c_next = f * c + i * g
    assert np.allclose(_one_step("LSTM_CLIP", w, x, h, c), (o * math.tanh(c_next), c_next), rtol=1e-14)


def test_one_hard_sigmoid_step_by_hand():
    """HardSigmoid(0.2, 0.5): i's input 4 saturates at 1, f's -3 at 0, o's 1 gives 0.7."""
    w = dict(weight_ih=[4.0, -3.0, 0.5, 1.0], weight_hh=[0.0, 0.0, 0.0, 0.0], bias_ih=[0.0, 0.0, 0.0, 0.0],
             bias_hh=[0.0, 0.0, 0.0, 0.0])
    x, h, c = 1.0, 0.3, 0.9
    c_next = 0.0 * c + 1.0 * math.tanh(0.5)
    assert np.allclose(_one_step("LSTM_HARD_SIGMOID", w, x, h, c), (0.7 * math.tanh(c_next), c_next), rtol=1e-14)


def test_one_reset_before_step_by_hand():
    """n = tanh(W_in x + b_in + W_hn (r h) + b_hn): the hidden bias outside the reset."""
    w = dict(weight_ih=[0.5, -0.3, 0.8], weight_hh=[0.1, 0.4, -0.6], bias_ih=[0.05, 0.1, -0.2],
             bias_hh=[0.0, -0.1, 0.25])
    x, h = 1.2, -0.5
    r = _sig(0.5 * x + 0.05 + 0.1 * h)
    z = _sig(-0.3 * x + 0.1 + 0.4 * h - 0.1)
    n = math.tanh(0.8 * x - 0.2 - 0.6 * (r * h) + 0.25)
    assert np.isclose(_one_step("GRU_RESET_BEFORE", w, x, h), (1 - z) * n + z * h, rtol=1e-14)


# --- gradients ------------------------------------------------------------------------------------

def gradient_pairs(variant):
    """{name: (the oracle's gradient, central differences of its forward)} for every input,
    initial state and parameter of a small bidirectional two-layer packed case of ``variant``."""
    x, weights, hx, layers, directions = _case(variant, 3, steps=4, batch=2, input_size=2, hidden=2, scale=1.0)
    kwargs = dict(mode=variant, num_layers=layers, bidirectional=directions == 2, lengths=np.array([4, 2]))
    parts, _ = _oracle(variant, x, weights, hx, layers, directions)
    upstream = [np.random.default_rng(9).standard_normal(p.shape) for p in parts]
    state = lambda: hx if variant.paired else hx[0]

    def loss():
        out, finals = reference.rnn(x, weights, hx=state(), **kwargs)
        finals = finals if variant.paired else (finals,)
        return sum(float(np.sum(g * p)) for g, p in zip(upstream, (out,) + tuple(finals)))

    grads = reference.rnn_backward(x, weights, hx=state(), grad_output=upstream[0], grad_h_n=upstream[1],
                                   grad_c_n=upstream[2] if variant.paired else None, **kwargs)
    checked = [("input", x)] + [(f"{s}0", h) for s, h in zip(variant.states, hx)] + sorted(weights.items())
    return {name: (grads[name], central_differences(loss, array)) for name, array in checked}


@pytest.mark.parametrize("variant", [reference.VARIANTS[n] for n in ONNX_VARIANTS] + ACTIVATION_LISTS[:3],
                         ids=lambda v: v.name)
def test_gradients_match_central_differences(variant):
    """Every gradient, input, initial states and each parameter (the peephole vector, GRU's R
    cut into blocks) against central differences, with packed lengths."""
    pairs = gradient_pairs(variant)
    for name, (analytic, numeric) in pairs.items():
        assert np.allclose(analytic, numeric, atol=1e-7, rtol=1e-6), (variant.name, name)
    assert any(k.startswith("weight_p") for k in pairs) == variant.onnx.peepholes


@pytest.mark.parametrize("name", activations.ACTIVATION_NAMES)
def test_each_activation_is_onnxs_and_its_gradient_the_derivative(name):
    """Values against onnx.reference's operator of the same name (where ONNX has one: Affine
    and ScaledTanh are no longer operators), gradients against central differences, bounds
    that vanish in exact arithmetic and cover float32 evaluation."""
    takes_alpha, takes_beta = activations.arguments(name)
    alpha, beta = (0.75 if takes_alpha else None), (0.375 if takes_beta else None)  # exact in float32
    act = activations.activation(name, alpha, beta)
    a = np.concatenate([np.linspace(-4.0, 4.0, 81), [0.75 + 1e-3, 0.75 - 1e-3]])
    value = act(a)
    if name not in ("Affine", "ScaledTanh"):
        from onnx import TensorProto, helper
        from onnx.reference import ReferenceEvaluator

        node = helper.make_node(name, ["x"], ["y"], **({"alpha": alpha} if alpha is not None else {}),
                                **({"beta": beta} if beta is not None else {}))
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, None)],
                                  [helper.make_tensor_value_info("y", TensorProto.DOUBLE, None)])
        (expected,) = ReferenceEvaluator(helper.make_model(graph)).run(None, {"x": a})
        assert np.allclose(value, expected, rtol=1e-15, atol=1e-15), name
    from reference.arithmetic import Arithmetic

    recording = Arithmetic().recording()
    leaf = recording.adopt(a)
    (grad,) = recording.tape.backward(Arithmetic(), [act(leaf)], [np.ones_like(a)], [leaf])
    step = 1e-7
    left, right = (act(a) - act(a - step)) / step, (act(a + step) - act(a)) / step
    smooth = np.abs(left - right) < 1e-4  # away from the kinks, where the derivative is one-sided
    assert smooth.sum() >= 75, name
    numeric = (act(a + step) - act(a - step)) / (2 * step)
    assert np.allclose(grad[smooth], numeric[smooth], atol=1e-6), name
    bounded = Arithmetic(FLOAT32).exact(a)
    assert np.all(act(bounded).error >= 0) and np.all(act(Arithmetic(reference.Precision(0.0, 0.0)).exact(a)).error
                                                       == 0), name


def test_activation_arguments_are_checked():
    for call, words in [(lambda: activations.activation("Swish"), "expected one of"),
                        (lambda: activations.activation("Affine", 1.0), "needs an beta"),
                        (lambda: activations.activation("Tanh", 0.5), "takes no alpha"),
                        (lambda: activations.activation("LeakyRelu", -0.5), "decreases"),
                        (lambda: reference.onnx_lstm("X", activations=("Tanh",)), "expected 3 names"),
                        (lambda: reference.onnx_rnn("X", alpha=(0.5,)), "no activation takes")]:
        with pytest.raises(ValueError, match=words):
            call()
