"""The packing utilities (torch.nn.utils.rnn's, or a module providing the same functions):
each function's result against ``reference.packing``, round trips, gradients through them,
and the invalid input they must refuse.  Every call must also leave its arguments as they
were (shape, strides, values, a list's order).

A target of kind packing_utils is a module (or any object) with some of the six functions
(``config.PACKING_FUNCTIONS``) as attributes and, optionally, its own ``PackedSequence``
class: the suite builds the packed input of pad_packed_sequence and unpack_sequence with
that class (torch's when it has none) and accepts a packed result of either class.

Sequences of equal length may be packed in any order among themselves (torch does not
promise a stable sort): a packed result is checked against the reference packing in the
order its ``sorted_indices`` name, after checking that this order sorts the lengths
longest first and that ``unsorted_indices`` inverts it.  Every value is moved, never
computed, so every comparison is exact, in every dtype.
"""
import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence

from reference import packing as reference

from ..reproduce import hooks
from ..reproduce.claims import (assert_instance, assert_pair, assert_packed_order, assert_refused, assert_requires_grad,
                                assert_same_items, assert_sequence_list, assert_tensor, assert_unmodified)
from .support import streams
from ..config import PACKING_FUNCTIONS
from .support.data import as_numpy, to_torch
from ..errors import Unsupported
from .registry import register
from .support.strategies import packing_cases
from .support.tolerances import compare_exact
from .contract import first_change

KINDS = ("packing_utils",)

#: The round trips: name -> the utilities it calls.
ROUND_TRIPS = {"pad_packed_sequence(pack_padded_sequence)": ("pack_padded_sequence", "pad_packed_sequence"),
               "unpack_sequence(pack_sequence)": ("pack_sequence", "unpack_sequence"),
               "unpad_sequence(pad_sequence)": ("pad_sequence", "unpad_sequence")}


def _cases(names, needs=lambda name: (name,), **options):
    """The strategy of a check over ``names`` (utilities or round trips): only those whose
    utilities the target has (all of them when it has none: the body then says which is
    missing); pad_sequence's padding_side only where the target takes it."""
    def strategy(target):
        usable = tuple(n for n in names if all(target.supports(f) for f in needs(n))) or tuple(names)
        return packing_cases(usable, padding_side=target.supports("padding_side"), **options)
    return strategy


def _utility(ctx, name):
    """The target's function ``name``; Unsupported when it has none."""
    if not ctx.target.supports(name):
        raise Unsupported(f"{ctx.target.impl} has no {name}")
    return getattr(ctx.target.factory, name)


def _call(ctx, name, *args, grad=False, **kwargs):
    return ctx.utility(name, _utility(ctx, name), args, kwargs, grad)


# -- the data of a case ---------------------------------------------------------------------

def _padded(case):
    """float64 (T, B, *) in time-major layout: each sequence's steps standard normal, the
    padding past its length 7 (data, not zeros, so that reading it shows)."""
    x = streams.rng(case.seed, "packing_data").standard_normal((case.steps, case.batch) + case.features)
    for b, length in enumerate(case.lengths):
        x[length:, b] = 7.0
    return x


def _layout(x, case):
    """(T, B, *) to the case's layout (B, T, *) with batch_first, and back."""
    return np.swapaxes(x, 0, 1) if case.batch_first else x


def _tensor(array, case, ctx, wrap=None):
    """``array`` of the dtype on the device (non-contiguous when the case is), passed through
    ``wrap`` when given (the gradient check makes it a computed tensor there)."""
    tensor = to_torch(array, ctx.dtype, ctx.device, case.contiguous)
    return tensor if wrap is None else wrap(tensor)


def _lengths(case):
    """The lengths argument of pack_padded_sequence: a list, or an int64 tensor on the CPU."""
    return list(case.lengths) if case.lengths_as_list else torch.tensor(case.lengths, dtype=torch.int64)


def _sequences(case, ctx, wrap=None):
    """The case's sequences as tensors (L_b, *) of the dtype on the device, and as float64."""
    x = _padded(case)
    tensors = [_tensor(x[:length, b], case, ctx, wrap) for b, length in enumerate(case.lengths)]
    return tensors, [as_numpy(t) for t in tensors]


