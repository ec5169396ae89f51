"""The configuration of one example: a small frozen dataclass printed compactly everywhere."""
from dataclasses import dataclass, replace
from typing import Optional, Tuple

@dataclass(frozen=True)
class TorchVariant:
    """A variant of the oracle (``reference.VARIANTS``, by mode) as torch implements it: the
    facts the suite needs beyond the equations.

    kind: the kind of layer that computes it (its cell's kind is ``kind + "_cell"``); cell:
    torch's cell class of the kind; options: the constructor keywords that select it among the
    kind's variants (layer and cell alike); feature: the declarable feature a target that lacks
    it declares unsupported (None: every target of the kind has it); readout_block: the gate
    block through which a one-to-one readout layer sees its input (the others get zero weights,
    so they sit at 0 or sigmoid(0)).  Whether its state grows without bound is the oracle's
    fact (``reference.Variant.unbounded``).
    """

    mode: str
    kind: str
    cell: str
    readout_block: int
    options: tuple = ()
    feature: Optional[str] = None


#: Every variant torch implements, by mode: RNN's tanh and ReLU, GRU (n's block: r, z, n), LSTM
#: (g's block: i, f, g, o).
TORCH_VARIANTS = {variant.mode: variant for variant in (
    TorchVariant("RNN_TANH", "rnn", "torch.nn.RNNCell", readout_block=0),
    TorchVariant("RNN_RELU", "rnn", "torch.nn.RNNCell", readout_block=0, options=(("nonlinearity", "relu"),),
                 feature="relu"),
    TorchVariant("GRU", "gru", "torch.nn.GRUCell", readout_block=2),
    TorchVariant("LSTM", "lstm", "torch.nn.LSTMCell", readout_block=2),
)}

def selecting(mode):
    """The constructor keywords that select ``mode`` among its torch kind's variants
    (``nonlinearity='relu'``); none for a variant torch does not implement."""
    return dict(TORCH_VARIANTS[mode].options) if mode in TORCH_VARIANTS else {}


#: The kind of a target that names the variant it computes (``rnn_conformance_variant`` or
#: ``--variant``): one of ``reference.VARIANTS`` (ONNX's, say) or a variant of the user's own.
#: Its modes are that one variant's (``Target.variant``), not listed here.
VARIANT_KIND = "variant"
#: The kinds of such a target: a layer, or a single-step cell.
VARIANT_KINDS = (VARIANT_KIND, f"{VARIANT_KIND}_cell")
#: The kinds of recurrent layer a target can be, and the reference modes each covers.
LAYER_KINDS = {**{kind: tuple(v.mode for v in TORCH_VARIANTS.values() if v.kind == kind)
                  for kind in dict.fromkeys(v.kind for v in TORCH_VARIANTS.values())}, VARIANT_KIND: ()}
#: The kinds of single-step cell (torch.nn.RNNCell, GRUCell, LSTMCell).
CELL_KINDS = {f"{kind}_cell": modes for kind, modes in LAYER_KINDS.items()}
#: The packing utilities of torch.nn.utils.rnn (a module of functions; no recurrent mode).
UTILITY_KINDS = {"packing_utils": ()}
#: The kind of a recurrence operation, ``op(q, k, v, <gates...>, scale, initial_state,
#: output_final_state, cu_seqlens) -> (o, final_state)`` (``reference.Operation``): no layer,
#: no weights; the record it computes is its ``variant`` (``rnn_conformance_variant``).
OPERATION_KIND = "operation"
OPERATION_KINDS = {OPERATION_KIND: ()}
#: What an operation may lack (its signature has no such keyword, or it declares so): a varlen
#: batch (``cu_seqlens``), an initial state, a chunk size, a scale, more value heads than
#: query/key heads (grouped heads: the draws then give each group one head).
OPERATION_FEATURES = ("varlen", "initial_state", "chunk_size", "scale", "grouped_heads")
#: Every kind a target can be.
KIND_MODES = {**LAYER_KINDS, **CELL_KINDS, **UTILITY_KINDS, **OPERATION_KINDS}
#: The six packing utilities a packing_utils target provides (each may be missing: its checks
#: are then unsupported).
PACKING_FUNCTIONS = ("pack_padded_sequence", "pad_packed_sequence", "pack_sequence", "pad_sequence",
                     "unpad_sequence", "unpack_sequence")
