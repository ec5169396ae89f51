"""The recurrences published lately (minGRU, minLSTM, sLSTM, RG-LRU, CfC, SRU), checked against
truths that come neither from the oracle nor from torch, and the suite checked on them:

* one step of each computed by hand from the paper's equations (Python floats and ``math``);
* the oracle's backward against central finite differences of its forward;
* minGRU's and minLSTM's parallel form (a log-space scan in numpy) equal to the step loop in float64;
* sLSTM's h invariant to its stabilizer (its states rescaled by exp(m) describe the same LSTM);
* the worked examples pass the suite (sLSTM with its four states too), every planted bug fails
  it (a check named), also under a scan declaration sixteen times the examples'; a frozen mask
  is left alone only when declared;
* sLSTM's layer against the oracle directly as well, values and gradients, n_n and m_n included.
"""
import math

import numpy as np
import pytest
import torch

import reference
from examples.cfc_variant import CFC
from examples.min_rnn_variant import MINGRU, MINGRU_LOG, MINLSTM, MINLSTM_LOG
from examples.rglru_variant import RGLRU
from examples.slstm import SLSTM as SLSTMLayer
from examples.slstm_variant import SLSTM
from examples.sru_variant import SRU
from tests.checks import test_planted_bugs as planted_bugs
from tests.planted import modern
from tests import sweep

sig = lambda a: 1.0 / (1.0 + math.exp(-a))


def _one_step(variant, weights, x, hx=None, side=None):
    """The oracle's one step of a one-layer, one-unit layer on a scalar input."""
    layer = {k + "_l0": np.array(v, dtype=np.float64).reshape(variant.shapes(1, 1, sizes={"U": 1})[k])
             for k, v in weights.items()}
    if hx is not None:
        hx = tuple(np.full((1, 1, 1), v) for v in hx) if len(hx) > 1 else np.full((1, 1, 1), hx[0])
    side = None if side is None else {name: np.full((1, 1), v) for name, v in side.items()}
    out, state = reference.rnn(np.full((1, 1, 1), x), layer, mode=variant, hx=hx, side=side)
    return [float(s[0, 0, 0]) for s in (state if variant.paired else (state,))]


def test_mingru_and_minlstm_steps_by_hand():
    w = dict(weight_ih=[0.7, -1.3], bias_ih=[0.2, 0.4])
    z, v = sig(0.7 * 0.5 + 0.2), -1.3 * 0.5 + 0.4  # v < 0: g is the logistic branch
    assert _one_step(MINGRU, w, 0.5, hx=(0.3,)) == pytest.approx([(1 - z) * 0.3 + z * sig(v)], rel=1e-14)
    v = -1.3 * -0.5 + 0.4  # v >= 0: g(v) = v + 1/2
    z = sig(0.7 * -0.5 + 0.2)
    assert _one_step(MINGRU, w, -0.5, hx=(0.3,)) == pytest.approx([(1 - z) * 0.3 + z * (v + 0.5)], rel=1e-14)
    w = dict(weight_ih=[0.7, -0.2, 0.9], bias_ih=[0.1, 0.3, -0.4])
    f, i, v = sig(0.7 * 0.5 + 0.1), sig(-0.2 * 0.5 + 0.3), 0.9 * 0.5 - 0.4
    assert _one_step(MINLSTM, w, 0.5, hx=(0.3,)) == pytest.approx([f / (f + i) * 0.3 + i / (f + i) * (v + 0.5)],
                                                                  rel=1e-14)


def test_rglru_step_by_hand():
    w = dict(weight_ih=[0.6, -0.4, 1.1], weight_lambda=[1.5], bias_ih=[0.1, 0.2, -0.3])
    r, i, u = sig(0.6 * 0.8 + 0.1), sig(-0.4 * 0.8 + 0.2), 1.1 * 0.8 - 0.3
    a = sig(1.5) ** (8 * r)
    assert _one_step(RGLRU, w, 0.8, hx=(0.5,)) == pytest.approx([a * 0.5 + math.sqrt(1 - a * a) * i * u], rel=1e-14)


def test_cfc_step_by_hand():
    w = dict(weight_ih=[0.5], weight_hh=[-0.7], bias_ih=[0.2], weight_ff1=[0.9], weight_ff2=[-1.1],
             weight_ta=[0.4], weight_tb=[0.3], bias_ff1=[0.1], bias_ff2=[-0.2], bias_ta=[0.05], bias_tb=[-0.1])
    b = 1.7159 * math.tanh(0.666 * (0.5 * 1.2 + 0.2 - 0.7 * 0.4))
    f1, f2 = math.tanh(0.9 * b + 0.1), math.tanh(-1.1 * b - 0.2)
    s = sig((0.4 * b + 0.05) * 0.7 + 0.3 * b - 0.1)
    assert _one_step(CFC, w, 1.2, hx=(0.4,), side={"timespans": 0.7}) == pytest.approx([f1 * (1 - s) + s * f2],
                                                                                     rel=1e-14)