def _packed_input(case, ctx, wrap=None):
    """A packed sequence of the case (enforce_sorted: no indices) built with the target's
    PackedSequence class."""
    x = as_numpy(_tensor(_padded(case), case, ctx))
    expected = reference.pack_padded_sequence(x, np.array(case.lengths), enforce_sorted=case.enforce_sorted)
    data = _tensor(expected.data, case, ctx, wrap)
    indices = [None if i is None else torch.as_tensor(i, dtype=torch.int64, device=ctx.device)
               for i in (expected.sorted_indices, expected.unsorted_indices)]
    packed_class = getattr(ctx.target.factory, "PackedSequence", PackedSequence)
    batch_sizes = torch.as_tensor(expected.batch_sizes, dtype=torch.int64)
    return ctx.packed_input(packed_class, data, batch_sizes, *indices)


# -- what a result must be ------------------------------------------------------------------

def _tensor_result(case, ctx, name, value, shape, dtype=None, device=None):
    """Fails unless ``value`` is a tensor of ``shape``, ``dtype`` (the case's) on ``device``."""
    hooks.holds(case, assert_tensor, name, value, tuple(shape), dtype or ctx.dtype, device or ctx.device)
    return value


def _packed_result(case, ctx, name, result, lengths, enforce_sorted):
    """The order (sorted_indices, or None) of a packed result after checking its class, its
    four fields' types, devices and shapes, and that the order sorts ``lengths``."""
    classes = (PackedSequence, getattr(ctx.target.factory, "PackedSequence", PackedSequence))
    hooks.checked(case, assert_instance, name, result, classes, "a PackedSequence")
    rows = int(sum(lengths))
    _tensor_result(case, ctx, f"{name}(...).data", result.data, (rows,) + case.features)
    _tensor_result(case, ctx, f"{name}(...).batch_sizes", result.batch_sizes, (max(lengths),), torch.int64, "cpu")
    hooks.holds(case, assert_packed_order, name, result, list(lengths), enforce_sorted, ctx.device)
    return None if enforce_sorted else result.sorted_indices.cpu().numpy()


def _in_order(x, lengths, order):
    """The reference packing of x (T, B, *) with the sequences taken in ``order`` (None: as
    they come)."""
    order = np.arange(len(lengths)) if order is None else order
    return reference.pack_padded_sequence(x[:, order], np.asarray(lengths)[order], enforce_sorted=True)


def _compare_packed(case, ctx, result, x, order):
    """The packed result against the reference packing of x (T, B, *) in ``order``."""
    expected = _in_order(x, case.lengths, order)
    return [compare_exact("batch_sizes", result.batch_sizes, expected.batch_sizes, ctx.dtype, case),
            compare_exact("data", result.data, expected.data, ctx.dtype, case)]


def _pad_arguments(case, ctx):
    arguments = dict(batch_first=case.batch_first, padding_value=case.padding_value)
    if ctx.target.supports("padding_side"):
        arguments["padding_side"] = case.padding_side
    return arguments


def _pair(case, name, result):
    """Fails unless ``result`` is the pair (padded, lengths) pad_packed_sequence returns."""
    hooks.holds(case, assert_pair, name, result)
    return result


def _sequence_list(case, ctx, name, result, shapes):
    """Fails unless ``result`` is a list (or tuple) of tensors of ``shapes``."""
    hooks.holds(case, assert_sequence_list, name, result, len(shapes))
    for b, (tensor, shape) in enumerate(zip(result, shapes)):
        _tensor_result(case, ctx, f"{name}(...)[{b}]", tensor, shape)
    return result


# -- each utility against the reference -----------------------------------------------------

def _arguments(case, ctx, name, wrap=None):
    """(positional, keyword arguments) of a valid call of the utility ``name`` for the case:
    its padded input, lengths, sequences or packed input, and its options."""
    if name in ("pack_padded_sequence", "unpad_sequence"):
        lengths = _lengths(case) if name == "pack_padded_sequence" else torch.tensor(case.lengths)
        options = dict(enforce_sorted=case.enforce_sorted) if name == "pack_padded_sequence" else {}
        return (_tensor(_layout(_padded(case), case), case, ctx, wrap), lengths), dict(
            batch_first=case.batch_first, **options)
    if name in ("pad_packed_sequence", "unpack_sequence"):
        options = dict(batch_first=case.batch_first, padding_value=case.padding_value,
                       total_length=case.total_length) if name == "pad_packed_sequence" else {}
        return (_packed_input(case, ctx, wrap),), options
    options = _pad_arguments(case, ctx) if name == "pad_sequence" else dict(enforce_sorted=case.enforce_sorted)
    return (_sequences(case, ctx, wrap)[0],), options


