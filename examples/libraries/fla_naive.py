"""The pure-torch references that ``fla-core`` (flash-linear-attention) ships beside its Triton
kernels (``fla/ops/<op>/naive.py``), behind the operation convention of ``reference.recurrences``:
a second public implementation of five records, and the code many users read as the definition.

    pip install --no-deps fla-core einops
    rnn-conformance --impl examples.libraries.fla_naive:gated_delta_rule --dtypes float32

Each ``naive.py`` is loaded by its path: ``import fla`` would import the Triton kernels. Their
step loops compute in float32 whatever the input's dtype and return a float32 final state: on
float64 input the suite says so (a finding, ``tests/checks/test_real_libraries.py``).  They take
no varlen batch and no grouped heads (declared); ``naive_recurrent_gated_delta_rule`` has no
L2 normalization in it, so the adapter normalizes q and k first, as FLA's layers do.
"""
import importlib.util
import os

import torch


def _naive(op):
    """``fla/ops/<op>/naive.py`` of the installed fla-core, imported alone."""
    spec = importlib.util.find_spec("fla")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("fla-core is not installed: pip install --no-deps fla-core einops")
    path = os.path.join(spec.submodule_search_locations[0], "ops", op, "naive.py")
    loaded = importlib.util.spec_from_file_location(f"fla_naive_{op}", path)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


_GATED_DELTA, _GLA, _LINEAR, _SIMPLE_GLA = (_naive(op) for op in ("gated_delta_rule", "gla", "linear_attn",
                                                                  "simple_gla"))
UNSUPPORTED = ("varlen", "grouped_heads")


def _l2norm(x, eps=1e-6):
    return x * torch.rsqrt((x * x).sum(-1, keepdim=True) + eps)


def gated_delta_rule(q, k, v, g, beta, scale=None, initial_state=None, output_final_state=False):
    return _GATED_DELTA.naive_recurrent_gated_delta_rule(_l2norm(q), _l2norm(k), v, beta, g, scale=scale,
                                                         initial_state=initial_state,
                                                         output_final_state=output_final_state)


def gated_delta_rule_chunked(q, k, v, g, beta, scale=None, initial_state=None, output_final_state=False):
    return _GATED_DELTA.naive_chunk_gated_delta_rule(_l2norm(q), _l2norm(k), v, g, beta, scale=scale,
                                                     initial_state=initial_state,
                                                     output_final_state=output_final_state)


def gla(q, k, v, g, initial_state=None, output_final_state=False):
    """naive_recurrent_gla takes no scale: it applies 1/sqrt(K) itself."""
    return _GLA.naive_recurrent_gla(q, k, v, g, initial_state=initial_state, output_final_state=output_final_state)


def linear_attention(q, k, v, scale=None, initial_state=None, output_final_state=False):
    return _LINEAR.naive_recurrent_linear_attn(q, k, v, scale=scale, initial_state=initial_state,
                                              output_final_state=output_final_state)


def retnet(q, k, v, scale=None, initial_state=None, output_final_state=False):
    """RetNet as FLA computes it: simple GLA with the fixed decay log(1 - 2^(-5 - h))."""
    heads = q.shape[2]
    g = torch.log1p(-torch.pow(2.0, -5.0 - torch.arange(heads, dtype=torch.float32, device=q.device)))
    g = g.to(q.dtype).expand(q.shape[0], q.shape[1], heads)
    return _SIMPLE_GLA.naive_recurrent_simple_gla(q, k, v, g, scale=scale, initial_state=initial_state,
                                                 output_final_state=output_final_state)


for _op, _record in ((gated_delta_rule, "gated_delta_rule"), (gated_delta_rule_chunked, "gated_delta_rule"),
                     (gla, "gla"), (linear_attention, "linear_attention"), (retnet, "retnet")):
    _op.rnn_conformance_variant = _record
    _op.rnn_conformance_unsupported = UNSUPPORTED
gated_delta_rule_chunked.rnn_conformance_scan_error = 8.0  # a chunked form (the UT transform), as examples/ops
