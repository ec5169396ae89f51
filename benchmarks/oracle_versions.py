"""Does another checkout's oracle compute the same numbers as this one?  A tool for changing
``reference/`` without changing what it computes: values and error bounds of the forward and
backward oracle, on configurations drawn by the suite's own strategy, with the largest
relative difference of each (bounds element by element; values relative to the largest
element of their array, since a sum that cancels may round differently).

    python benchmarks/oracle_versions.py /path/to/other/checkout [--examples 300] [--seed 0]

Get the other checkout with ``git worktree add /tmp/before <commit>``.  Exit 1 when a value
or bound differs by more than ``--rtol`` (default 1e-12) relative, 0 otherwise.
"""
import argparse
import importlib.util
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load(checkout, name="reference_other"):
    """The ``reference`` package of another checkout, imported under ``name``."""
    init = pathlib.Path(checkout, "reference", "__init__.py")
    if not init.is_file():
        raise SystemExit(f"{checkout}: no reference/__init__.py there")
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _leaves(tree):
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for part in tree for leaf in _leaves(part)]
    return [np.asarray(tree)]


def relative_difference(a, b):
    """Largest |a - b| / max(|a|, |b|) over the elements (0 where both are 0, and where both
    are not finite: an infinite bound and a NaN one both say "no bound", as the checks read
    them; inf where one is finite and the other not)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale == 0.0, 0.0, np.abs(a - b) / scale)
    rel = np.where(both_inf, 0.0, rel)
    rel = np.where(~np.isfinite(a) & ~np.isfinite(b), 0.0, rel)
    return float(np.nanmax(np.where(np.isnan(rel), np.inf, rel), initial=0.0))


def normwise_difference(a, b):
    """max |a - b| / max(|a|, |b|) over the whole array: values may differ by the rounding of
    a sum that cancels, which is large relative to the small result but not to its terms."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return 0.0 if scale == 0.0 else float(np.max(np.abs(a - b), initial=0.0) / scale)


def calls(module, config, x, weights, hx, upstream, precision):
    """The four oracle entry points on one configuration: name -> result tree."""
    options = dict(mode=config.mode, num_layers=config.num_layers, bidirectional=config.bidirectional,
                   batch_first=config.batch_first, hx=hx, lengths=config.lengths)
    grads = dict(grad_output=upstream[0], grad_h_n=upstream[1], grad_c_n=upstream[2])
    return {
        "rnn": lambda: module.rnn(x, weights, **options),
        "rnn_with_bound": lambda: module.rnn_with_bound(x, weights, precision, **options),
        "rnn_backward": lambda: module.rnn_backward(x, weights, **options, **grads),
        "rnn_backward_with_bound": lambda: module.rnn_backward_with_bound(x, weights, precision, **options,
                                                                          **grads),
    }