def _unchanged(case, name, args, snapshot):
    """Fails when the call changed an argument since ``snapshot``: a tensor's shape, strides
    or values (``contract.first_change``, bit for bit), or a list's order."""
    listed, tensors = snapshot
    if listed is not None:
        hooks.holds(case, assert_same_items, name, args[0], listed)
    for index, (tensor, shape, stride, copy) in enumerate(tensors):
        what = f"{name} changed its argument (tensor {index} of the call, shape {shape})"
        hooks.holds_layout(case, what, tensor, (shape, stride))
        hooks.checked(case, assert_unmodified, what, first_change({"it": copy}, {"it": tensor.detach()}))


def _run(case, ctx, name, wrap=None):
    """(the result of the utility ``name`` on the case's arguments, those arguments as
    float64 read before the call: a padded input in (T, B, *), a reference Packed, or the
    list of sequences), after checking that the call left its arguments as they were
    (unpad_sequence: its own check, ``unpad_sequence_leaves_its_input_unchanged``)."""
    args, kwargs = _arguments(case, ctx, name, wrap)
    snapshot = ctx.snapshot(args)
    if name in ("pad_packed_sequence", "unpack_sequence"):
        given = args[0]
        read = reference.Packed(as_numpy(given.data), given.batch_sizes.numpy(),
                                *(None if i is None else i.cpu().numpy()
                                  for i in (given.sorted_indices, given.unsorted_indices)))
    elif name in ("pad_sequence", "pack_sequence"):
        read = [as_numpy(s) for s in args[0]]
    else:
        read = _layout(as_numpy(args[0]), case)
    result = _call(ctx, name, *args, grad=wrap is not None, **kwargs)
    if name != "unpad_sequence":
        _unchanged(case, name, args, snapshot)
    return result, read


def _pack_padded(case, ctx, wrap=None):
    """(the result, its order, the padded input as float64 (T, B, *))."""
    result, x = _run(case, ctx, "pack_padded_sequence", wrap)
    return result, _packed_result(case, ctx, "pack_padded_sequence", result, case.lengths, case.enforce_sorted), x


def _pad_packed(case, ctx, wrap=None):
    """(the result, the reference's, the packed input as a reference Packed)."""
    result, packed = _run(case, ctx, "pad_packed_sequence", wrap)
    _pair(case, "pad_packed_sequence", result)
    expected = reference.pad_packed_sequence(packed, case.batch_first, case.padding_value, case.total_length)
    _tensor_result(case, ctx, "pad_packed_sequence(...)[0]", result[0], expected[0].shape)
    _tensor_result(case, ctx, "pad_packed_sequence(...)[1] (lengths)", result[1], (case.batch,), torch.int64, "cpu")
    return result, expected, packed


def _pad(case, ctx, wrap=None):
    """(the result, the reference's, the sequences as float64)."""
    result, values = _run(case, ctx, "pad_sequence", wrap)
    expected = reference.pad_sequence(values, case.batch_first, case.padding_value, case.padding_side)
    _tensor_result(case, ctx, "pad_sequence(...)", result, expected.shape)
    return result, expected, values


def _pack_sequence(case, ctx, wrap=None):
    """(the result, its order, the sequences as float64)."""
    result, values = _run(case, ctx, "pack_sequence", wrap)
    return result, _packed_result(case, ctx, "pack_sequence", result, case.lengths, case.enforce_sorted), values


def _unpad(case, ctx, wrap=None):
    """(the result, the padded input as float64 (T, B, *))."""
    result, x = _run(case, ctx, "unpad_sequence", wrap)
    return _sequence_list(case, ctx, "unpad_sequence", result, _shapes(case)), x


def _unpack(case, ctx, wrap=None):
    """(the result, the packed input as a reference Packed)."""
    result, packed = _run(case, ctx, "unpack_sequence", wrap)
    return _sequence_list(case, ctx, "unpack_sequence", result, _shapes(case)), packed


def _shapes(case):
    return [(length,) + case.features for length in case.lengths]


def _compare_sequences(case, ctx, name, got, expected):
    return [compare_exact(f"{name}[{b}]", g, e, ctx.dtype, case) for b, (g, e) in enumerate(zip(got, expected))]


@register("packing_utils", strategy=_cases(("pack_padded_sequence",)), kinds=KINDS,
          requires=("pack_padded_sequence",))
