"""Family 6, models: the origin notes' stacked regressor and corrected BiLSTM classifier, built on
the target, equal their numpy references, forward and backward."""
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

import reference

from .support import streams
from ..config import RNNConfig, selecting
from .support.data import frozen_names, parameter_shapes, to_torch
from ..models import BiLSTMClassifier, StackedRegressor
from .registry import register
from .support.strategies import WEIGHT_SCALES, draw_sequence_lengths, sizes
from ..targets.loading import load_weights
from .support.tolerances import compare
from .support.backprop import Differentiable, backward, differentiable, gradient_of


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and data seed of a seed-model example (vocab and fc sizes used by the classifier)."""

    mode: str
    input_size: int
    hidden_size: int
    batch: int
    steps: int
    weight_scale: float
    seed: int
    vocab: int = 0
    fc_hidden: int = 0
    lengths: tuple = ()

    @property
    def num_layers(self):
        """The recurrent layers of the model: the regressor stacks two, the classifier has one."""
        return 1 if self.vocab else 2

    @property
    def directions(self):
        return 2 if self.vocab else 1

    def __str__(self):
        sizes_ = f"I={self.input_size} H={self.hidden_size}"
        if self.vocab:
            return (f"BiLSTMClassifier(vocab={self.vocab} embed={self.input_size} H={self.hidden_size} "
                    f"fc={self.fc_hidden}) B={self.batch} T={self.steps} lengths={list(self.lengths)} "
                    f"scale={self.weight_scale:g} data_seed={self.seed}")
        return (f"StackedRegressor({self.mode} {sizes_} L=2) B={self.batch} T={self.steps} "
                f"scale={self.weight_scale:g} data_seed={self.seed}")


@st.composite
def _model_configs(draw, modes, classifier):
    batch, steps = draw(st.integers(1, 6)), draw(st.integers(1, 10))
    config = ModelConfig(mode=draw(st.sampled_from(modes)), input_size=draw(sizes(max_value=40)),
                         hidden_size=draw(sizes(max_value=40)), batch=batch, steps=steps,
                         weight_scale=draw(st.sampled_from(WEIGHT_SCALES[:3])), seed=draw(st.integers(0, 2**32 - 1)))
    if not classifier:
        return config
    lengths = draw_sequence_lengths(draw, batch, steps)
    return ModelConfig(**{**config.__dict__, "steps": max(lengths), "lengths": lengths,
                          "vocab": draw(st.integers(2, 50)), "fc_hidden": draw(sizes(max_value=20))})


def _state_shapes(model, rnn_config):
    """name -> shape of the model's state under torch's names: the heads' own entries, and
    the recurrent layer's as torch names them (a target with a mapping hook has its own)."""
    shapes, rnn_added = {}, False
    for name, tensor in model.state_dict().items():
        if not name.startswith("rnn."):
            shapes[name] = tuple(tensor.shape)
        elif not rnn_added:
            shapes.update({f"rnn.{k}": v for k, v in parameter_shapes(rnn_config).items()})
            rnn_added = True
    return shapes


def _random_state(model, config, rnn_config):
    """Every parameter drawn uniform in +-scale/sqrt(fan_in); the embedding's padding row stays zero."""
    rng = streams.rng(config.seed, "model_parameters")
    state = {}
    for name, shape in _state_shapes(model, rnn_config).items():
        fan_in = shape[-1] if len(shape) > 1 else max(config.hidden_size, 1)
        values = rng.uniform(-1.0, 1.0, size=shape) * config.weight_scale / np.sqrt(fan_in)
        if name == "embedding.weight":
            values = rng.standard_normal(shape)
            values[0] = 0.0
        state[name] = values
    return state


def load_model(model, tensors):
    """The recurrent layer's weights through the target's loader (its mapping hook, checked,
    if any), the heads' with load_state_dict.  A reproducer's ``standalone.load_model`` does
    the same without the suite."""
    load_weights(model.rnn, {k[len("rnn."):]: v for k, v in tensors.items() if k.startswith("rnn.")})
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("rnn.")}, strict=False)


def _regressor(config, ctx, grad):
    """The regressor built on the target with drawn weights, as a gradient check runs it
    (``_differentiable``), its input (a leaf with ``grad``), its prediction and the weights
    as loaded (float64)."""
    model = ctx.seed_model(StackedRegressor, (config.input_size, config.hidden_size),
                           ctx.target.constructor(config.mode), selecting(config.mode))
    rnn_config = RNNConfig(config.mode, config.input_size, config.hidden_size, num_layers=2, batch_first=True)
    state = ctx.load(model, _random_state(model, config, rnn_config), load_model)
    x_np = streams.rng(config.seed, "regressor_input").standard_normal((config.batch, config.steps, config.input_size))
    x = to_torch(x_np, ctx.dtype, ctx.device).requires_grad_(grad)
    run = _differentiable(ctx, model, state, grad)
    return run, x, ctx.invoke(run.call, x, grad=grad), state


