"""The oracle against cases computed by hand with scalar math (no numpy in the expectation)."""
import math

import numpy as np
import pytest

import reference


def sig(a):
    return 1.0 / (1.0 + math.exp(-a))


def arr(*values):
    return np.array(values, dtype=np.float64)


def test_tanh_rnn_two_steps_by_hand():
    w = {"weight_ih_l0": arr([0.3]), "weight_hh_l0": arr([-0.7]), "bias_ih_l0": arr(0.1), "bias_hh_l0": arr(0.2)}
    w = {k: v.reshape((1, 1)) if k.startswith("weight") else v.reshape(1) for k, v in w.items()}
    out, h_n = reference.rnn(arr(0.5, -1.0).reshape(2, 1), w, mode="RNN_TANH")
    h1 = math.tanh(0.3 * 0.5 + 0.1 + 0.2)
    h2 = math.tanh(0.3 * -1.0 + 0.1 - 0.7 * h1 + 0.2)
    assert out[:, 0].tolist() == pytest.approx([h1, h2], abs=1e-15)
    assert h_n[0, 0] == pytest.approx(h2, abs=1e-15)


def test_relu_rnn_clips_negative_preactivation_by_hand():
    w = {"weight_ih_l0": np.array([[2.0]]), "weight_hh_l0": np.array([[-3.0]])}
    out, _ = reference.rnn(arr(1.0, 1.0, 1.0).reshape(3, 1), w, mode="RNN_RELU")
    # h1 = relu(2) = 2; h2 = relu(2 - 6) = 0; h3 = relu(2 - 0) = 2
    assert out[:, 0].tolist() == [2.0, 0.0, 2.0]


def test_gru_applies_reset_after_the_hidden_matmul_by_hand():
    # blocks r, z, n; one unit; h0 = 0.5
    w_ih, w_hh = arr(0.1, 0.2, 0.3), arr(0.4, 0.5, 0.6)
    b_ih, b_hh = arr(0.01, 0.02, 0.03), arr(0.04, 0.05, 0.06)
    w = {"weight_ih_l0": w_ih.reshape(3, 1), "weight_hh_l0": w_hh.reshape(3, 1), "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    x, h = 2.0, 0.5
    r = sig(0.1 * x + 0.01 + 0.4 * h + 0.04)
    z = sig(0.2 * x + 0.02 + 0.5 * h + 0.05)
    n = math.tanh(0.3 * x + 0.03 + r * (0.6 * h + 0.06))
    expected = (1 - z) * n + z * h
    _, h_n = reference.rnn(np.array([[x]]), w, mode="GRU", hx=np.array([[h]]))
    assert h_n[0, 0] == pytest.approx(expected, abs=1e-15)
    reset_before = math.tanh(0.3 * x + 0.03 + 0.6 * (r * h) + 0.06)
    assert abs(h_n[0, 0] - ((1 - z) * reset_before + z * h)) > 1e-4


def test_lstm_gate_order_and_projection_by_hand():
    # H = 2, P = 1, I = 1: gate blocks i, f, g, o of two rows each
    w_ih = arr(0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8).reshape(8, 1)
    w_hh = arr(0.2, 0.1, -0.3, 0.5, 0.4, -0.6, 0.3, 0.2).reshape(8, 1)
    w_hr = arr(0.9, -1.1).reshape(1, 2)
    x, h0, c0 = 1.5, 0.25, (0.3, -0.4)
    pre = [w_ih[k, 0] * x + w_hh[k, 0] * h0 for k in range(8)]
    i = [sig(pre[0]), sig(pre[1])]
    f = [sig(pre[2]), sig(pre[3])]
    g = [math.tanh(pre[4]), math.tanh(pre[5])]
    o = [sig(pre[6]), sig(pre[7])]
    c = [f[k] * c0[k] + i[k] * g[k] for k in range(2)]
    h_full = [o[k] * math.tanh(c[k]) for k in range(2)]
    h = 0.9 * h_full[0] - 1.1 * h_full[1]
    w = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "weight_hr_l0": w_hr}
    out, (h_n, c_n) = reference.rnn(np.array([[x]]), w, mode="LSTM", hx=(np.array([[h0]]), np.array([c0])), proj_size=1)
    assert out[0, 0] == pytest.approx(h, abs=1e-15) and h_n[0, 0] == pytest.approx(h, abs=1e-15)
    assert c_n[0].tolist() == pytest.approx(c, abs=1e-15)


def _scalar_rnn(xs, w_ih, w_hh, h=0.0):
    states = []
    for x in xs:
        h = math.tanh(w_ih * x + w_hh * h)
        states.append(h)
    return states