def check_pack_padded_sequence_matches_reference(case, ctx):
    """pack_padded_sequence (time- or batch-first, sorted or not, lengths a tensor or a list)
    returns the reference's data and batch_sizes, a permutation that sorts the lengths and
    its inverse (None for both with enforce_sorted)."""
    result, order, x = _pack_padded(case, ctx)
    return _compare_packed(case, ctx, result, x, order)


@register("packing_utils", strategy=_cases(("pad_packed_sequence",)), kinds=KINDS, requires=("pad_packed_sequence",))
def check_pad_packed_sequence_matches_reference(case, ctx):
    """pad_packed_sequence (batch_first, padding_value, total_length) returns the reference's
    padded tensor and lengths, in the original batch order."""
    result, expected, _ = _pad_packed(case, ctx)
    return [compare_exact("padded", result[0], expected[0], ctx.dtype, case),
            compare_exact("lengths", result[1], expected[1], ctx.dtype, case)]


@register("packing_utils", strategy=_cases(("pack_sequence",)), kinds=KINDS, requires=("pack_sequence",))
def check_pack_sequence_matches_reference(case, ctx):
    """pack_sequence of a list of sequences (sorted or not) returns the reference's packing."""
    result, order, values = _pack_sequence(case, ctx)
    return _compare_packed(case, ctx, result, reference.pad_sequence(values), order)


@register("packing_utils", strategy=_cases(("pad_sequence",)), kinds=KINDS, requires=("pad_sequence",))
def check_pad_sequence_matches_reference(case, ctx):
    """pad_sequence (batch_first, padding_value, padding_side where the target has it)
    returns the reference's padded tensor."""
    result, expected, _ = _pad(case, ctx)
    return [compare_exact("padded", result, expected, ctx.dtype, case)]


@register("packing_utils", strategy=_cases(("unpad_sequence",)), kinds=KINDS, requires=("unpad_sequence",))
def check_unpad_sequence_matches_reference(case, ctx):
    """unpad_sequence returns each sequence of a padded batch, in batch order."""
    result, before = _unpad(case, ctx)
    expected = reference.unpad_sequence(before, np.array(case.lengths))  # before is (T, B, *) already
    return _compare_sequences(case, ctx, "unpad_sequence(...)", result, expected)


@register("packing_utils", strategy=_cases(("unpack_sequence",)), kinds=KINDS, requires=("unpack_sequence",))
def check_unpack_sequence_matches_reference(case, ctx):
    """unpack_sequence returns each sequence of a packed batch (sorted or not), in the
    original order."""
    result, packed = _unpack(case, ctx)
    return _compare_sequences(case, ctx, "unpack_sequence(...)", result, reference.unpack_sequence(packed))


# -- round trips ----------------------------------------------------------------------------

@register("packing_utils", strategy=_cases(tuple(ROUND_TRIPS), needs=ROUND_TRIPS.get), kinds=KINDS)
def check_packing_round_trips(case, ctx):
    """pad_packed_sequence(pack_padded_sequence(x)) is x with its padding replaced and the
    given lengths, unpack_sequence(pack_sequence(s)) and unpad_sequence(pad_sequence(s)) are
    the sequences s, exactly."""
    for name in ROUND_TRIPS[case.function]:
        _utility(ctx, name)
    if case.function == "pad_packed_sequence(pack_padded_sequence)":
        packed, _, x = _pack_padded(case, ctx)
        back = _pair(case, "pad_packed_sequence", _call(
            ctx, "pad_packed_sequence", packed, batch_first=case.batch_first, padding_value=case.padding_value,
            total_length=case.steps))
        for b, length in enumerate(case.lengths):
            x[length:, b] = case.padding_value
        return [compare_exact("padded (pad_packed_sequence of pack_padded_sequence)", back[0], _layout(x, case),
                              ctx.dtype, case),
                compare_exact("lengths (pad_packed_sequence of pack_padded_sequence)", back[1],
                              np.array(case.lengths), ctx.dtype, case)]
    if case.function == "unpack_sequence(pack_sequence)":
        packed, _, sequences = _pack_sequence(case, ctx)
        back = _sequence_list(case, ctx, "unpack_sequence", _call(ctx, "unpack_sequence", packed), _shapes(case))
    else:
        case = case.with_(padding_side="right")  # unpad_sequence reads right-padded sequences
        padded, _, sequences = _pad(case, ctx)
        back = _sequence_list(case, ctx, "unpad_sequence", _call(
            ctx, "unpad_sequence", padded, torch.tensor(case.lengths), batch_first=case.batch_first), _shapes(case))
    return _compare_sequences(case, ctx, case.function, back, sequences)