def test_sru_step_by_hand():
    w = dict(weight_ih=[0.8, -0.5, 0.3], weight_hw=[1.4], weight_c=[0.6, -0.9], bias_ih=[0.1, 0.2, -0.1])
    x, c0 = 0.7, 0.25
    f, r = sig(-0.5 * x + 0.2 + 0.6 * c0), sig(0.3 * x - 0.1 - 0.9 * c0)
    c1 = f * c0 + (1 - f) * (0.8 * x + 0.1)
    assert _one_step(SRU, w, x, hx=(9.0, c0)) == pytest.approx([r * c1 + (1 - r) * 1.4 * x, c1], rel=1e-14)


def test_slstm_step_by_hand():
    w = dict(weight_ih=[0.5, 1.5, -0.3, 0.8], weight_hh=[0.2, -0.1, 0.4, 0.3], bias_ih=[0.1, 0.0, 0.2, -0.1],
             bias_hh=[0.0, 0.3, 0.0, 0.1])
    x, h0, c0, n0, m0 = 0.9, 0.2, -0.4, 1.3, 0.6
    i_, f_, z_, o_ = (a * x + b1 + r * h0 + b2 for a, r, b1, b2 in zip(*w.values()))
    m1 = max(f_ + m0, i_)
    i, f = math.exp(i_ - m1), math.exp(f_ + m0 - m1)
    c1, n1 = f * c0 + i * math.tanh(z_), f * n0 + i
    assert _one_step(SLSTM, w, x, hx=(h0, c0, n0, m0)) == pytest.approx([sig(o_) * c1 / n1, c1, n1, m1], rel=1e-14)


def _layer_weights(variant, rng, input_size=2, hidden=3, scale=0.6):
    sizes = {"U": 4}
    return {k + suffix: rng.uniform(-scale, scale, shape)
            for suffix in ("_l0", "_l0_reverse") for k, shape in variant.shapes(input_size, hidden, sizes=sizes).items()}


def _hx(variant, rng, shape=(2, 2, 3)):
    parts = tuple(rng.uniform(0.2, 1.5, shape) if variant.domain(s) != "real" else rng.uniform(-1, 1, shape)
                  for s in variant.states)
    return parts if variant.paired else parts[0]


@pytest.mark.parametrize("variant", [MINGRU, MINLSTM, RGLRU, CFC, SRU, SLSTM], ids=lambda v: v.name)
def test_the_oracles_backward_equals_finite_differences(variant):
    rng = np.random.default_rng(7)
    weights, hx = _layer_weights(variant, rng), _hx(variant, rng)
    x = rng.standard_normal((3, 2, 2))
    side = {"timespans": rng.uniform(0.3, 2.0, (3, 2))} if variant.side_inputs else None
    options = dict(mode=variant, bidirectional=True, hx=hx, side=side)
    upstream = rng.standard_normal((3, 2, 6))
    grads = reference.rnn_backward(x, weights, grad_output=upstream, **options)

    def loss(x_, w_):
        return float(np.sum(upstream * reference.rnn(x_, w_, **options)[0]))
    step = 1e-6
    for name in ["input"] + sorted(weights):
        target = x if name == "input" else weights[name]
        numeric = np.zeros_like(target)
        for index in np.ndindex(target.shape):
            saved = target[index]
            target[index] = saved + step
            up = loss(x, weights)
            target[index] = saved - step
            numeric[index] = (up - loss(x, weights)) / (2 * step)
            target[index] = saved
        assert np.allclose(grads[name], numeric, rtol=1e-6, atol=1e-8), name


def _heinsen_scan(log_a, log_b, h0):
    """Heinsen's log-space parallel scan, in numpy: h_t = a_t h_{t-1} + b_t."""
    a_star = np.cumsum(log_a, axis=0)
    terms = np.concatenate([np.log(h0)[None], log_b - a_star])
    return np.exp(a_star + np.logaddexp.accumulate(terms, axis=0)[1:])


