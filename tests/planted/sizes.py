"""Planted bugs that show only at the sizes production kernels run at: each class is a correct
worked example (``examples/ops/``) or the correct pure-torch layer (``torch_rnn.py``) with one
tiling mistake of the kind kernel authors make, invisible at K = 8, T = 12, B = 3.

Operations (``OPERATION_PLANTED``): a contraction over K in blocks of 64 that drops the partial
last block; value blocks past the first 64 that start from zeros instead of the initial state;
a chunk counter that wraps after 256 tokens and reloads the initial state; a launch grid over
(sequence, head) programs that wraps past 64 and reads program p - 64's keys.  Layers
(``LAYER_PLANTED``): a matmul tiled by 256 units that drops the partial last tile; batch groups
of 64 whose tail reads the first group's initial state; a state that restarts after 512 steps;
a second kernel above 512 hidden units (cuDNN's and oneDNN's persistent kernels stop at some
size) that forgets the recurrent bias.
"""
import torch

from examples.ops.gated_delta_rule import GatedDeltaRuleChunked
from examples.ops.gla import GLAChunked
from examples.ops.linear_attention import LinearAttentionChunked
from examples.ops.mamba import Mamba2Chunked
from tests.planted.torch_rnn import TorchGRU, TorchLSTM, TorchRNN

#: A kernel's block of K or V, and a chunk counter's span (four chunks of 64).
BLOCK, WRAP_TOKENS, GRID = 64, 256, 64
#: A layer kernel's tile of units, its batch group, and the steps after which a counter wraps.
TILE, BATCH_GROUP, WRAP_STEPS, PERSISTENT_LIMIT = 256, 64, 512, 512


# --- operations: one method each, over the examples' ``run(x, scale, state)`` ---------------------

class KTailDropped:
    """q . S and q . k contracted over K in blocks of 64, the partial last block dropped (K > 64)."""

    def run(self, x, scale, state, **options):
        size = x["q"].shape[-1]
        if size > BLOCK and size % BLOCK:
            q = x["q"].clone()
            q[..., size - size % BLOCK:] = 0.0
            x = dict(x, q=q)
        return super().run(x, scale, state, **options)


class ValueBlocksLoseInitialState:
    """The initial state loaded for the first block of 64 values only: the others start from 0."""

    def run(self, x, scale, state, **options):
        if state is not None and state[0].shape[-1] > BLOCK:
            first = state[0].clone()
            first[..., BLOCK:] = 0.0
            state = (first,) + tuple(state[1:])
        return super().run(x, scale, state, **options)


class RestartsAfter256Tokens:
    """A chunk counter of two bits: after four chunks of 64 (256 tokens) it wraps, and the
    kernel loads the initial state again instead of carrying its own."""

    def run(self, x, scale, state, **options):
        steps = x["v"].shape[1] if "v" in x else x["x"].shape[1]
        if steps <= WRAP_TOKENS:
            return super().run(x, scale, state, **options)
        head = {name: value[:, :WRAP_TOKENS] if self.per_token(name) else value for name, value in x.items()}
        tail = {name: value[:, WRAP_TOKENS:] if self.per_token(name) else value for name, value in x.items()}
        first, _ = super().run(head, scale, state, **options)
        second, final = super().run(tail, scale, state, **options)
        return torch.cat([first, second], dim=1), final


class GridWrapsPast64:
    """A launch grid over (sequence, head) programs whose index wraps past 64: program p >= 64
    reads the keys of program p - 64."""

    def run(self, x, scale, state, **options):
        k = x["k"]
        batch, heads = k.shape[0], k.shape[2]
        if batch * heads > GRID:
            programs = k.transpose(1, 2).reshape(batch * heads, *k.shape[1:2], *k.shape[3:])
            wrapped = programs[torch.arange(batch * heads) % GRID]
            x = dict(x, k=wrapped.reshape(batch, heads, *k.shape[1:2], *k.shape[3:]).transpose(1, 2))
        return super().run(x, scale, state, **options)


# --- layers: one method each, over torch_rnn's ------------------------------------------------------