def _differentiable(ctx, model, state, grad):
    """The model as a gradient check runs it (``backprop.differentiable``, its recurrent layer
    through the target's mapping hook); as it is without ``grad``."""
    if not grad:
        return Differentiable(model, [])
    return differentiable(ctx, model, {k[len("rnn."):]: v for k, v in state.items() if k.startswith("rnn.")}, "rnn")


def _classifier(config, ctx, grad):
    """The classifier built on the target with drawn weights and tokens (0 past each length,
    and sometimes inside: its row must still get no gradient): (the model as a gradient check
    runs it, text, probabilities, weights as loaded)."""
    model = ctx.seed_model(BiLSTMClassifier, (config.vocab, config.input_size, config.hidden_size, config.fc_hidden),
                           ctx.target.constructor(), {})
    rnn_config = RNNConfig("LSTM", config.input_size, config.hidden_size, bidirectional=True, batch_first=True)
    state = ctx.load(model, _random_state(model, config, rnn_config), load_model)
    rng = streams.rng(config.seed, "classifier_tokens")
    text = rng.integers(0, config.vocab, size=(config.batch, config.steps))  # 0 inside a sequence too
    for b, length in enumerate(config.lengths):
        text[b, length:] = 0
    lengths = torch.tensor(config.lengths, dtype=torch.int64)
    run = _differentiable(ctx, model, state, grad)
    got = ctx.invoke(run.call, torch.as_tensor(text).to(ctx.device), lengths.to(ctx.device), grad=grad)
    return run, text, got, state


def _backward(config, ctx, result):
    """Backward from the model's result with a drawn upstream gradient; returns it (float64)."""
    upstream = streams.rng(config.seed, "model_upstream_gradient").standard_normal(tuple(result.shape))
    backward(config, [result], [to_torch(upstream, ctx.dtype, ctx.device)], ctx)
    return upstream


def _gradient_comparisons(run, leaves, expected, bound, ctx, config):
    """Every weight's gradient (the recurrent layer's under torch's names: through the mapping
    hook of a target whose names are its own, not at all with only a copying hook) and the
    named leaves' against the oracle."""
    frozen = {f"rnn.{name}" for name in frozen_names(RNNConfig(config.mode, config.input_size, config.hidden_size,
                                                               num_layers=2))}  # not trained: nothing to compare
    return [compare(f"grad {name}", gradient_of(tensor), expected[name], bound[name], ctx.dtype, config)
            for name, tensor in list(leaves) + run.weights if name in expected and name not in frozen]


@register("models", strategy=lambda target: _model_configs(target.modes, classifier=False),
          requires=("torch_arguments", "multi_layer", "batch_first"))
def check_stacked_regressor_matches_oracle(config, ctx):
    """The notes' 2-layer regressor fc(h_n[-1]) built on the target equals its numpy reference."""
    _, x, got, state = _regressor(config, ctx, grad=False)
    expected, bound = reference.stacked_regressor(x.to("cpu", torch.float64).numpy(), state, mode=config.mode,
                                                  precision=ctx.precision)
    return [compare("prediction", got, expected, bound, ctx.dtype, config)]


@register("models", strategy=lambda target: _model_configs(target.modes, classifier=False),
          requires=("torch_arguments", "multi_layer", "batch_first", "backward"))
def check_stacked_regressor_gradients_match_oracle(config, ctx):
    """The regressor's gradients (input, every layer's parameters, fc) equal the BPTT oracle
    composed with its head."""
    run, x, got, state = _regressor(config, ctx, grad=True)
    upstream = _backward(config, ctx, got)
    expected, bound = reference.stacked_regressor_backward(x.detach().to("cpu", torch.float64).numpy(), state,
                                                           upstream, mode=config.mode, precision=ctx.precision)
    return _gradient_comparisons(run, [("input", x)], expected, bound, ctx, config)


@register("models", strategy=lambda target: _model_configs(("LSTM",), classifier=True), kinds=("lstm",),
          requires=("torch_arguments", "packed", "bidirectional", "batch_first"))
def check_bilstm_classifier_matches_oracle(config, ctx):
    """The corrected BiLSTM classifier (packed, unsorted lengths) built on the target equals its reference."""
    _, text, got, state = _classifier(config, ctx, grad=False)
    expected, bound = reference.bilstm_classifier(text, config.lengths, state, precision=ctx.precision)
    return [compare("probability", got, expected, bound, ctx.dtype, config)]


@register("models", strategy=lambda target: _model_configs(("LSTM",), classifier=True), kinds=("lstm",),
          requires=("torch_arguments", "packed", "bidirectional", "batch_first", "backward"))
def check_bilstm_classifier_gradients_match_oracle(config, ctx):
    """The classifier's gradients equal the oracle's through its heads: embedding rows sum
    their tokens' uses, unused tokens and the padding index 0 get none."""
    run, text, got, state = _classifier(config, ctx, grad=True)
    upstream = _backward(config, ctx, got)
    expected, bound = reference.bilstm_classifier_backward(text, config.lengths, state, upstream,
                                                           precision=ctx.precision)
    return _gradient_comparisons(run, [], expected, bound, ctx, config)