@pytest.mark.parametrize("variant", [MINGRU_LOG, MINLSTM_LOG], ids=lambda v: v.name)
def test_the_parallel_form_equals_the_step_loop_in_float64(variant):
    rng = np.random.default_rng(3)
    weights = {k: v for k, v in _layer_weights(variant, rng, scale=1.5).items() if k.endswith("_l0")}
    x, h0 = rng.standard_normal((40, 2, 2)), rng.uniform(0.1, 2.0, (1, 2, 3))
    loop, _ = reference.rnn(x, weights, mode=variant, hx=h0)
    gx = x @ weights["weight_ih_l0"].T + weights["bias_ih_l0"]
    softplus = lambda a: np.logaddexp(0.0, a)
    log_g = lambda v: np.where(v >= 0, np.log(np.maximum(v, 0) + 0.5), -softplus(-v))
    if variant is MINGRU_LOG:
        k, v = np.split(gx, 2, axis=-1)
        log_a, log_b = -softplus(k), -softplus(-k) + log_g(v)
    else:
        k_f, k_i, v = np.split(gx, 3, axis=-1)
        log_f, log_i = -softplus(-k_f), -softplus(-k_i)
        log_a, log_b = log_f - np.logaddexp(log_f, log_i), log_i - np.logaddexp(log_f, log_i) + log_g(v)
    assert np.allclose(_heinsen_scan(log_a, log_b, h0[0]), loop, rtol=1e-11, atol=0)


def test_slstm_output_is_invariant_to_its_stabilizer():
    """(c, n, m) and (c e^-d, n e^-d, m + d) are the same unstabilized state: h must not change."""
    rng = np.random.default_rng(5)
    weights = {k: v for k, v in _layer_weights(SLSTM, rng).items() if k.endswith("_l0")}
    x = rng.standard_normal((6, 2, 2))
    h0, c0, n0, m0 = (rng.uniform(-1, 1, (1, 2, 3)), rng.uniform(-1, 1, (1, 2, 3)), rng.uniform(0.5, 2, (1, 2, 3)),
                      rng.uniform(-1, 1, (1, 2, 3)))
    first, _ = reference.rnn(x, weights, mode=SLSTM, hx=(h0, c0, n0, m0))
    d = 2.5
    second, _ = reference.rnn(x, weights, mode=SLSTM, hx=(h0, c0 * math.exp(-d), n0 * math.exp(-d), m0 + d))
    assert np.allclose(first, second, rtol=1e-12, atol=1e-14) and not np.allclose(first, 0.0)


def test_a_state_outside_its_domain_is_refused_by_the_oracle():
    weights = {k + "_l0": np.ones(s) for k, s in MINGRU_LOG.shapes(1, 1).items()}
    with pytest.raises(ValueError, match="h0 must be positive for variant MINGRU_LOG"):
        reference.rnn(np.ones((1, 1, 1)), weights, mode=MINGRU_LOG, hx=-np.ones((1, 1, 1)))


@pytest.mark.parametrize("fields, words", [
    (dict(sizes=(("H", "width"),)), "expected one capital letter other than I, H and P"),
    (dict(sizes=(("U", "units"),)), "size 'U' is named in sizes but no parameter's shape has it"),
    (dict(domains={"h": "odd"}), "expected {state: domain}"),
    (dict(side_inputs=(("x", "positive"),)), "side input 'x'"),
    (dict(frozen=("weight_q",)), "frozen=('weight_q',) names ['weight_q']"),
    (dict(parameters=(("weight_ih", ("H", "I")), ("weight_v", ("V",)))), "parameter weight_v has shape"),
])
def test_a_record_with_a_mistake_says_it_in_one_line(fields, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]").replace("{", r"\{").replace("}", r"\}")) as caught:
        reference.Variant("BAD", gates=1, states=("h",), step=lambda gx, h, w: (h,), **fields)
    assert "\n" not in str(caught.value)


# --- the suite on them --------------------------------------------------------------------------

def _impl(cls):
    return f"{cls.__module__}:{cls.__name__}"


@pytest.mark.parametrize("layer", sweep(modern.CORRECT), ids=lambda c: c.__name__)
def test_each_worked_example_passes_every_check_that_applies(layer):
    results = planted_bugs.run(_impl(layer), "float64,float32", False)
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    passed = [r for r in results if r.status == "passed"]
    assert len(passed) >= 40 and all(r.examples > 0 for r in passed)
    assert {"parity", "packing", "gradients", "metamorphic", "contract"} <= {r.family for r in passed}


SUITE_BUGS = [bug for bug, _ in modern.PLANTED]


@pytest.mark.parametrize("bug", sweep(SUITE_BUGS, fast=5), ids=lambda c: c.__name__)
def test_each_planted_bug_of_a_worked_example_fails_a_named_check(bug):
    results = planted_bugs.run(_impl(bug), "float64", True)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"{bug.__name__} ({bug.__doc__.strip()}) passed every check"
    assert failed[0].check in failed[0].message and f"target={_impl(bug)}" in failed[0].message


SCAN_BUGS = [bug for bug in SUITE_BUGS if issubclass(bug, (modern.MinGRUScan, modern.MinLSTMScan))]


@pytest.mark.parametrize("bug", SCAN_BUGS, ids=lambda c: c.__name__)
def test_a_scan_declaration_does_not_blind_the_suite(bug):
    """Declared 64 roundoffs per step and unit (16 times the examples' 4), every scan bug still fails."""
    results = planted_bugs.run(_impl(bug), "float64", True, **{"scan-error": 64.0})
    assert any(r.status == "failed" for r in results), bug.__name__