# -- gradients ------------------------------------------------------------------------------

def _scatter(grad, lengths, order, steps):
    """The adjoint of packing in ``order``: packed rows back to (steps, B, *) in batch order,
    zeros in the padding."""
    batch = len(lengths)
    order = np.arange(batch) if order is None else order
    batch_sizes = np.array([int(np.sum(np.asarray(lengths) > t)) for t in range(max(lengths))])
    packed = reference.Packed(grad, batch_sizes, order, np.argsort(order))
    return reference.pad_packed_sequence(packed, total_length=steps)[0]


@register("packing_utils", strategy=_cases(PACKING_FUNCTIONS), kinds=KINDS, requires=("backward",))
def check_packing_gradients_match_reference(case, ctx):
    """The gradient through each utility is the adjoint of what it moves, exactly: a packed
    result's upstream gradient goes back to the padded positions it came from (zeros in the
    padding), a padded result's back to its packed rows or sequences.  The utilities are
    given computed tensors, as in a model (not leaves)."""
    _utility(ctx, case.function)
    rng = streams.rng(case.seed, "packing_upstream_gradient")
    leaves = []

    def computed(tensor):
        """A computed tensor equal to ``tensor`` (a fresh leaf's copy, non-contiguous when
        the case is) whose gradient reaches that leaf."""
        leaf = tensor.detach().clone(memory_format=torch.contiguous_format).requires_grad_()
        leaves.append(leaf)
        if case.contiguous:
            return leaf.clone()
        return torch.stack([leaf, torch.zeros_like(leaf)], -1).flatten(-2)[..., ::2]

    def upstream(outputs):
        """Random upstream gradients for ``outputs`` (as tensors and as float64) after
        checking that each output requires grad; runs backward."""
        hooks.holds(case, assert_requires_grad, f"{case.function}'s result", list(outputs), "its input does")
        grads = [to_torch(rng.standard_normal(tuple(o.shape)), ctx.dtype, ctx.device) for o in outputs]
        ctx.call("backward", torch.autograd.backward, list(outputs), grads)
        return [as_numpy(g) for g in grads]

    lengths, name = np.array(case.lengths), case.function
    if name == "pack_padded_sequence":
        result, order, _ = _pack_padded(case, ctx, computed)
        expected = [_layout(_scatter(upstream([result.data])[0], lengths, order, case.steps), case)]
    elif name == "pad_packed_sequence":
        result, _, packed = _pad_packed(case, ctx, computed)
        expected = [_in_order(_layout(upstream([result[0]])[0], case), lengths, packed.sorted_indices).data]
    elif name == "pack_sequence":
        result, order, _ = _pack_sequence(case, ctx, computed)
        padded = _scatter(upstream([result.data])[0], lengths, order, max(lengths))
        expected = [padded[:length, b] for b, length in enumerate(lengths)]
    elif name == "pad_sequence":
        padded = _layout(upstream([_pad(case, ctx, computed)[0]])[0], case)
        steps = padded.shape[0]
        expected = [padded[:length, b] if case.padding_side == "right" else padded[steps - length:, b]
                    for b, length in enumerate(lengths)]
    elif name == "unpad_sequence":
        grads = upstream(_unpad(case, ctx, computed)[0])
        padded = np.zeros((case.steps, case.batch) + case.features)
        for b, length in enumerate(lengths):
            padded[:length, b] = grads[b]
        expected = [_layout(padded, case)]
    else:
        result, packed = _unpack(case, ctx, computed)
        order = np.arange(case.batch) if packed.sorted_indices is None else packed.sorted_indices
        grads = upstream(result)
        expected = [_in_order(reference.pad_sequence([grads[b] for b in order]), lengths[order], None).data]
    return [compare_exact(f"grad of input {i}" if len(leaves) > 1 else "grad of the input",
                          torch.zeros_like(leaf) if leaf.grad is None else leaf.grad, value, ctx.dtype, case)
            for i, (leaf, value) in enumerate(zip(leaves, expected))]


