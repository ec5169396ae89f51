"""Numpy references of the two seed models of our origin notes (see conformance.models)."""
import numpy as np

from .bounds import affine_bound, sigmoid_with_bound
from .cells import relu, sigmoid
from .layers import rnn, rnn_with_bound


def _prefixed(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


def _last_layer_hidden(h_n, mode):
    """h_n[-1] of (L*D, B, H), or of the LSTM pair's h_n."""
    return (h_n[0] if mode == "LSTM" else h_n)[-1]


def stacked_regressor(x, weights, mode="RNN_TANH", num_layers=2, precision=None):
    """``fc(h_n[-1])`` of a batch-first stacked RNN/GRU/LSTM: x (B, T, I) -> (B, 1).

    weights: the model's state_dict (``rnn.*``, ``fc.weight`` (1, H), ``fc.bias`` (1,)).
    With a precision, returns (value, error bound)."""
    rnn_weights = _prefixed(weights, "rnn.")
    options = dict(mode=mode, num_layers=num_layers, batch_first=True)
    if precision is None:
        _, h_n = rnn(x, rnn_weights, **options)
        return _last_layer_hidden(h_n, mode) @ weights["fc.weight"].T + weights["fc.bias"]
    (_, h_n), (_, e_h_n) = rnn_with_bound(x, rnn_weights, precision, **options)
    h, e_h = _last_layer_hidden(h_n, mode), _last_layer_hidden(e_h_n, mode)
    value = h @ weights["fc.weight"].T + weights["fc.bias"]
    return value, affine_bound(h, e_h, weights["fc.weight"], weights["fc.bias"], precision, h.shape[1] + 1)


def bilstm_classifier(text, lengths, weights, precision=None):
    """The corrected bidirectional LSTM classifier: text (B, T) token ids, 0 = padding,
    lengths (B,) -> probabilities (B, 1).

        e = embedding[text];  h_n from a batch-first BiLSTM over each sequence's length
        y = sigmoid(fc2(relu(fc1(cat(h_n[-2], h_n[-1])))))

    weights: the model's state_dict (``embedding.weight``, ``rnn.*``, ``fc1.*``, ``fc2.*``).
    With a precision, returns (value, error bound)."""
    embedded = weights["embedding.weight"][np.asarray(text)]
    rnn_weights = _prefixed(weights, "rnn.")
    options = dict(mode="LSTM", bidirectional=True, batch_first=True, lengths=np.asarray(lengths))
    if precision is None:
        _, (h_n, _) = rnn(embedded, rnn_weights, **options)
        hidden = relu(np.concatenate([h_n[-2], h_n[-1]], axis=1) @ weights["fc1.weight"].T + weights["fc1.bias"])
        return sigmoid(hidden @ weights["fc2.weight"].T + weights["fc2.bias"])
    (_, (h_n, _)), (_, (e_h_n, _)) = rnn_with_bound(embedded, rnn_weights, precision, **options)
    features = np.concatenate([h_n[-2], h_n[-1]], axis=1)
    e_features = np.concatenate([e_h_n[-2], e_h_n[-1]], axis=1)
    pre = features @ weights["fc1.weight"].T + weights["fc1.bias"]
    e_pre = affine_bound(features, e_features, weights["fc1.weight"], weights["fc1.bias"], precision,
                         features.shape[1] + 1)
    hidden = relu(pre)
    logit = hidden @ weights["fc2.weight"].T + weights["fc2.bias"]
    e_logit = affine_bound(hidden, e_pre, weights["fc2.weight"], weights["fc2.bias"], precision,
                           hidden.shape[1] + 1)
    return sigmoid_with_bound(logit, e_logit, precision)
