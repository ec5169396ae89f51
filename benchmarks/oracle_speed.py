"""How fast is the oracle?  Times the four entry points (``rnn``, ``rnn_with_bound``,
``rnn_backward``, ``rnn_backward_with_bound``) on small and large shapes, float64, one
thread, and prints each as a ratio to torch's CPU forward (or forward + backward) on the
same configuration, measured in the same run (target for ``rnn``: at most 1.5).

    python benchmarks/oracle_speed.py [--against /path/to/other/checkout] [--rounds 3]

With ``--against``, the other checkout's oracle is timed too, alternating with this one
within each shape, and the last column is this / other (a refactoring's speed budget).
"""
import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import timeit  # noqa: E402

import torch  # noqa: E402

from oracle_versions import load  # noqa: E402  (sets up the path to this checkout)
import reference  # noqa: E402

SHAPES = [  # (label, mode, I, H, L, bidirectional, T, B)
    ("small LSTM", "LSTM", 8, 16, 1, False, 20, 4),
    ("small GRU bi", "GRU", 8, 16, 2, True, 20, 4),
    ("small RNN", "RNN_TANH", 8, 16, 2, False, 20, 4),
    ("large LSTM", "LSTM", 256, 512, 2, True, 100, 32),
    ("large GRU", "GRU", 256, 512, 2, False, 100, 32),
    # a production draw's layer (issue 45: within 3x of torch's own CPU layer in float64)
    ("hidden 1024", "LSTM", 64, 1024, 1, False, 32, 4),
]
TORCH_CLASS = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN_TANH": torch.nn.RNN}
ENTRY_POINTS = ("rnn", "rnn_with_bound", "rnn_backward", "rnn_backward_with_bound")
FLOAT32 = dict(storage=2.0 ** -24, accumulate=2.0 ** -24, underflow=2.0 ** -126)


def best_time(fn, repeat):
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def oracle_calls(module, x, weights, options, upstream):
    precision = module.Precision(**FLOAT32)
    return {
        "rnn": lambda: module.rnn(x, weights, **options),
        "rnn_with_bound": lambda: module.rnn_with_bound(x, weights, precision, **options),
        "rnn_backward": lambda: module.rnn_backward(x, weights, **options, **upstream),
        "rnn_backward_with_bound": lambda: module.rnn_backward_with_bound(x, weights, precision, **options,
                                                                          **upstream),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="another checkout whose oracle to time alternately")
    parser.add_argument("--rounds", type=int, default=3, help="alternations per shape with --against")
    parser.add_argument("--small", action="store_true", help="only the small shapes")
    args = parser.parse_args(argv)
    other = load(args.against) if args.against else None
    torch.set_num_threads(1)
    header = f"{'shape':14s} {'entry point':24s} {'oracle ms':>10s} {'/ torch':>8s}"
    print(header + (f" {'other ms':>9s} {'this/other':>10s}" if other else ""))
    for label, mode, i, h, layers, bi, t, b in SHAPES:
        if args.small and h >= 100:
            continue
        module = TORCH_CLASS[mode](i, h, num_layers=layers, bidirectional=bi).double()
        weights = {k: v.detach().numpy() for k, v in module.state_dict().items()}
        x = torch.randn(t, b, i, dtype=torch.float64, requires_grad=True)
        x_np = x.detach().numpy()
        out, _ = module(x)
        grad_output = torch.randn_like(out)
        repeat = 20 if h < 100 else 2
        with torch.no_grad():
            torch_forward = best_time(lambda: module(x), repeat)
        torch_backward = best_time(lambda: torch.autograd.backward(module(x)[0], grad_output), repeat)
        options = dict(mode=mode, num_layers=layers, bidirectional=bi)
        upstream = dict(grad_output=grad_output.numpy())
        ours = oracle_calls(reference, x_np, weights, options, upstream)
        theirs = oracle_calls(other, x_np, weights, options, upstream) if other else None
        for name in ENTRY_POINTS:
            torch_time = torch_backward if "backward" in name else torch_forward
            rounds = args.rounds if other else 1
            mine, others = [], []
            for _ in range(rounds):
                mine.append(best_time(ours[name], repeat))
                if other:
                    others.append(best_time(theirs[name], repeat))
            line = f"{label:14s} {name:24s} {min(mine) * 1e3:10.2f} {min(mine) / torch_time:8.2f}"
            if other:
                line += f" {min(others) * 1e3:9.2f} {min(mine) / min(others):10.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