@register("packing_utils", strategy=_cases(("unpad_sequence",)), kinds=KINDS, requires=("unpad_sequence",))
def check_unpad_sequence_leaves_its_input_unchanged(case, ctx):
    """unpad_sequence leaves the padded tensor it is given as it was (shape, strides, values),
    as every other utility must (their checks check it on every call): torch's transposes it
    in place when batch_first is False."""
    args, kwargs = _arguments(case, ctx, "unpad_sequence")
    snapshot = ctx.snapshot(args)
    _call(ctx, "unpad_sequence", *args, **kwargs)
    _unchanged(case, "unpad_sequence", args, snapshot)
    return []


# -- invalid input --------------------------------------------------------------------------

#: What the utilities must refuse, as torch's do: the violation -> the utility that gets it.
VIOLATIONS = {"a length of 0": "pack_padded_sequence",
              "increasing lengths with enforce_sorted=True": "pack_padded_sequence",
              "sequences of increasing length with enforce_sorted=True": "pack_sequence",
              "total_length shorter than the longest sequence": "pad_packed_sequence",
              "padding_side neither 'left' nor 'right'": "pad_sequence",
              "lengths on the CUDA device (torch requires them on the CPU)": "pack_padded_sequence"}


def _violating(case, violation, device):
    """The case changed so that it commits ``violation`` (None: not on this device)."""
    lengths = list(case.lengths)
    if violation == "a length of 0":
        lengths[case.seed % len(lengths)] = 0
        return case.with_(lengths=tuple(lengths), enforce_sorted=False)
    if "increasing" in violation:
        steps = max(case.steps, 2)
        return case.with_(lengths=(1, *lengths, steps), steps=steps, enforce_sorted=True)
    if violation.startswith("total_length"):
        return case.with_(total_length=max(lengths) - 1)
    if violation.startswith("padding_side"):
        return case.with_(padding_side="middle")
    return case if device.startswith("cuda") else None


@register("packing_utils", strategy=lambda target: packing_cases(("invalid input",), padding_side=False), kinds=KINDS)
def check_packing_invalid_input_rejected(case, ctx):
    """A length of 0, increasing lengths (or sequences) with enforce_sorted=True, a
    total_length shorter than the longest sequence, an unknown padding_side and (on CUDA)
    lengths on the GPU raise an error instead of returning: each example commits every one
    of them that the target's utilities and the device allow, one call each."""
    tried = 0
    for violation, name in VIOLATIONS.items():
        wrong = _violating(case, violation, ctx.device)
        if wrong is None or not ctx.target.supports(name) or (
                violation.startswith("padding_side") and not ctx.target.supports("padding_side")):
            continue
        wrong, tried = wrong.with_(function=name), tried + 1
        args, kwargs = _arguments(wrong, ctx, name)
        if violation.startswith("lengths on the CUDA"):
            args = (args[0], torch.tensor(wrong.lengths, dtype=torch.int64, device=ctx.device))
        refused, _ = ctx.utility_refusal(name, _utility(ctx, name), args, kwargs)
        hooks.checked(wrong, assert_refused, f"{name} accepted {violation} and returned a result", refused)
    if not tried:
        raise Unsupported(f"{ctx.target.impl} has none of the utilities whose invalid input this checks")
    return []


@register("packing_utils", strategy=lambda target: packing_cases(("pack_padded_sequence",)), kinds=KINDS,
          requires=("pack_padded_sequence",))
def check_pack_padded_too_long_lengths_rejected(case, ctx):
    """pack_padded_sequence refuses a length longer than the padded input (there are not
    that many steps to pack) instead of returning a PackedSequence whose batch_sizes count
    rows its data does not hold."""
    lengths = list(case.lengths)
    lengths[case.seed % len(lengths)] = case.steps + 1 + case.seed % 3
    case = case.with_(lengths=tuple(lengths), enforce_sorted=False)
    args, kwargs = _arguments(case, ctx, "pack_padded_sequence")
    refused, result = ctx.utility_refusal("pack_padded_sequence", _utility(ctx, "pack_padded_sequence"), args, kwargs)
    if refused:
        return []
    rows, counted = getattr(result, "batch_sizes", None), ""
    if torch.is_tensor(rows):
        held = getattr(getattr(result, "data", None), "shape", ("?",))[0]
        counted = f"; its batch_sizes count {int(rows.sum())} rows and its data holds {held}"
    hooks.checked(case, assert_refused, f"pack_padded_sequence accepted lengths {list(case.lengths)} for a padded "
                                        f"input of {case.steps} steps and returned a result{counted}", False,
                  "it must raise an error")
