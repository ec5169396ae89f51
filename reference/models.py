"""Numpy references of the two seed models of our origin notes (see conformance.models).

The heads are written once with the primitives of ``reference.arithmetic``: on arrays they
give the values, on bounded numbers the same lines give the bounds."""
import numpy as np

from .arithmetic import Affine, concat, error_of, linear, relu, sigmoid, value_of
from .layers import _arguments, _bounded, _run


def _prefixed(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


def _final_hidden(x, weights, arith, **options):
    """h_n (L*D, B, P) of the model's recurrent layers (arrays, or Nums of ``arith``)."""
    layout, x, state0, lengths = _arguments(x, weights, hx=None, proj_size=None, **options)
    with np.errstate(over="ignore", invalid="ignore"):
        _, finals, _ = _run(layout, x, weights, state0, lengths, arith)
    return finals[0]


def _result(y, precision):
    return value_of(y) if precision is None else (value_of(y), error_of(y))


def stacked_regressor(x, weights, mode="RNN_TANH", num_layers=2, precision=None):
    """``fc(h_n[-1])`` of a batch-first stacked RNN/GRU/LSTM: x (B, T, I) -> (B, 1).

    weights: the model's state_dict (``rnn.*``, ``fc.weight`` (1, H), ``fc.bias`` (1,)).
    With a precision, returns (value, error bound)."""
    arith = None if precision is None else _bounded(precision)
    h_n = _final_hidden(x, _prefixed(weights, "rnn."), arith, mode=mode, num_layers=num_layers,
                        bidirectional=False, batch_first=True, lengths=None)
    return _result(linear(h_n[-1], Affine(weights["fc.weight"], weights["fc.bias"])), precision)


def bilstm_classifier(text, lengths, weights, precision=None):
    """The corrected bidirectional LSTM classifier: text (B, T) token ids, 0 = padding,
    lengths (B,) -> probabilities (B, 1).

        e = embedding[text];  h_n from a batch-first BiLSTM over each sequence's length
        y = sigmoid(fc2(relu(fc1(cat(h_n[-2], h_n[-1])))))

    weights: the model's state_dict (``embedding.weight``, ``rnn.*``, ``fc1.*``, ``fc2.*``).
    With a precision, returns (value, error bound)."""
    arith = None if precision is None else _bounded(precision)
    embedded = np.asarray(weights["embedding.weight"], dtype=np.float64)[np.asarray(text)]
    h_n = _final_hidden(embedded, _prefixed(weights, "rnn."), arith, mode="LSTM", num_layers=1,
                        bidirectional=True, batch_first=True, lengths=np.asarray(lengths))
    hidden = relu(linear(concat([h_n[-2], h_n[-1]], axis=1), Affine(weights["fc1.weight"], weights["fc1.bias"])))
    return _result(sigmoid(linear(hidden, Affine(weights["fc2.weight"], weights["fc2.bias"]))), precision)
