"""The matrix-state oracle (``reference.matrix``, ``reference.operations``,
``reference.recurrences``) against truths that come neither from it nor from torch:

* each primitive by hand, against central finite differences, and its bound against what
  float32 numpy really does (the hardware);
* each recurrence's tokens computed element by element in plain Python from the papers'
  equations (loops over indices, no primitive of the oracle), and fully by hand for two;
* its backward against central finite differences for every input and the initial state;
* its bound covering the same step run in float32 numpy;
* a varlen batch equal to its sequences run alone; grouped heads equal to heads repeated by hand;
  mLSTM's h invariant to its stabilizer (the unstabilized recurrence).
"""
import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest

import reference
from reference import matrix
from reference.arithmetic import Arithmetic, Num
from reference.operations import (Input, Operation, operation, operation_backward, operation_backward_with_bound,
                                  operation_with_bound)
from reference.recurrences import OPERATIONS, retnet_decay

FLOAT32 = reference.Precision(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126)
SIZES = dict(B=2, T=4, H=2, K=3, V=2, HV=4, P=2, N=3, G=1, D=3)


# --- primitives ------------------------------------------------------------------------------

def test_primitives_by_hand():
    k, v, q = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]), np.array([1.0, -1.0])
    assert matrix.outer(k, v).tolist() == [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
    assert matrix.contract(q, matrix.outer(k, v)).tolist() == [-3.0, -4.0, -5.0]
    assert matrix.apply(matrix.outer(k, v), np.array([1.0, 0.0, 0.0])).tolist() == [3.0, 6.0]
    assert matrix.dot(k, q) == -1.0
    assert np.allclose(matrix.l2_normalize(np.array([3.0, 4.0]), eps=0.0), [0.6, 0.8])
    assert matrix.repeat_heads(np.array([[1.0, 2.0]]), 2, 1).tolist() == [[1.0, 1.0, 2.0, 2.0]]


#: name: (input shapes, function on the primitives); their vector-Jacobian products are checked against finite
#: differences with the other primitives' (``test_reference_arithmetic.VJP_CASES``)
PRIMITIVES = {
    "outer": ([(2, 3), (2, 4)], matrix.outer),
    "contract": ([(2, 3), (2, 3, 4)], matrix.contract),
    "apply": ([(2, 3, 4), (2, 4)], matrix.apply),
    "l2_normalize": ([(2, 3)], matrix.l2_normalize),
    "repeat_heads, each used twice": ([(2, 2, 3)], lambda a: matrix.repeat_heads(a, 2, 1) * np.arange(12.0).reshape(
        1, 4, 3)),
    "a delta-rule update": ([(2, 3), (2, 3, 4), (2, 4)],
                            lambda k, S, v: S + matrix.outer(k, v - matrix.contract(k, S))),
    "a per-key decay": ([(2, 3), (2, 3, 4)], lambda g, S: matrix.column(reference.exp(g)) * S),
}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name", ["outer", "contract", "apply", "l2_normalize", "a delta-rule update"])
def test_primitive_bound_covers_float32_numpy(name, seed):
    shapes, fn = PRIMITIVES[name]
    rng = np.random.default_rng(seed)
    rounded = [(rng.standard_normal(shape) * 3.0).astype(np.float32) for shape in shapes]
    bounded = fn(*[Num(x.astype(np.float64), 0.0, Arithmetic(FLOAT32)) for x in rounded])
    got = fn(*rounded)
    assert got.dtype == np.float32
    assert np.all(np.abs(got.astype(np.float64) - bounded.value) <= bounded.error), name


# --- the recurrences, element by element from the papers -------------------------------------

def draw(record, sizes=SIZES, seed=0):
    """Inputs in each input's domain (the suite's draws are tested elsewhere)."""
    rng = np.random.default_rng(seed)
    out = {}
    for spec in record.inputs:
        shape = tuple(sizes[s] for s in spec.shape)
        a = rng.standard_normal(shape)
        a = {"log_decay": lambda: -np.abs(a), "unit_interval": lambda: rng.uniform(0.0, 1.0, shape),
             "unit_norm": lambda: a / np.linalg.norm(a, axis=-1, keepdims=True), "positive": lambda: np.abs(a) + 0.1,
             "negative": lambda: -np.abs(a) - 0.1}.get(spec.domain, lambda: a)()
        out[spec.name] = a
    return out


def _sig(a):
    return 1.0 / (1.0 + math.exp(-a))


def by_hand(name, x, scale, state):
    """One sequence's outputs and final state, index by index in Python floats.  ``x``: the
    inputs of batch 0 as nested lists per token; ``state``: the initial state, nested lists."""
    steps = len(next(iter(x.values())))
    outs = []
    S = copy.deepcopy(state[0])
    if name == "mlstm":
        n, m = copy.deepcopy(state[1]), list(state[2])
    for t in range(steps):
        if name in ("mamba2_ssd", "mamba_s6"):
            outs.append(_mamba_token(name, x, t, S))
            continue
        heads = len(S)
        o_t = []
        for h in range(heads):
            hk = h // (heads // len(x["q"][t])) if name == "gated_delta_rule" else h
            q, k, v = list(x["q"][t][hk]), list(x["k"][t][hk]), list(x["v"][t][h])
            K, V = len(k), len(v)
            if name == "gated_delta_rule":
                norm = lambda u: [a / math.sqrt(sum(b * b for b in u) + 1e-6) for a in u]
                q, k = norm(q), norm(k)
            if name == "mlstm":
                log_f = -math.log1p(math.exp(-x["f"][t][h]))
                m_new = max(log_f + m[h], x["i"][t][h])
                f, i = math.exp(log_f + m[h] - m_new), math.exp(x["i"][t][h] - m_new)
                ks = [scale * a for a in k]
                S[h] = [[f * S[h][a][b] + i * ks[a] * v[b] for b in range(V)] for a in range(K)]
                n[h] = [f * n[h][a] + i * ks[a] for a in range(K)]
                m[h] = m_new
                qn = sum(q[a] * n[h][a] for a in range(K))
                denominator = max(abs(qn), math.exp(-m_new)) + 1e-6
                o_t.append([sum(q[a] * S[h][a][b] for a in range(K)) / denominator for b in range(V)])
                continue
            decay = {"retnet": [1.0 - 2.0 ** (-5 - h)] * K, "gla": [math.exp(g) for g in x.get("g", [[[]]])[t][h]]
                     if name == "gla" else None, "gated_delta_rule": [math.exp(x["g"][t][h])] * K
                     if name == "gated_delta_rule" else None}.get(name) or [1.0] * K
            S[h] = [[decay[a] * S[h][a][b] for b in range(V)] for a in range(K)]
            if name in ("delta_rule", "gated_delta_rule"):
                beta = x["beta"][t][h]
                read = [sum(k[a] * S[h][a][b] for a in range(K)) for b in range(V)]
                v = [beta * (v[b] - read[b]) for b in range(V)]
            S[h] = [[S[h][a][b] + k[a] * v[b] for b in range(V)] for a in range(K)]
            o_t.append([scale * sum(q[a] * S[h][a][b] for a in range(K)) for b in range(V)])
        outs.append(o_t)
    final = (S, n, m) if name == "mlstm" else (S,)
    return outs, final


def _mamba_token(name, x, t, S):
    """Mamba2 (per head h: S_h = exp(dt_h A_h) S_h + dt_h x_h B^T, y_h = S_h C + D_h x_h) or
    Mamba's S6 (per channel d), in place on S."""
    if name == "mamba2_ssd":
        heads, groups = len(S), len(x["B"][t])
        y = []
        for h in range(heads):
            g = h // (heads // groups)
            a, dt = math.exp(x["dt"][t][h] * x["A"][h]), x["dt"][t][h]
            P, N = len(S[h]), len(S[h][0])
            S[h] = [[a * S[h][p][j] + dt * x["x"][t][h][p] * x["B"][t][g][j] for j in range(N)] for p in range(P)]
            y.append([sum(S[h][p][j] * x["C"][t][g][j] for j in range(N)) + x["D"][h] * x["x"][t][h][p]
                      for p in range(P)])
        return y
    y = []
    for d in range(len(S)):
        dt, N = x["dt"][t][d], len(S[d])
        S[d] = [math.exp(dt * x["A"][d][j]) * S[d][j] + dt * x["x"][t][d] * x["B"][t][j] for j in range(N)]
        y.append(sum(x["C"][t][j] * S[d][j] for j in range(N)) + x["D"][d] * x["x"][t][d])
    return y


def _one_sequence(record, inputs, b):
    return {spec.name: (inputs[spec.name][b] if spec.per_token else inputs[spec.name]).tolist()
            for spec in record.inputs}


def _initial(record, sizes, seed, count):
    rng = np.random.default_rng(seed + 100)
    shapes = record.state_shapes(sizes, count)
    return tuple(rng.standard_normal(s) * 0.5 for s in shapes)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_tokens_equal_the_papers_equations_computed_index_by_index(name):
    record = OPERATIONS[name]
    inputs = draw(record, seed=1)
    state0 = _initial(record, SIZES, 1, SIZES["B"])
    scale = 0.7 if record.scale else None
    out, final = operation(record, inputs, scale=scale, initial_state=state0[0] if record.single_state else state0)
    final = (final,) if record.single_state else final
    for b in range(SIZES["B"]):
        outs, states = by_hand(name, _one_sequence(record, inputs, b), scale, [s[b].tolist() for s in state0])
        assert np.allclose(out[b], np.array(outs), rtol=1e-12, atol=1e-12), name
        for got, expected in zip(final, states):
            assert np.allclose(got[b], np.array(expected), rtol=1e-12, atol=1e-12), name


def test_linear_attention_and_delta_rule_by_hand():
    """Two tokens, one head, K = V = 2, numbers worked on paper."""
    one = lambda *rows: np.array(rows, dtype=np.float64)[None, :, None, :]
    q, k, v = one([1.0, 0.0], [0.0, 1.0]), one([1.0, 0.0], [0.0, 1.0]), one([2.0, 3.0], [4.0, 5.0])
    # S1 = [[2, 3], [0, 0]], o1 = S1^T q1 = [2, 3]; S2 = S1 + [[0, 0], [4, 5]], o2 = S2^T q2 = [4, 5]
    out, S = operation(OPERATIONS["linear_attention"], dict(q=q, k=k, v=v), scale=1.0)
    assert out[0, :, 0].tolist() == [[2.0, 3.0], [4.0, 5.0]] and S[0, 0].tolist() == [[2.0, 3.0], [4.0, 5.0]]
    # delta rule from S0 = [[1, 1], [0, 0]] with beta = 0.5: token 1 reads k^T S0 = [1, 1], moves it halfway
    # to v1 = [2, 3]: S1 = S0 + 0.5 [1, 0]^T ([2, 3] - [1, 1]) = [[1.5, 2], [0, 0]]; o1 = [1.5, 2]
    beta = np.full((1, 2, 1), 0.5)
    out, S = operation(OPERATIONS["delta_rule"], dict(q=q, k=k, v=v, beta=beta), scale=1.0,
                       initial_state=np.array([[[[1.0, 1.0], [0.0, 0.0]]]]))
    assert out[0, 0, 0].tolist() == [1.5, 2.0]
    # token 2: k2 = [0, 1] reads [0, 0], moves halfway to [4, 5]: S2 = [[1.5, 2], [2, 2.5]]; o2 = [2, 2.5]
    assert out[0, 1, 0].tolist() == [2.0, 2.5] and S[0, 0].tolist() == [[1.5, 2.0], [2.0, 2.5]]


def test_mlstm_h_is_the_unstabilized_recurrence():
    """h = C^T q / max(|n^T q|, 1) with C' = f C + i k v^T, f = sigmoid(f~), i = exp(i~): the
    stabilizer m changes C, n and the threshold together, never h (up to xLSTM's eps)."""
    record = OPERATIONS["mlstm"]
    inputs = draw(record, seed=5)
    out, _ = operation(record, inputs)
    scale = 1.0 / math.sqrt(SIZES["K"])
    for b in range(SIZES["B"]):
        for h in range(SIZES["H"]):
            C, n = np.zeros((SIZES["K"], SIZES["V"])), np.zeros(SIZES["K"])
            for t in range(SIZES["T"]):
                f, i = _sig(inputs["f"][b, t, h]), math.exp(inputs["i"][b, t, h])
                k = scale * inputs["k"][b, t, h]
                C, n = f * C + i * np.outer(k, inputs["v"][b, t, h]), f * n + i * k
                q = inputs["q"][b, t, h]
                expected = C.T @ q / max(abs(n @ q), 1.0)
                assert np.allclose(out[b, t, h], expected, rtol=1e-5), (b, t, h)


def test_retnet_decay_is_the_papers():
    assert np.allclose(np.exp(retnet_decay(3)), [1 - 1 / 32, 1 - 1 / 64, 1 - 1 / 128])


# --- backward ----------------------------------------------------------------------------------

def _loss(record, inputs, state0, up_out, up_state, scale):
    out, final = operation(record, inputs, scale=scale, initial_state=state0)
    finals = (final,) if record.single_state else final
    return np.sum(up_out * out) + sum(np.sum(u * f) for u, f in zip(up_state, finals))


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_backward_matches_finite_differences_for_every_input_and_the_initial_state(name):
    record = OPERATIONS[name]
    sizes = dict(SIZES, T=3, B=1)
    inputs = draw(record, sizes, seed=2)
    parts = _initial(record, sizes, 2, 1)
    state0 = parts[0] if record.single_state else parts
    rng = np.random.default_rng(7)
    out, final = operation(record, inputs, initial_state=state0)
    up_out = rng.standard_normal(out.shape)
    up_state = tuple(rng.standard_normal(np.shape(f)) for f in ((final,) if record.single_state else final))
    grads = operation_backward(record, inputs, up_out, up_state[0] if record.single_state else up_state,
                               initial_state=state0)
    step = 1e-6
    for key in list(inputs) + ["initial_state"]:
        for part in range(len(parts) if key == "initial_state" else 1):
            base = parts[part] if key == "initial_state" else inputs[key]
            got = grads[key] if key != "initial_state" or record.single_state else grads[key][part]
            numeric = np.zeros_like(base)
            for index in np.ndindex(base.shape):
                values = []
                for sign in (1, -1):
                    shifted = base.copy()
                    shifted[index] += sign * step
                    x = dict(inputs, **({key: shifted} if key != "initial_state" else {}))
                    s = parts if key != "initial_state" else parts[:part] + (shifted,) + parts[part + 1:]
                    values.append(_loss(record, x, s[0] if record.single_state else s, up_out, up_state, None))
                numeric[index] = (values[0] - values[1]) / (2 * step)
            assert np.allclose(got, numeric, atol=2e-6, rtol=1e-5), (name, key, part)


# --- bounds --------------------------------------------------------------------------------------

def _step_in_float32(record, inputs, scale):
    """The record's step run on float32 numpy arrays: an implementation computing in float32."""
    sizes = record.sizes(inputs)
    state = tuple(np.zeros(s, dtype=np.float32) for s in record.state_shapes(sizes, sizes["B"]))
    outs = []
    for t in range(sizes["T"]):
        x = {}
        for spec in record.inputs:
            part = inputs[spec.name][:, t] if spec.per_token else inputs[spec.name]
            for few, many in record.groups:
                if few in spec.shape and sizes[many] != sizes[few]:
                    part = np.repeat(part, sizes[many] // sizes[few], axis=spec.shape.index(few) - spec.per_token)
            x[spec.name] = part.astype(np.float32)
        state, out = record.step(SimpleNamespace(**x), state, np.float32(scale) if scale else None)
        outs.append(out)
    return np.stack(outs, axis=1), state


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_bound_covers_the_step_loop_in_float32(name, seed):
    record = OPERATIONS[name]
    inputs = {k: v.astype(np.float32).astype(np.float64) for k, v in draw(record, dict(SIZES, T=6), seed).items()}
    scale = record.default_scale(record.sizes(inputs))
    (out, final), (bound, final_bound) = operation_with_bound(record, inputs, FLOAT32)
    got, state = _step_in_float32(record, inputs, scale)
    assert np.all(np.abs(got.astype(np.float64) - out) <= bound), name
    finals = (final,) if record.single_state else final
    bounds = (final_bound,) if record.single_state else final_bound
    for g, f, b in zip(state, finals, bounds):
        assert np.all(np.abs(np.asarray(g, dtype=np.float64) - f) <= b), name


def test_the_bound_is_a_few_roundoffs_not_a_blanket():
    """Relative to the output's size, the float32 bound of a 16-token gated delta rule stays
    below 1e-4: a scale applied twice or a state left undecayed is far outside it."""
    record = OPERATIONS["gated_delta_rule"]
    inputs = draw(record, dict(SIZES, T=16), 3)
    (out, _), (bound, _) = operation_with_bound(record, inputs, FLOAT32)
    assert np.max(bound) < 1e-4 * np.max(np.abs(out))


def test_a_chunk_declaration_widens_the_bound_with_the_chunks_range():
    record = OPERATIONS["gla"]
    inputs = draw(record, dict(SIZES, T=8), 4)
    (_, _), (loop, _) = operation_with_bound(record, inputs, FLOAT32)
    chunked = reference.Precision(**{**FLOAT32.__dict__, "scan": 4 * FLOAT32.storage})
    (_, _), (small, _) = operation_with_bound(record, inputs, chunked, chunk_size=2)
    (_, _), (whole, _) = operation_with_bound(record, inputs, chunked)
    assert np.all(small >= loop) and np.all(whole >= small) and np.any(whole > small)


def test_gradient_bounds_are_finite_for_the_legal_extremes():
    """Log-decays of -30 a token, beta at 0 and 1: exp underflows to 0, never to a NaN bound."""
    record = OPERATIONS["gated_delta_rule"]
    inputs = draw(record, dict(SIZES, T=5), 6)
    inputs["g"][:] = -30.0
    inputs["beta"][..., 0] = 0.0
    inputs["beta"][..., 1] = 1.0
    grads, bounds = operation_backward_with_bound(record, inputs, FLOAT32, grad_output=np.ones((2, 5, 4, 2)))
    assert all(np.all(np.isfinite(b)) for b in bounds.values()) and all(np.all(np.isfinite(g)) for g in grads.values())


# --- the loop's own semantics --------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_varlen_batch_equals_each_sequence_alone(name):
    record = OPERATIONS[name]
    lengths = [3, 0, 1, 4]
    whole = draw(record, dict(SIZES, B=1, T=sum(lengths)), 8)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    parts = _initial(record, SIZES, 8, len(lengths))
    out, final = operation(record, whole, initial_state=parts[0] if record.single_state else parts,
                           cu_seqlens=offsets)
    finals = (final,) if record.single_state else final
    for n, (start, stop) in enumerate(zip(offsets[:-1], offsets[1:])):
        alone = {s.name: whole[s.name][:, start:stop] if s.per_token else whole[s.name] for s in record.inputs}
        state = tuple(p[n:n + 1] for p in parts)
        got_out, got_final = operation(record, alone, initial_state=state[0] if record.single_state else state)
        assert np.array_equal(out[:, start:stop], got_out), (name, n)
        for f, g in zip(finals, (got_final,) if record.single_state else got_final):
            assert np.array_equal(f[n:n + 1], g), (name, n)


def test_grouped_heads_equal_the_heads_repeated_by_hand():
    record = OPERATIONS["gated_delta_rule"]
    inputs = draw(record, SIZES, 9)
    repeated = dict(inputs, q=np.repeat(inputs["q"], 2, axis=2), k=np.repeat(inputs["k"], 2, axis=2))
    assert np.array_equal(operation(record, inputs)[0], operation(record, repeated)[0])
    grads = operation_backward(record, inputs, grad_output=np.ones((2, 4, 4, 2)))
    by_copy = operation_backward(record, repeated, grad_output=np.ones((2, 4, 4, 2)))
    assert np.allclose(grads["q"], by_copy["q"].reshape(2, 4, 2, 2, 3).sum(axis=3))


@pytest.mark.parametrize("problem, record_args", [
    ("B and T lead", dict(inputs=(Input("q", ("T", "B", "K")),))),
    ("distinct identifiers", dict(inputs=(Input("q", ("B", "T", "K")), Input("q", ("B", "T", "K"))))),
    ("expected one of", dict(inputs=(Input("q", ("B", "T", "K"), "tiny"),))),
    ("scale=", dict(scale="Z")),
])
def test_a_record_that_does_not_fit_says_why(problem, record_args):
    args = dict(name="bad", inputs=(Input("q", ("B", "T", "K")),), states=(("S", ("K",)),), output=("B", "T", "K"),
                step=lambda x, s, scale: (s, x.q))
    args.update(record_args)
    with pytest.raises(ValueError, match=problem):
        Operation(**args)


def test_inputs_that_do_not_fit_the_record_say_which():
    record = OPERATIONS["gla"]
    inputs = draw(record, SIZES, 0)
    inputs["g"] = inputs["g"][..., :2]
    with pytest.raises(ValueError, match=r"g has K=2 \(axis 3\), but q has K=3"):
        operation(record, inputs)
    with pytest.raises(ValueError, match="B must be 1"):
        operation(record, draw(record, SIZES, 0), cu_seqlens=np.array([0, 4]))


@pytest.mark.parametrize("seed", range(4))
def test_a_contraction_bounds_as_its_products_summed(seed):
    """contract and apply are one matrix product each (``Arithmetic.contract``, ``apply``), their
    bound term for term ``sum_over`` of the broadcast products', values and bounds alike."""
    rng = np.random.default_rng(seed)
    arith = Arithmetic(FLOAT32)
    a, S, b = (Num(rng.standard_normal(shape), np.abs(rng.standard_normal(shape)) * 1e-7, arith)
               for shape in ((2, 3, 5), (2, 3, 5, 4), (2, 3, 4)))
    for fused, written in ((matrix.contract(a, S), reference.sum_over(matrix.column(a) * S, -2)),
                           (matrix.apply(S, b), reference.sum_over(S * matrix.row(b), -1))):
        np.testing.assert_allclose(fused.value, written.value, rtol=1e-13)
        np.testing.assert_allclose(fused.error, written.error, rtol=1e-12)