def drawn_cases(examples, seed):
    """(index, config, x, weights, hx) drawn by the suite's configs strategy, reproducibly for a seed."""
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    from hypothesis import seed as hypothesis_seed

    from conformance.checks.support import strategies
    from conformance.checks.support.data import make_hx, make_input, make_weights

    strategy = st.one_of(strategies.configs(max_size=12, max_layers=3, max_steps=6, max_batch=4),
                         strategies.configs(max_size=12, max_layers=3, max_steps=6, max_batch=4, packed=True))
    found = []

    @hypothesis_seed(seed)
    @settings(max_examples=examples, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(config):
        found.append(config)

    collect()
    return [(index, config, make_input(config), make_weights(config), make_hx(config))
            for index, config in enumerate(found)]


def model_results(module, other, index, precisions):
    """(name, ours, theirs) for the two seed models' references on random weights."""
    rng = np.random.default_rng(index)
    precision = list(precisions.values())[index % len(precisions)]
    other_precision = other.Precision(**vars(precision))
    mode = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM")[index % 4]
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    size, hidden, batch, steps = 3, 4, 3, 5
    weights = {"fc.weight": rng.standard_normal((1, hidden)), "fc.bias": rng.standard_normal(1)}
    for layer, width in ((0, size), (1, hidden)):
        weights.update({f"rnn.weight_ih_l{layer}": rng.standard_normal((gates * hidden, width)),
                        f"rnn.weight_hh_l{layer}": rng.standard_normal((gates * hidden, hidden)),
                        f"rnn.bias_ih_l{layer}": rng.standard_normal(gates * hidden),
                        f"rnn.bias_hh_l{layer}": rng.standard_normal(gates * hidden)})
    x = rng.standard_normal((batch, steps, size))
    yield ("stacked_regressor", module.stacked_regressor(x, weights, mode=mode, precision=precision),
           other.stacked_regressor(x, weights, mode=mode, precision=other_precision))
    vocab, embed, fc_hidden = 7, 3, 5
    weights = {"embedding.weight": rng.standard_normal((vocab, embed)),
               "fc1.weight": rng.standard_normal((fc_hidden, 2 * hidden)), "fc1.bias": rng.standard_normal(fc_hidden),
               "fc2.weight": rng.standard_normal((1, fc_hidden)), "fc2.bias": rng.standard_normal(1)}
    weights["embedding.weight"][0] = 0.0
    for suffix in ("_l0", "_l0_reverse"):
        weights.update({f"rnn.weight_ih{suffix}": rng.standard_normal((4 * hidden, embed)),
                        f"rnn.weight_hh{suffix}": rng.standard_normal((4 * hidden, hidden)),
                        f"rnn.bias_ih{suffix}": rng.standard_normal(4 * hidden),
                        f"rnn.bias_hh{suffix}": rng.standard_normal(4 * hidden)})
    lengths = rng.integers(1, steps + 1, size=batch)
    text = np.where(np.arange(steps)[None, :] < lengths[:, None], rng.integers(1, vocab, (batch, steps)), 0)
    yield ("bilstm_classifier", module.bilstm_classifier(text, lengths, weights, precision=precision),
           other.bilstm_classifier(text, lengths, weights, precision=other_precision))


def operation_results(module, other, examples, precisions):
    """(entry point, ours, theirs, where) for every matrix-state record: ``examples``
    configurations each (sizes 1-9, or a tile edge and many tokens one in three; carried
    initial states; a varlen batch one in four), forward and backward with bounds."""
    from reference.recurrences import OPERATIONS
    from tests.reference.test_matrix_states import draw

    for name, record in OPERATIONS.items():
        other_record = other.recurrences.OPERATIONS[name]
        for index in range(max(1, examples)):
            rng = np.random.default_rng(index)
            wide = index % 3 == 2
            sizes = {s: int(rng.choice((63, 64, 65)) if wide else rng.integers(1, 10))
                     for s in ("K", "V", "P", "N", "D")}
            heads = int(rng.integers(1, 4))
            sizes.update(B=int(rng.integers(1, 4)), T=int(rng.integers(100, 300) if wide else rng.integers(1, 12)),
                         H=heads, HV=heads, G=1)
            inputs = draw(record, sizes, seed=index)
            cu_seqlens = None
            if index % 4 == 3:
                per_token = {spec.name for spec in record.inputs if spec.per_token}
                inputs = {key: (value.reshape((1, -1) + value.shape[2:]) if key in per_token else value)
                          for key, value in inputs.items()}
                cuts = np.sort(rng.integers(0, sizes["B"] * sizes["T"] + 1, size=sizes["B"] - 1))
                cu_seqlens = np.concatenate([[0], cuts, [sizes["B"] * sizes["T"]]])
            count = sizes["B"] if cu_seqlens is None else len(cu_seqlens) - 1
            shapes = record.state_shapes(dict(sizes), count)
            state = tuple(rng.standard_normal(shape) for shape in shapes)
            state = state[0] if record.single_state else state
            precision = list(precisions.values())[index % len(precisions)]
            options = dict(initial_state=state, cu_seqlens=cu_seqlens)
            where = f"operation {name} example {index} ({sizes})"
            yield (f"operation {name} forward", module.operation_with_bound(record, inputs, precision, **options),
                   other.operation_with_bound(other_record, inputs, other.Precision(**vars(precision)), **options),
                   where)
            output = module.operation(record, inputs, **options)[0]
            grad = rng.standard_normal(np.shape(output))
            yield (f"operation {name} backward",
                   module.operation_backward_with_bound(record, inputs, precision, grad_output=grad, **options),
                   other.operation_backward_with_bound(other_record, inputs, other.Precision(**vars(precision)),
                                                       grad_output=grad, **options), where)


def _keep_worst(worst, key, a, b, measure, where):
    """Record in ``worst[key]`` the largest ``measure`` of results a and b (trees of arrays) so far."""
    a, b = _leaves(a), _leaves(b)
    diff = np.inf if len(a) != len(b) else max((measure(p, q) for p, q in zip(a, b)), default=0.0)
    if diff > worst.get(key, (-1.0, None))[0]:
        worst[key] = (diff, where)


def _keep_bounded(worst, name, mine, theirs, where):
    """``_keep_worst`` of a (values, bounds) pair: values normwise, bounds element by element."""
    _keep_worst(worst, f"{name} values", mine[0], theirs[0], normwise_difference, where)
    _keep_worst(worst, f"{name} bounds", mine[1], theirs[1], relative_difference, where)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", help="the other checkout (a directory holding reference/)")
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args(argv)
    import reference

    other = load(args.checkout)
    precisions = {
        "float32": reference.Precision(storage=2.0**-24, accumulate=2.0**-24, underflow=2.0**-126)
        .plus(reference.Precision(storage=2.0**-53, accumulate=2.0**-53)),
        "bfloat16": reference.Precision(storage=2.0**-8, accumulate=2.0**-24, underflow=2.0**-126),
        "tf32": reference.Precision(storage=2.0**-24, accumulate=2.0**-24, operand=2.0**-11),
        # a declared scan error (a log-space or parallel scan's): the scan's charge, forward and backward
        "float32+scan": reference.Precision(storage=2.0**-24, accumulate=2.0**-24, underflow=2.0**-126,
                                            scan=4 * 2.0**-24),
    }
    worst = {}
    cases = drawn_cases(args.examples, args.seed)
    count = len(cases)
    for index, config, x, weights, hx in cases:
        rng = np.random.default_rng(index)
        out, state = reference.rnn(x, weights, mode=config.mode, num_layers=config.num_layers,
                                   bidirectional=config.bidirectional, batch_first=config.batch_first, hx=hx,
                                   lengths=config.lengths)
        states = tuple(state) if config.mode == "LSTM" else (state, None)
        upstream = [None if v is None or rng.random() < 0.3 else rng.standard_normal(v.shape)
                    for v in (out,) + states]
        precision_name = list(precisions)[index % len(precisions)]
        ours = calls(reference, config, x, weights, hx, upstream, precisions[precision_name])
        theirs = calls(other, config, x, weights, hx, upstream,
                       other.Precision(**vars(precisions[precision_name])))
        for name in ours:
            mine, other_result = ours[name](), theirs[name]()
            if name.endswith("_with_bound"):
                _keep_bounded(worst, name, mine, other_result, config)
            else:
                _keep_worst(worst, f"{name} values", mine, other_result, normwise_difference, config)
    for index in range(max(1, args.examples // 10)):
        for name, mine, other_result in model_results(reference, other, index, precisions):
            _keep_bounded(worst, name, mine, other_result, f"model example {index}")
    for name, mine, other_result, where in operation_results(reference, other, args.examples // 10, precisions):
        _keep_bounded(worst, name, mine, other_result, where)
    failed = False
    for name, (diff, config) in worst.items():
        mark = "ok" if diff <= args.rtol else "DIFFERS"
        failed |= diff > args.rtol
        print(f"{name:31s} largest relative difference {diff:.3g}  {mark}" + ("" if diff <= args.rtol else
                                                                               f"  at {config}"))
    print(f"{count} drawn configurations, precisions {', '.join(precisions)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
