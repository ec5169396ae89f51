"""transformers' pure-torch fallbacks of the gated delta rule (``pip install --no-deps transformers``
and what its import needs), which every Qwen3-Next user without the CUDA kernels runs:
``torch_recurrent_gated_delta_rule`` (decoding) and ``torch_chunk_gated_delta_rule`` (prefill), from
``transformers/models/qwen3_next/modeling_qwen3_next.py``, behind the operation convention of
``reference.recurrences`` (record ``gated_delta_rule``: grouped value heads, q and k L2-normalized,
which they do with ``use_qk_l2norm_in_kernel=True``, as the model calls them).

    rnn-conformance --impl examples.libraries.transformers_fallbacks:chunk_gated_delta_rule

They fix the scale at 1/sqrt(K) (no scale taken) and take no varlen batch (declared).
"""
from transformers.models.qwen3_next import modeling_qwen3_next as qwen3_next


def recurrent_gated_delta_rule(q, k, v, g, beta, initial_state=None, output_final_state=False):
    return qwen3_next.torch_recurrent_gated_delta_rule(q, k, v, g, beta, initial_state=initial_state,
                                                       output_final_state=output_final_state,
                                                       use_qk_l2norm_in_kernel=True)


def chunk_gated_delta_rule(q, k, v, g, beta, chunk_size=64, initial_state=None, output_final_state=False):
    return qwen3_next.torch_chunk_gated_delta_rule(q, k, v, g, beta, chunk_size=chunk_size,
                                                   initial_state=initial_state,
                                                   output_final_state=output_final_state,
                                                   use_qk_l2norm_in_kernel=True)


for _op in (recurrent_gated_delta_rule, chunk_gated_delta_rule):
    _op.rnn_conformance_variant = "gated_delta_rule"
    _op.rnn_conformance_unsupported = ("varlen",)
chunk_gated_delta_rule.rnn_conformance_chunk_sizes = (64, 4, 16)
chunk_gated_delta_rule.rnn_conformance_scan_error = 8.0  # a chunked form (the UT transform), as fla's and examples/ops