def test_a_frozen_mask_is_left_alone_only_when_declared():
    declared = planted_bugs.run("tests.planted.frozen:MaskedRNN", "float64", False, checks="contract,gradients")
    assert [r.message for r in declared if r.status not in ("passed", "unsupported")] == []
    undeclared = planted_bugs.run("tests.planted.frozen:UndeclaredMaskedRNN", "float64", False,
                                  checks="parameters_named_like_torch")
    assert [r.status for r in undeclared] == ["failed"] and "weight_mask_l0" in undeclared[0].message


def test_a_variant_of_four_states_has_each_state_compared_by_name():
    """sLSTM's n_n and m_n are compared like h_n and c_n (and a layer returning two is refused)."""
    results = planted_bugs.run(_impl(SLSTMLayer), "float64", False, checks="forward_matches_oracle")
    assert results[0].status == "passed"
    short = planted_bugs.run("tests.planted.modern:SLSTMReturnsTwoStates", "float64", True,
                             checks="forward_matches_oracle")
    assert short[0].status == "failed" and "expected the tuple (h_n, c_n, n_n, m_n)" in short[0].message


# --- sLSTM against the oracle directly ------------------------------------------------------------

SLSTM_CONFIGS = [dict(num_layers=2, bidirectional=True), dict(batch_first=True), dict(lengths=[4, 2, 3]),
                 dict(num_layers=2, hx=True), dict(unbatched=True)]


def _slstm_run(layer_class, options, seed=0):
    """(the layer's output and states, the oracle's, the layer's gradients and the oracle's) in float64."""
    rng = np.random.default_rng(seed)
    layers, directions = options.get("num_layers", 1), 2 if options.get("bidirectional") else 1
    layer = layer_class(2, 3, num_layers=layers, bidirectional=directions == 2,
                        batch_first=options.get("batch_first", False)).double()
    weights = {k: rng.uniform(-0.8, 0.8, tuple(v.shape)) for k, v in layer.state_dict().items()}
    layer.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    unbatched = options.get("unbatched", False)
    x = rng.standard_normal((4, 2) if unbatched else ((3, 4, 2) if options.get("batch_first") else (4, 3, 2)))
    lead = (layers * directions,) if unbatched else (layers * directions, 3)
    hx = None
    if options.get("hx"):
        hx = (rng.uniform(-1, 1, lead + (3,)), rng.uniform(-1, 1, lead + (3,)), rng.uniform(0.5, 2, lead + (3,)),
              rng.uniform(-1, 1, lead + (3,)))
    lengths = options.get("lengths")
    x_t = torch.tensor(x, requires_grad=True)
    given = x_t if lengths is None else torch.nn.utils.rnn.pack_padded_sequence(x_t, torch.tensor(lengths),
                                                                                enforce_sorted=False)
    out, state = layer(given, None if hx is None else tuple(torch.tensor(h) for h in hx))
    if lengths is not None:
        out = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=4)[0]
    upstream = rng.standard_normal(tuple(out.shape))
    (out * torch.tensor(upstream)).sum().backward()
    common = dict(mode=SLSTM, num_layers=layers, bidirectional=directions == 2,
                  batch_first=options.get("batch_first", False), hx=hx, lengths=lengths)
    expected_out, expected_state = reference.rnn(x, weights, **common)
    grads = reference.rnn_backward(x, weights, grad_output=upstream, **common)
    got = [out.detach().numpy()] + [s.detach().numpy() for s in state]
    got_grads = {"input": x_t.grad.numpy(), **{k: p.grad.numpy() for k, p in layer.named_parameters()}}
    return got, [expected_out, *expected_state], got_grads, grads


@pytest.mark.parametrize("options", SLSTM_CONFIGS, ids=str)
def test_the_slstm_example_equals_the_oracle(options):
    got, expected, got_grads, grads = _slstm_run(SLSTMLayer, options)
    for g, e in zip(got, expected):
        assert np.allclose(g, e, rtol=1e-10, atol=1e-12)
    for name, value in got_grads.items():
        assert np.allclose(value, grads[name], rtol=1e-9, atol=1e-11), name


@pytest.mark.parametrize("bug", [bug for bug, example in modern.PLANTED if example is SLSTMLayer],
                         ids=lambda c: c.__name__)
def test_each_planted_slstm_bug_differs_from_the_oracle(bug):
    differs = False
    for options in SLSTM_CONFIGS:
        got, expected, _, _ = _slstm_run(bug, options)
        differs |= any(not np.allclose(g, e, rtol=1e-6, atol=1e-8) for g, e in zip(got, expected))
    assert differs, bug.__name__
