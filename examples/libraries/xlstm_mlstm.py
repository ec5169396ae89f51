"""xLSTM's mLSTM (``pip install --no-deps xlstm``): its stabilized recurrent step
(``xlstm/blocks/mlstm/backends.py: recurrent_step_stabilized_simple``), run token by token
behind the operation convention of ``reference.recurrences`` (record ``mlstm``), states (C, n, m)
carried between calls as a decoding loop carries them.

    rnn-conformance --impl examples.libraries.xlstm_mlstm:mlstm

The backends module is loaded by its path: ``import xlstm`` imports its whole model zoo.  The
step fixes the scale at 1/sqrt(K) (no scale taken) and has no varlen batch (declared).
"""
import importlib.util
import os

import torch


def _backends():
    spec = importlib.util.find_spec("xlstm")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("xlstm is not installed: pip install --no-deps xlstm")
    path = os.path.join(spec.submodule_search_locations[0], "blocks", "mlstm", "backends.py")
    loaded = importlib.util.spec_from_file_location("xlstm_mlstm_backends", path)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


_STEP = _backends().recurrent_step_stabilized_simple


def mlstm(q, k, v, i, f, initial_state=None, output_final_state=False):
    """q, k (B, T, H, K), v (B, T, H, V), i, f (B, T, H); states C (B, H, K, V), n (B, H, K), m (B, H)."""
    batch, steps, heads, keys = k.shape
    if initial_state is None:
        C, n, m = (k.new_zeros(batch, heads, keys, v.shape[-1]), k.new_zeros(batch, heads, keys),
                   k.new_zeros(batch, heads))
    else:
        C, n, m = initial_state
    n, m = n[..., None], m[..., None, None]
    outs = []
    # (B, H, 1, D), the step's layout; a copy: the step squeezes its arguments in place (squeeze_), which
    # autograd refuses on a view of an input that requires grad
    token = lambda x, t: x[:, t].unsqueeze(2).clone()
    for t in range(steps):
        h, (C, n, m) = _STEP(C, n, m, token(q, t), token(k, t), token(v, t), i[:, t, :, None, None],
                             f[:, t, :, None, None])
        outs.append(h.reshape(batch, heads, -1))
    o = torch.stack(outs, 1) if outs else v.new_zeros(v.shape)
    return o, ((C, n[..., 0], m[..., 0, 0]) if output_final_state else None)


mlstm.rnn_conformance_variant = "mlstm"
mlstm.rnn_conformance_unsupported = ("varlen",)
