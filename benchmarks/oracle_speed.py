"""How fast is the oracle? Prints reference.rnn time / torch CPU forward time, same config,
float64, one thread, small and large shapes, measured in one run (target: at most 1.5)."""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import timeit  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import reference  # noqa: E402

SHAPES = [  # (label, mode, I, H, L, bidirectional, T, B)
    ("small LSTM", "LSTM", 8, 16, 1, False, 20, 4),
    ("small GRU bi", "GRU", 8, 16, 2, True, 20, 4),
    ("small RNN", "RNN_TANH", 8, 16, 2, False, 20, 4),
    ("large LSTM", "LSTM", 256, 512, 2, True, 100, 32),
    ("large GRU", "GRU", 256, 512, 2, False, 100, 32),
]
TORCH_CLASS = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN_TANH": torch.nn.RNN}


def best_time(fn, repeat):
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main():
    torch.set_num_threads(1)
    print(f"{'shape':14s} {'oracle ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for label, mode, i, h, layers, bi, t, b in SHAPES:
        module = TORCH_CLASS[mode](i, h, num_layers=layers, bidirectional=bi).double()
        weights = {k: v.numpy() for k, v in module.state_dict().items()}
        x = torch.randn(t, b, i, dtype=torch.float64)
        x_np = x.numpy()
        repeat = 20 if h < 100 else 3
        with torch.no_grad():
            torch_time = best_time(lambda: module(x), repeat)
        oracle_time = best_time(lambda: reference.rnn(x_np, weights, mode=mode, num_layers=layers,
                                                      bidirectional=bi), repeat)
        print(f"{label:14s} {oracle_time * 1e3:10.2f} {torch_time * 1e3:10.2f} {oracle_time / torch_time:7.2f}")


if __name__ == "__main__":
    main()
