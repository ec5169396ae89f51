"""Does another checkout's oracle compute the same numbers as this one?  A tool for changing
``reference/`` without changing what it computes: values and error bounds of the forward and
backward oracle, on configurations drawn by the suite's own strategy, with the largest
relative difference of each.

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
    """Largest |a - b| / max(|a|, |b|) over the elements (0 where both are 0; inf where one
    is finite and the other not)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale == 0.0, 0.0, np.abs(a - b) / scale)
    rel = np.where(both_inf, 0.0, rel)
    rel = np.where(np.isnan(a) & np.isnan(b), 0.0, rel)
    return float(np.nanmax(np.where(np.isnan(rel), np.inf, rel), initial=0.0))


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
    """(config, x, weights, hx, upstream) drawn by the suite's configs strategy, reproducibly."""
    from hypothesis import strategies as st

    from conformance import strategies
    from conformance.data import make_hx, make_input, make_weights

    strategy = st.one_of(strategies.configs(max_size=12, max_layers=3, max_steps=6, max_batch=4),
                         strategies.configs(max_size=12, max_layers=3, max_steps=6, max_batch=4, packed=True))
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(examples):
        config = _example(strategy, int(rng.integers(2**32)))
        x, weights, hx = make_input(config), make_weights(config), make_hx(config)
        cases.append((index, config, x, weights, hx))
    return cases


def _example(strategy, seed):
    """One example of ``strategy`` for a seed, without Hypothesis' example() warning."""
    from hypothesis import given, settings, HealthCheck, Phase, seed as hypothesis_seed

    found = []

    @hypothesis_seed(seed)
    @settings(max_examples=1, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def pick(value):
        found.append(value)

    pick()
    return found[0]


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
    }
    worst = {}
    for index, config, x, weights, hx in drawn_cases(args.examples, args.seed):
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
            a, b = _leaves(ours[name]()), _leaves(theirs[name]())
            diff = max((relative_difference(p, q) for p, q in zip(a, b)), default=0.0)
            if len(a) != len(b):
                diff = np.inf
            if diff > worst.get(name, (-1.0, None))[0]:
                worst[name] = (diff, config)
    failed = False
    for name, (diff, config) in worst.items():
        mark = "ok" if diff <= args.rtol else "DIFFERS"
        failed |= diff > args.rtol
        print(f"{name:24s} largest relative difference {diff:.3g}  {mark}" + ("" if diff <= args.rtol else
                                                                               f"  at {config}"))
    print(f"{args.examples} drawn configurations, precisions {', '.join(precisions)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