#: The dtypes the suite checks, by torch's name (``targets.loading.DTYPES`` maps them to torch dtypes).
DTYPE_NAMES = ("float64", "float32", "bfloat16", "float16")

#: How a target's parameters relate to torch's names (``Target.naming``): it has torch's names;
#: its own, computed differentiably from torch-named tensors by this hook (weight gradients are
#: compared through torch.func.functional_call); its own, filled by the copying hook (weight
#: gradients cannot be compared).
TORCH_NAMES, MAPPING_HOOK, COPYING_HOOK = "torch", "rnn_conformance_from_torch", "load_torch_state_dict"


@dataclass(frozen=True)
class RNNConfig:
    """Module options, input layout and data seed of one example.

    batch is None for unbatched input; lengths (one per sequence) selects packed input;
    weight_scale multiplies torch's default init bound 1/sqrt(hidden_size); dropout is the
    constructor's dropout probability (between layers, training mode only).
    """

    mode: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    bias: bool = True
    batch_first: bool = False
    proj_size: int = 0
    steps: int = 1
    batch: Optional[int] = 1
    with_hx: bool = False
    lengths: Optional[Tuple[int, ...]] = None
    contiguous: bool = True
    weight_scale: float = 1.0
    seed: int = 0
    dropout: float = 0.0
    #: the sizes its variant names beyond I, H, P (``reference.Variant.sizes``): ((letter, value), ...)
    sizes: tuple = ()

    @property
    def torch_variant(self):
        """The variant as torch implements it (``TORCH_VARIANTS``); None for a variant torch
        does not implement."""
        return TORCH_VARIANTS.get(self.mode)

    @property
    def paired(self):
        """Whether the variant's state is a pair, h and c (``reference.Variant.paired``)."""
        from reference.cells import variant  # numpy: not for a session that only reads options
        return variant(self.mode).paired

    @property
    def states(self):
        """The names of the variant's states, h first (``reference.Variant.states``)."""
        from reference.cells import variant
        return variant(self.mode).states

    @property
    def state_names(self):
        """What a message calls the final states: ("h_n",), ("h_n", "c_n"), sLSTM's (..., "n_n", "m_n")."""
        return tuple(f"{state}_n" for state in self.states)

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    @property
    def out_size(self):
        return self.proj_size or self.hidden_size

    def with_(self, **changes):
        return replace(self, **changes)

    def one_smaller(self):
        """(name, value, this configuration with that size one less) for each size a kernel may
        tile or count by: input and hidden size, steps and batch (where no lengths fix them)."""
        sizes = [("I", "input_size", self.input_size)]
        sizes += [("H", "hidden_size", self.hidden_size)] if self.hidden_size - 1 > self.proj_size else []
        if self.lengths is None:
            sizes += [("T", "steps", self.steps)] + ([("B", "batch", self.batch)] if self.batch else [])
        return [(name, value, self.with_(**{field_name: value - 1})) for name, field_name, value in sizes if value > 1]

    def __str__(self):
        flags = [f"I={self.input_size}", f"H={self.hidden_size}"]
        flags += [f"P={self.proj_size}"] if self.proj_size else []
        flags += [f"{letter}={value}" for letter, value in self.sizes]
        flags += [f"L={self.num_layers}"] + (["bi"] if self.bidirectional else [])
        flags += ([] if self.bias else ["no-bias"]) + (["batch_first"] if self.batch_first else [])
        flags += [f"dropout={self.dropout:g}"] if self.dropout else []
        data = [f"T={self.steps}", "unbatched" if self.batch is None else f"B={self.batch}"]
        data += (["hx"] if self.with_hx else []) + ([] if self.contiguous else ["non-contiguous"])
        data += [f"packed lengths={list(self.lengths)}"] if self.lengths is not None else []
        data += [f"scale={self.weight_scale:g}", f"data_seed={self.seed}"]
        return f"{self.mode}({','.join(flags)}) {' '.join(data)}"