def test_packed_bidirectional_runs_each_sequence_over_its_own_length_by_hand():
    w = {"weight_ih_l0": np.array([[0.5]]), "weight_hh_l0": np.array([[0.8]]),
         "weight_ih_l0_reverse": np.array([[-0.6]]), "weight_hh_l0_reverse": np.array([[0.3]])}
    x = np.array([[[1.0], [2.0]], [[-1.0], [99.0]], [[0.5], [99.0]]])  # (T=3, B=2, 1); seq 1 has length 1
    out, h_n = reference.rnn(x, w, mode="RNN_TANH", bidirectional=True, lengths=[3, 1])
    fwd0, bwd0 = _scalar_rnn([1.0, -1.0, 0.5], 0.5, 0.8), _scalar_rnn([0.5, -1.0, 1.0], -0.6, 0.3)[::-1]
    fwd1, bwd1 = _scalar_rnn([2.0], 0.5, 0.8), _scalar_rnn([2.0], -0.6, 0.3)
    assert out[:, 0, 0].tolist() == pytest.approx(fwd0, abs=1e-15)
    assert out[:, 0, 1].tolist() == pytest.approx(bwd0, abs=1e-15)
    assert out[:, 1].ravel().tolist() == pytest.approx([fwd1[0], bwd1[0], 0.0, 0.0, 0.0, 0.0], abs=1e-15)
    assert h_n[:, 0, 0].tolist() == pytest.approx([fwd0[-1], bwd0[0]], abs=1e-15)
    assert h_n[:, 1, 0].tolist() == pytest.approx([fwd1[0], bwd1[0]], abs=1e-15)


def test_layers_and_directions_order_h_n_layer_major_by_hand():
    w = {}
    for layer, in_size in ((0, 1), (1, 2)):
        for suffix, scale in (("", 0.5), ("_reverse", -0.25)):
            w[f"weight_ih_l{layer}{suffix}"] = np.full((1, in_size), scale * (layer + 1))
            w[f"weight_hh_l{layer}{suffix}"] = np.array([[0.1]])
    h0 = np.array([[[0.1]], [[0.2]], [[0.3]], [[0.4]]])
    x = np.array([[[1.0]], [[2.0]]])
    out, h_n = reference.rnn(x, w, mode="RNN_TANH", num_layers=2, bidirectional=True, hx=h0)
    f0 = _scalar_rnn([1.0, 2.0], 0.5, 0.1, 0.1)
    b0 = _scalar_rnn([2.0, 1.0], -0.25, 0.1, 0.2)[::-1]
    layer1_in = [f0[t] + b0[t] for t in range(2)]  # both weights of a row are equal
    f1 = _scalar_rnn(layer1_in, 1.0, 0.1, 0.3)
    b1 = _scalar_rnn(layer1_in[::-1], -0.5, 0.1, 0.4)[::-1]
    assert h_n[:, 0, 0].tolist() == pytest.approx([f0[-1], b0[0], f1[-1], b1[0]], abs=1e-15)
    assert out[:, 0].ravel().tolist() == pytest.approx([f1[0], b1[0], f1[1], b1[1]], abs=1e-15)


def test_layouts_agree_batch_first_unbatched_and_zero_hx():
    rng = np.random.default_rng(0)
    w = {"weight_ih_l0": rng.normal(size=(8, 3)), "weight_hh_l0": rng.normal(size=(8, 2)),
         "bias_ih_l0": rng.normal(size=8), "bias_hh_l0": rng.normal(size=8)}
    x = rng.normal(size=(4, 1, 3))
    out, (h, c) = reference.rnn(x, w, mode="LSTM")
    out_bf, _ = reference.rnn(x.transpose(1, 0, 2), w, mode="LSTM", batch_first=True)
    out_ub, (h_ub, _) = reference.rnn(x[:, 0], w, mode="LSTM")
    out_zero, _ = reference.rnn(x, w, mode="LSTM", hx=(np.zeros((1, 1, 2)), np.zeros((1, 1, 2))))
    assert np.array_equal(out_bf.transpose(1, 0, 2), out) and np.array_equal(out_ub, out[:, 0])
    assert np.array_equal(h_ub, h[:, 0]) and np.array_equal(out_zero, out)


@pytest.mark.parametrize("a", [-745.0, -700.0, -60.0, -1e-3, 0.0, 30.0, 710.0])
def test_sigmoid_is_accurate_where_it_is_tiny(a):
    expected = math.exp(a) / (1.0 + math.exp(a)) if a < 0 else 1.0 / (1.0 + math.exp(-a))
    with np.errstate(over="ignore"):  # as reference.rnn calls it
        assert reference.sigmoid(np.float64(a)) == pytest.approx(expected, rel=4e-16)


@pytest.mark.parametrize("bad, message", [
    (dict(mode="LSTM_X"), "mode="), (dict(num_layers=0), "num_layers="),
    (dict(lengths=[0]), "lengths"), (dict(hx=np.zeros((2, 1, 2))), "h0 has shape")])
def test_invalid_arguments_are_named(bad, message):
    w = {"weight_ih_l0": np.zeros((2, 1)), "weight_hh_l0": np.zeros((2, 2))}
    with pytest.raises(ValueError, match=message):
        reference.rnn(np.zeros((1, 1, 1)), w, **{"mode": "RNN_TANH", **bad})
