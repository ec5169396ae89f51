"""Numpy references of the two seed models of our origin notes (see conformance.models).

The heads are written once with the primitives of ``reference.arithmetic``: on arrays they
give the values, on bounded numbers the same lines give the bounds."""
import numpy as np

from .arithmetic import Affine, Arithmetic, concat, error_of, linear, relu, sigmoid, stack, value_of
from .layers import _arguments, _bounded, _Recorded, _run, quiet


def _prefixed(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


def _final_hidden(x, weights, arith, **options):
    """h_n (L*D, B, P) of the model's recurrent layers (arrays, or Nums of ``arith``)."""
    layout, x, state0, lengths = _arguments(x, weights, hx=None, proj_size=None, **options)
    _, finals, _ = _run(layout, x, weights, state0, lengths, arith)
    return finals[0]


def _result(y, precision):
    return value_of(y) if precision is None else (value_of(y), error_of(y))


@quiet
def stacked_regressor(x, weights, mode="RNN_TANH", num_layers=2, precision=None):
    """``fc(h_n[-1])`` of a batch-first stacked RNN/GRU/LSTM: x (B, T, I) -> (B, 1).

    weights: the model's state_dict (``rnn.*``, ``fc.weight`` (1, H), ``fc.bias`` (1,)).
    With a precision, returns (value, error bound)."""
    arith = None if precision is None else _bounded(precision)
    h_n = _final_hidden(x, _prefixed(weights, "rnn."), arith, mode=mode, num_layers=num_layers,
                        bidirectional=False, batch_first=True, lengths=None)
    return _result(linear(h_n[-1], Affine(weights["fc.weight"], weights["fc.bias"])), precision)


@quiet
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


@quiet
def stacked_regressor_backward(x, weights, grad_output, mode="RNN_TANH", num_layers=2, precision=None):
    """Gradients of ``sum(grad_output * stacked_regressor(x, weights))``: ``"input"`` (B, T, I)
    and one entry per parameter, keyed like ``weights``.  With a precision, returns
    (gradients, bounds)."""
    if precision is not None:
        _bounded(precision)
    recorded = _Recorded(x, _prefixed(weights, "rnn."), precision, mode, num_layers, False, True, None, None)
    fc = Affine(weights["fc.weight"], weights["fc.bias"], names=("fc.weight", "fc.bias"))
    (d_last,) = _through_head(recorded, lambda h: (linear(h[0], fc),), [recorded.finals[0][-1]], grad_output)
    d_h_n = stack([recorded.arith.zeros(np.shape(value_of(d_last)))] * (num_layers - 1) + [d_last])
    grads, bounds = _model_gradients(*_through_layers(recorded, d_h_n), [fc], precision)
    return grads if precision is None else (grads, bounds)


@quiet
def bilstm_classifier_backward(text, lengths, weights, grad_output, precision=None):
    """Gradients of ``sum(grad_output * bilstm_classifier(text, lengths, weights))`` for every
    parameter, keyed like ``weights``.  ``embedding.weight`` gets the sum of its rows' uses:
    a token used twice gets both, an unused token nothing, the padding index 0 nothing (it
    is ``padding_idx``).  With a precision, returns (gradients, bounds)."""
    if precision is not None:
        _bounded(precision)
    table = np.asarray(weights["embedding.weight"], dtype=np.float64)
    text = np.asarray(text)
    recorded = _Recorded(table[text], _prefixed(weights, "rnn."), precision, "LSTM", 1, True, True, None,
                         np.asarray(lengths))
    fc1 = Affine(weights["fc1.weight"], weights["fc1.bias"], names=("fc1.weight", "fc1.bias"))
    fc2 = Affine(weights["fc2.weight"], weights["fc2.bias"], names=("fc2.weight", "fc2.bias"))
    h_n = recorded.finals[0]
    head = lambda h: (sigmoid(linear(relu(linear(concat(list(h), axis=1), fc1)), fc2)),)
    d_forward, d_backward = _through_head(recorded, head, [h_n[-2], h_n[-1]], grad_output)
    grads, bounds = _model_gradients(*_through_layers(recorded, stack([d_forward, d_backward])), [fc1, fc2],
                                     precision)
    d_embedded, e_embedded = grads.pop("input"), None if bounds is None else bounds.pop("input")
    grads["embedding.weight"], bound = _embedding_gradient(text, d_embedded, e_embedded, table.shape, precision)
    if bounds is not None:
        bounds["embedding.weight"] = bound
    return grads if precision is None else (grads, bounds)


def _through_head(recorded, head, features, grad_output):
    """Gradients of the head's inputs ``features`` (the recurrent layers' results), recorded
    in the run's arithmetic so that bounds carry on into the layers."""
    heading = recorded.arith.recording()
    leaves = [heading.adopt(f) for f in features]
    outputs = head(leaves)
    upstream = [recorded.arith.exact(grad_output)]
    grads = heading.tape.backward(Arithmetic(recorded.precision), outputs, upstream, leaves)
    return [recorded.arith.zeros(leaf.shape) if d is None else d for d, leaf in zip(grads, leaves)]


def _through_layers(recorded, d_h_n):
    """The recurrent layers' gradients given d(h_n) (nothing flows into output or c_n)."""
    arith = recorded.arith
    d_finals = [d_h_n] + [arith.zeros(s.shape) for s in recorded.state0[1:]]
    return recorded.backward(arith.zeros(recorded.output.shape), d_finals)


def _model_gradients(grads, bounds, heads, precision):
    """(gradients, bounds or None): the layers' under the model's names (``rnn.`` prefixed,
    the initial states dropped: the models start from zeros), with the heads' added."""
    def rename(table):
        return {("rnn." + k if k != "input" else k): v for k, v in table.items() if k not in ("h0", "c0")}
    grads = rename(grads)
    bounds = None if bounds is None else rename(bounds)
    for affine in heads:
        for name, (value, bound) in affine.gradients(precision).items():
            grads[name] = value
            if bounds is not None:
                bounds[name] = bound
    return grads, bounds


def _embedding_gradient(text, d_embedded, e_embedded, shape, precision, padding_idx=0):
    """Each row's gradient, the sum of the gradients at the positions its token fills (none
    for ``padding_idx``); the bound charges one rounding per term of each row's sum."""
    ids = text.reshape(-1)
    used = ids != padding_idx
    rows, d = ids[used], d_embedded.reshape(-1, shape[1])[used]
    value = np.zeros(shape)
    np.add.at(value, rows, d)
    if precision is None:
        return value, None
    magnitude, error = np.zeros(shape), np.zeros(shape)
    np.add.at(magnitude, rows, np.abs(d))
    np.add.at(error, rows, e_embedded.reshape(-1, shape[1])[used])
    counts = np.bincount(rows, minlength=shape[0])[:, None]
    return value, counts * precision.storage * magnitude + error + precision.underflow
