"""The seed models' backward references against central finite differences of their forward
references, and the embedding gradient's rules (padding row, unused and repeated tokens)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference

from .test_reference_backward import _numeric

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24)
EXACT = reference.Precision(storage=0.0, accumulate=0.0)
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def _layer(rng, prefix, gates, hidden, inputs, suffix, scale):
    return {f"{prefix}weight_ih{suffix}": rng.uniform(-scale, scale, (gates * hidden, inputs)),
            f"{prefix}weight_hh{suffix}": rng.uniform(-scale, scale, (gates * hidden, hidden)),
            f"{prefix}bias_ih{suffix}": rng.uniform(-scale, scale, gates * hidden),
            f"{prefix}bias_hh{suffix}": rng.uniform(-scale, scale, gates * hidden)}


def regressor_case(seed, mode, size=3, hidden=3, batch=2, steps=3, scale=0.8):
    rng = np.random.default_rng(seed)
    weights = {"fc.weight": rng.normal(size=(1, hidden)), "fc.bias": rng.normal(size=1)}
    weights.update(_layer(rng, "rnn.", GATES[mode], hidden, size, "_l0", scale))
    weights.update(_layer(rng, "rnn.", GATES[mode], hidden, hidden, "_l1", scale))
    return rng.normal(size=(batch, steps, size)), weights, rng.normal(size=(batch, 1))


def classifier_case(seed, vocab=6, embed=2, hidden=2, fc=3, batch=3, steps=4):
    rng = np.random.default_rng(seed)
    weights = {"embedding.weight": rng.normal(size=(vocab, embed)),
               "fc1.weight": rng.normal(size=(fc, 2 * hidden)), "fc1.bias": rng.normal(size=fc),
               "fc2.weight": rng.normal(size=(1, fc)), "fc2.bias": rng.normal(size=1)}
    weights["embedding.weight"][0] = 0.0
    for suffix in ("_l0", "_l0_reverse"):
        weights.update(_layer(rng, "rnn.", 4, hidden, embed, suffix, 0.8))
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps
    text = np.where(np.arange(steps)[None, :] < lengths[:, None], rng.integers(1, vocab - 1, (batch, steps)), 0)
    text[0, :2] = 1  # a repeated token; token vocab-1 is never used
    text[0, 2] = 0  # the padding index inside a sequence: its row still gets no gradient
    return text, lengths, weights, rng.normal(size=(batch, 1))


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(sorted(GATES)))
def test_regressor_backward_matches_central_differences(seed, mode):
    x, weights, upstream = regressor_case(seed, mode)
    grads = reference.stacked_regressor_backward(x, weights, upstream, mode=mode)
    assert sorted(grads) == sorted(list(weights) + ["input"])
    loss = lambda: float(np.sum(upstream * reference.stacked_regressor(x, weights, mode=mode)))
    for name, array in [("input", x)] + sorted(weights.items()):
        numeric = _numeric(loss, array)
        assert np.max(np.abs(grads[name] - numeric)) <= 1e-6 * max(1.0, np.max(np.abs(numeric))), name


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_classifier_backward_matches_central_differences(seed):
    text, lengths, weights, upstream = classifier_case(seed)
    grads = reference.bilstm_classifier_backward(text, lengths, weights, upstream)
    assert sorted(grads) == sorted(weights)
    loss = lambda: float(np.sum(upstream * reference.bilstm_classifier(text, lengths, weights)))
    for name, array in sorted(weights.items()):
        numeric = _numeric(loss, array)
        if name == "embedding.weight":
            numeric[0] = 0.0  # padding_idx: torch gives its row no gradient, whatever the loss says
        assert np.max(np.abs(grads[name] - numeric)) <= 1e-6 * max(1.0, np.max(np.abs(numeric))), name


def test_embedding_gradient_rows():
    """Row 0 (padding) and unused tokens get exactly nothing; a token used twice gets the sum."""
    text, lengths, weights, upstream = classifier_case(3)
    grads = reference.bilstm_classifier_backward(text, lengths, weights, upstream)
    table = grads["embedding.weight"]
    used = set(text[text != 0].tolist())
    for row in range(table.shape[0]):
        assert np.any(table[row] != 0.0) == (row in used), row
    text2 = text.copy()
    text2[0, 1] = 2  # token 1 now used once less, token 2 once more
    moved = reference.bilstm_classifier_backward(text2, lengths, weights, upstream)["embedding.weight"]
    assert not np.allclose(moved[1], table[1])


@pytest.mark.parametrize("which", ["regressor", "classifier"])
def test_model_backward_bounds(which):
    """The bounded backward computes the plain values; bounds vanish in exact arithmetic."""
    if which == "regressor":
        x, weights, upstream = regressor_case(5, "LSTM")
        call = lambda p: reference.stacked_regressor_backward(x, weights, upstream, mode="LSTM", precision=p)
    else:
        text, lengths, weights, upstream = classifier_case(5)
        call = lambda p: reference.bilstm_classifier_backward(text, lengths, weights, upstream, precision=p)
    plain = call(None)
    grads, bounds = call(FLOAT32)
    assert set(grads) == set(plain) == set(bounds)
    for name in plain:
        assert np.allclose(grads[name], plain[name], rtol=1e-12, atol=1e-14), name
        assert np.all(bounds[name] >= 0.0), name
    _, exact = call(EXACT)
    assert not any(np.any(b) for b in exact.values())


@pytest.mark.parametrize("mode", sorted(GATES))
@pytest.mark.parametrize("scaled", ["every weight times 1e150", "every weight times 1e300", "the heads' weights 1e308"])
def test_a_bound_that_overflows_is_inf_or_nan_without_a_warning(mode, scaled):
    """Weights that large overflow the bounds (and some values): the oracle says so with inf or
    NaN, which the comparisons read as 'says nothing', and never warns (the suite runs it inside
    the target's worker, where a warning went to 'what the targets printed' as if the target
    had printed it: seed 90210, the regressor's head on a float16 GRU)."""
    scale = float(scaled.split()[-1])
    if scaled.startswith("every"):
        grown = lambda k, v: v * scale
    else:  # the head's sums overflow where the layers' bounds are small
        grown = lambda k, v: np.full_like(v, scale) if k.startswith("fc") else v
    x, weights, upstream = regressor_case(7, mode)
    weights = {k: grown(k, v) for k, v in weights.items()}
    text, lengths, table, classes = classifier_case(7)
    table = {k: grown(k, v) for k, v in table.items()}
    layer = {k[len("rnn."):]: v for k, v in weights.items() if k.startswith("rnn.")}
    calls = {
        "stacked_regressor": lambda: reference.stacked_regressor(x, weights, mode=mode, precision=FLOAT32),
        "stacked_regressor_backward": lambda: reference.stacked_regressor_backward(x, weights, upstream, mode=mode,
                                                                                   precision=FLOAT32),
        "bilstm_classifier": lambda: reference.bilstm_classifier(text, lengths, table, precision=FLOAT32),
        "bilstm_classifier_backward": lambda: reference.bilstm_classifier_backward(text, lengths, table, classes,
                                                                                   precision=FLOAT32),
        "rnn_with_bound": lambda: reference.rnn_with_bound(x, layer, FLOAT32, mode=mode, num_layers=2,
                                                           batch_first=True),
        "rnn_backward_with_bound": lambda: reference.rnn_backward_with_bound(
            x, layer, FLOAT32, mode=mode, num_layers=2, batch_first=True, grad_output=np.ones((2, 3, 3)))}
    warned, bounds = [], []
    for name, call in calls.items():
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # an error, not a warning to miss
            try:
                _, bound = call()
            except FloatingPointError as exc:
                warned.append(f"{name}: {exc}")
                continue
        bounds += list(bound.values()) if isinstance(bound, dict) else [bound]
    assert not warned
    assert not all(np.all(np.isfinite(b)) for b in bounds)
