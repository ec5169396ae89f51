"""The matrix-state oracle against second public implementations of the same recurrences, where a
package ships one in plain torch (each test skips unless its package is installed; CI installs
them with ``--no-deps``): Mamba's selective scan as ``mambapy`` writes it (a step loop and a
parallel scan), xLSTM's parallel mLSTM.  FLA's pure-torch references (five records) and xLSTM's
recurrent step run through the whole suite instead: ``tests/checks/test_real_libraries.py``."""
import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import reference
from reference.recurrences import OPERATIONS
from tests.reference.test_matrix_states import draw

FLOAT64 = reference.Precision(storage=2.0 ** -53, accumulate=2.0 ** -53)


@pytest.mark.parametrize("scan", ["selective_scan_seq", "selective_scan"])
def test_mambapy_selective_scan_equals_the_oracle(scan):
    mamba = pytest.importorskip("mambapy.mamba")
    record = OPERATIONS["mamba_s6"]
    sizes = dict(B=2, T=16, D=5, N=3)  # T a power of 2: mambapy's parallel scan needs none, but pads
    inputs = draw(record, sizes, seed=11)
    (o, _), (bound, _) = reference.operation_with_bound(record, inputs, FLOAT64)
    block = SimpleNamespace(config=SimpleNamespace(d_inner=sizes["D"], d_state=sizes["N"]))
    args = [torch.tensor(inputs[name]) for name in ("x", "dt", "A", "B", "C", "D")]
    got = getattr(mamba.MambaBlock, scan)(block, *args).numpy()
    # a parallel scan adds its tree's roundings: a few roundoffs of the largest |o| per level
    slack = 0.0 if scan == "selective_scan_seq" else 8 * np.log2(sizes["T"]) * 2.0 ** -53 * np.max(np.abs(o))
    assert np.all(np.abs(got - o) <= bound + slack), np.max(np.abs(got - o) / (bound + slack))


def test_xlstm_parallel_mlstm_equals_the_oracle():
    spec = importlib.util.find_spec("xlstm")
    if spec is None:
        pytest.skip("xlstm is not installed")
    path = os.path.join(spec.submodule_search_locations[0], "blocks", "mlstm", "backends.py")
    loaded = importlib.util.spec_from_file_location("xlstm_backends", path)
    backends = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(backends)
    record = OPERATIONS["mlstm"]
    sizes = dict(B=2, T=7, H=2, K=4, V=4)  # xLSTM's parallel form takes one head size for q, k, v
    inputs = draw(record, sizes, seed=12)
    # the parallel form has no initial state: its stabilizer is the largest log-weight of the tokens so far, the
    # recurrence's from m_0 = -inf (a zero state that never wins the max)
    state0 = (np.zeros((2, 2, 4, 4)), np.zeros((2, 2, 4)), np.full((2, 2), -np.inf))
    o, _ = reference.operation(record, inputs, initial_state=state0)
    heads_first = {name: torch.tensor(value).transpose(1, 2) for name, value in inputs.items()}
    got = backends.parallel_stabilized_simple(heads_first["q"], heads_first["k"], heads_first["v"],
                                              heads_first["i"][..., None], heads_first["f"][..., None])
    assert np.allclose(got.transpose(1, 2).numpy(), o, rtol=1e-10, atol=1e-12)