class TileDropped:
    """x @ W^T tiled by 256 units of x: the partial last tile dropped (a layer wider than 256)."""

    @staticmethod
    def linear(x, weight, bias):
        size = x.shape[-1]
        if size > TILE and size % TILE:
            kept = size - size % TILE
            y = x[..., :kept] @ weight[:, :kept].t()
        else:
            y = x @ weight.t()
        return y if bias is None else y + bias


class BatchTailReadsHeadState:
    """Sequences in groups of 64: the groups past the first read the first group's initial state."""

    def initial_states(self, x, hx, batched):
        states = super().initial_states(x, hx, batched)
        batch = x.size(1)
        if batch <= BATCH_GROUP:
            return states
        fixed = []
        for s in states:
            s = s.clone()
            s[:, BATCH_GROUP:] = s[:, :batch - BATCH_GROUP]
            fixed.append(s)
        return fixed


class RestartsAfter512Steps:
    """A step counter that wraps after 512 steps: the state restarts from the initial state."""

    def run_direction(self, x, lengths, state, params, reverse):
        self._start = state
        return super().run_direction(x, lengths, state, params, reverse)

    def carry(self, state, step):
        return self._start if step == WRAP_STEPS else state


class PersistentPathDropsBias:
    """Above 512 hidden units a second kernel (a persistent one stops at a size) runs: it
    forgets the recurrent bias b_hh."""

    def params(self, suffix):
        w_ih, w_hh, b_ih, b_hh, w_hr = super().params(suffix)
        return w_ih, w_hh, b_ih, (None if self.hidden_size > PERSISTENT_LIMIT else b_hh), w_hr


def _planted(mistake, base, suffix):
    return type(mistake.__name__ + suffix, (mistake, base), {"__doc__": f"{base.__name__}: {mistake.__doc__}",
                                                             "__module__": __name__})


_OPERATIONS = {KTailDropped: (GLAChunked, GatedDeltaRuleChunked, LinearAttentionChunked),
               ValueBlocksLoseInitialState: (GLAChunked, GatedDeltaRuleChunked, Mamba2Chunked),
               RestartsAfter256Tokens: (GLAChunked, GatedDeltaRuleChunked, Mamba2Chunked),
               GridWrapsPast64: (GLAChunked, GatedDeltaRuleChunked, LinearAttentionChunked)}
_LAYERS = {TileDropped: (TorchGRU, TorchLSTM), BatchTailReadsHeadState: (TorchRNN, TorchLSTM),
           RestartsAfter512Steps: (TorchGRU, TorchLSTM), PersistentPathDropsBias: (TorchRNN, TorchGRU)}
_KINDS = {KTailDropped: "K blocks of 64 drop a partial last block",
          ValueBlocksLoseInitialState: "value blocks past 64 lose the initial state",
          RestartsAfter256Tokens: "a chunk counter wraps after 256 tokens",
          GridWrapsPast64: "a (sequence, head) grid wraps past 64",
          TileDropped: "a matmul tiled by 256 units drops a partial tile",
          BatchTailReadsHeadState: "batch groups past 64 read the first group's state",
          RestartsAfter512Steps: "a step counter wraps after 512 steps",
          PersistentPathDropsBias: "a second kernel above 512 units drops b_hh"}

_operations, _layers = {}, {}
for _mistake, _bases in _OPERATIONS.items():
    for _base in _bases:
        _cls = _planted(_mistake, _base, _base.__name__.removesuffix("Chunked"))
        _operations[_cls.__name__] = (_cls, _KINDS[_mistake], _base.rnn_conformance_variant)
for _mistake, _bases in _LAYERS.items():
    for _base in _bases:
        _cls = _planted(_mistake, _base, _base.__name__.removeprefix("Torch"))
        _layers[_cls.__name__] = (_cls, _KINDS[_mistake])
globals().update({name: cls() for name, (cls, _, _) in _operations.items()})
globals().update({name: cls for name, (cls, _) in _layers.items()})

#: (name in this module, the bug's kind, the record it breaks) of every planted operation bug.
OPERATION_PLANTED = tuple((name, kind, record) for name, (_, kind, record) in _operations.items())
#: (name in this module, the bug's kind) of every planted layer bug.
LAYER_PLANTED = tuple((name, kind) for name, (_, kind) in _layers.items())