@dataclass(frozen=True)
class PackingCase:
    """One call of a packing utility: the sequences' lengths (in batch order), the padded
    length T (at least the longest), the trailing feature shape ``*``, the options, and the
    data seed.  ``function`` names the utility (or the round trip) the case exercises."""

    function: str
    lengths: Tuple[int, ...]
    steps: int
    features: Tuple[int, ...] = ()
    batch_first: bool = False
    enforce_sorted: bool = False
    padding_value: float = 0.0
    total_length: Optional[int] = None
    padding_side: str = "right"
    lengths_as_list: bool = False
    contiguous: bool = True
    seed: int = 0

    @property
    def batch(self):
        return len(self.lengths)

    def with_(self, **changes):
        return replace(self, **changes)

    def __str__(self):
        options = [f"lengths={list(self.lengths)}" + (" (a list)" if self.lengths_as_list else ""),
                   f"T={self.steps}"] + ([f"*={self.features}"] if self.features else [])
        options += ["batch_first"] if self.batch_first else []
        options += ["enforce_sorted"] if self.enforce_sorted else []
        options += [f"padding_value={self.padding_value:g}"] if self.padding_value else []
        options += [f"total_length={self.total_length}"] if self.total_length is not None else []
        options += ["padding_side=left"] if self.padding_side != "right" else []
        options += [] if self.contiguous else ["non-contiguous"]
        return f"{self.function}({', '.join(options)}) data_seed={self.seed}"


@dataclass(frozen=True)
class OperationCase:
    """One call of a recurrence operation: its record (a name of ``reference.OPERATIONS`` or
    ``package.module:NAME``), the sizes beyond B and T
    (((name, value), ...)), the batch (1 with ``lengths``) and tokens, the sequences' lengths
    of a varlen (cu_seqlens) batch, whether an initial state is given, the scale given (None:
    the default), the chunk size given (None: the operation's own), how strong the log-decays
    and gates are (``regime``: typical, none (decays of 0, gates at their ends) or tiny (decays
    down to -30 a token)), the data seed, and how the initial states differ (``state_kind``:
    carried, fresh_and_carried, long_context: ``operations.make_state``)."""

    operation: str
    sizes: tuple
    batch: int
    steps: int
    lengths: Optional[Tuple[int, ...]] = None
    with_state: bool = False
    scale: Optional[float] = None
    chunk_size: Optional[int] = None
    regime: str = "typical"
    seed: int = 0
    state_kind: str = "carried"

    @property
    def sequences(self):
        return self.batch if self.lengths is None else len(self.lengths)

    @property
    def cu_seqlens(self):
        if self.lengths is None:
            return None
        offsets = [0]
        for length in self.lengths:
            offsets.append(offsets[-1] + length)
        return tuple(offsets)

    def with_(self, **changes):
        return replace(self, **changes)

    def one_smaller(self):
        """(name, value, this case with that size one less) for each size of its record, and
        the batch and tokens where no varlen lengths fix them."""
        smaller = [(name, value, self.with_(sizes=tuple((n, v - (n == name)) for n, v in self.sizes)))
                   for name, value in self.sizes]
        if self.lengths is None:
            smaller += [("B", self.batch, self.with_(batch=self.batch - 1)),
                        ("T", self.steps, self.with_(steps=self.steps - 1))]
        return [(name, value, case) for name, value, case in smaller if value > 1]

    def __str__(self):
        sizes = ",".join(f"{name}={value}" for name, value in self.sizes)
        data = [f"B={self.batch}", f"T={self.steps}"]
        data += [f"cu_seqlens={list(self.cu_seqlens)}"] if self.lengths is not None else []
        if self.with_state:
            data.append("initial_state" if self.state_kind == "carried" else f"initial_state={self.state_kind}")
        data += [f"scale={self.scale:g}"] if self.scale is not None else []
        data += [f"chunk_size={self.chunk_size}"] if self.chunk_size is not None else []
        data += [f"decays={self.regime}"] if self.regime != "typical" else []
        return f"{self.operation.rpartition(':')[2]}({sizes}) {' '.join(data)} data_seed={self.seed}"


#: The largest scan error a target may declare, in roundoffs per step (2**20: float32's
#: roundoff times this is 0.06 per step, which says nothing any more).
SCAN_ERROR_LIMIT = 2.0 ** 20
