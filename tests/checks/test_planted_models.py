"""Planted bugs in the seed models' own code (not in the recurrent layer): the models family
must reject each, and only its gradient checks can see those that leave the forward intact."""
import warnings

import pytest
from torch import nn

from conformance import models
from conformance.run import session
from conformance.checks import models as model_checks
from conformance.run.options import resolve


class ClassifierEmbeddingWithoutPaddingIdx(models.BiLSTMClassifier):
    """The embedding forgets padding_idx=0: the padding row (zero) gets a gradient."""

    def __init__(self, vocab_size, embed_dim, *args, **kwargs):
        super().__init__(vocab_size, embed_dim, *args, **kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_dim)


class ClassifierEmbeddingScalesGradientByFrequency(models.BiLSTMClassifier):
    """scale_grad_by_freq=True: a repeated token's rows get the average, not the sum."""

    def __init__(self, vocab_size, embed_dim, *args, **kwargs):
        super().__init__(vocab_size, embed_dim, *args, **kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0, scale_grad_by_freq=True)


class RegressorDetachesHidden(models.StackedRegressor):
    """The head reads h_n[-1].detach(): the same prediction, no gradient into the layers."""

    def forward(self, x):
        _, hidden = self.rnn(x)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
        return self.fc(hidden[-1].detach())


class RegressorHeadGradientHalved(models.StackedRegressor):
    """A hook halves the gradient reaching h_n[-1] (a custom backward gone wrong)."""

    def forward(self, x):
        _, hidden = self.rnn(x)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
        last = hidden[-1]
        if last.requires_grad:
            last.register_hook(lambda g: g * 0.5)
        return self.fc(last)


PLANTED = {  # bug -> (model class it replaces, impl it is built on)
    ClassifierEmbeddingWithoutPaddingIdx: ("BiLSTMClassifier", "torch.nn.LSTM"),
    ClassifierEmbeddingScalesGradientByFrequency: ("BiLSTMClassifier", "torch.nn.LSTM"),
    RegressorDetachesHidden: ("StackedRegressor", "torch.nn.GRU"),
    RegressorHeadGradientHalved: ("StackedRegressor", "torch.nn.RNN"),
}


def run_models(impl, dtypes):
    options = resolve({"impl": impl, "devices": "cpu", "dtypes": dtypes, "seed": "0", "checks": "models"})
    targets = session.targets_for(options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return [row.run() for row in session.plan(options, targets, 0)]


@pytest.mark.parametrize("bug", list(PLANTED), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_planted_model_bug_is_rejected_by_its_gradient_check(bug, dtype, monkeypatch):
    replaced, impl = PLANTED[bug]
    monkeypatch.setattr(model_checks, replaced, bug)
    results = run_models(impl, dtype)
    failed = {r.check for r in results if r.status == "failed"}
    gradient_check = ("bilstm_classifier" if replaced == "BiLSTMClassifier" else "stacked_regressor") + \
        "_gradients_match_oracle"
    assert gradient_check in failed, f"{bug.__name__}: {[(r.check, r.status) for r in results]}"
    assert not failed - {gradient_check}, "the forward is intact: only the gradient check can see it"
    message = next(r.message for r in results if r.check == gradient_check)
    assert "worst element: grad " in message and "replay: rnn-conformance" in message


def test_the_correct_models_pass_forward_and_backward():
    for impl in ("torch.nn.RNN", "torch.nn.GRU", "torch.nn.LSTM"):
        results = run_models(impl, "float64,float32")
        assert [(r.check, r.message) for r in results if r.status != "passed"] == []
        assert {r.check for r in results} >= {"stacked_regressor_gradients_match_oracle"}
        assert all(r.target == impl and r.examples > 0 and r.compared for r in results)  # compared, not vacuous
    for replaced in {name for name, _ in PLANTED.values()}:  # the checks built the shipped models, not a plant
        assert getattr(model_checks, replaced) is getattr(models, replaced)
