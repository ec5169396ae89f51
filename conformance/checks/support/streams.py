"""Named random streams: every random number an example uses comes from a stream of its own,
derived from the example's seed and the stream's name, so that no two uses share one by
accident and a replay of the same seed draws the same numbers.

A new use of randomness adds its name to STREAMS; ``rng`` refuses a name that is not there.
"""
import zlib

import numpy as np

#: name -> what it draws.
STREAMS = {
    "weights": "the module's weights (data.make_weights)",
    "input": "the input sequence (data.make_input)",
    "initial_state": "h0 and c0 (data.make_hx)",
    "upstream_gradient": "the gradient fed to backward (gradients)",
    "batch_permutation": "the order of the batch (batch_permutation_permutes_results)",
    "batch_split": "where the batch is cut (batch_split_matches_whole)",
    "continuation_cut": "the step the run is cut at (state_continuation_equals_one_run)",
    "dropout_mask": "torch's generator before a dropout run (dropout relations)",
    "dropout_upstream_gradient": "the gradient fed to backward (dropout_one_stops_gradients_below)",
    "model_parameters": "the seed models' parameters (models)",
    "regressor_input": "the stacked regressor's input (stacked_regressor_matches_oracle)",
    "classifier_tokens": "the classifier's token ids (bilstm_classifier_matches_oracle)",
    "model_upstream_gradient": "the gradient fed to a seed model's backward (models' gradient checks)",
    "packing_data": "the sequences given to a packing utility (packing_utils)",
    "packing_upstream_gradient": "the gradient fed back through a packing utility (packing_gradients_match_reference)",
    "operation_data": "an operation's inputs (operation checks)",
    "operation_state": "an operation's initial state (operation checks)",
    "operation_upstream_gradient": "the gradient fed back through an operation (operation_gradients_match_oracle)",
    "operation_relation": "the permutation or cut of an operation's relation (operation relations)",
}


def key(name):
    """The stream's number, derived from its name."""
    if name not in STREAMS:
        raise KeyError(f"random stream {name!r} is not in streams.STREAMS")
    return zlib.crc32(name.encode())


def rng(seed, name):
    """The numpy Generator of stream ``name`` for the example seeded ``seed``."""
    return np.random.default_rng([seed, key(name)])


def torch_seed(seed, name):
    """A seed for ``torch.manual_seed`` from stream ``name`` (for draws torch makes itself)."""
    return int(rng(seed, name).integers(0, 2**63 - 1))
