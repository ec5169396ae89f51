"""The claims: each expectation torch's semantics set on what a target returned, written once.

A claim is a function ``assert_<what>(...)`` that returns when it holds and raises ClaimFailed
with one line (what was got; what torch returns) when it does not.  The checks call them
through ``hooks.holds`` (a false claim fails the row), and a standalone reproducer carries this
module's functions verbatim and calls the same ones through ``expect``, so that a check and its
script cannot drift apart.  Needs only torch, numpy and the standard library.

The kinds: a result's structure (``assert_structure`` for a layer, ``assert_cell_structure``, and
``assert_tensor`` that both and the packing utilities use); close under a per-element bound
(``assert_close``, ``assert_runs``, ``assert_either``); identical (``assert_identical``); unchanged
(``assert_same_layout``, ``assert_same_items``); and what a module holds after backward
(``assert_torch_parameters``, ``assert_trained``, ``assert_requires_grad``).
"""
import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence


class ClaimFailed(AssertionError):
    """A claim that does not hold; its text is the one line a user reads."""


def describe(value):
    """'None', 'a tuple of 2', 'a Tensor': what a value is, in a message."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def short(value):
    """A tensor's values as a list (None as 'None') on one line, cut to 120 characters, in a message."""
    return "None" if value is None else " ".join(str(value.tolist() if torch.is_tensor(value) else value).split())[:120]


def assert_tensor(name, value, shape, dtype, device, contract="torch returns"):
    """``value`` is a tensor of ``dtype`` on ``device`` (its index too, when it names one) with
    ``shape``, as torch returns (``contract``: who says so, in the message)."""
    if not torch.is_tensor(value):
        raise ClaimFailed(f"{name} is {describe(value)}; {contract} a tensor")
    where = torch.device(device)
    if value.device.type != where.type or (where.index is not None and value.device.index != where.index):
        raise ClaimFailed(f"{name} is on {value.device}; {contract} it on {device}")
    if value.dtype != dtype:
        raise ClaimFailed(f"{name} is {value.dtype}; {contract} {dtype}")
    if tuple(value.shape) != tuple(shape):
        raise ClaimFailed(f"{name} has shape {tuple(value.shape)}; {contract} {tuple(shape)}")


def assert_structure(result, given, shapes, dtype, device):
    """A layer's forward on ``given`` returns (output, h_n), or (output, (h_n, c_n)) for an LSTM
    (a variant of more states: all of them, in ``shapes``' order): a PackedSequence output with
    the input's batch_sizes and indices for packed input, a tensor otherwise, and tensors of
    ``dtype`` on ``device`` with torch's ``shapes`` (name -> shape; output's packed data)."""
    names = [name for name in shapes if name != "output"]
    several = len(names) > 1
    if not (isinstance(result, tuple) and len(result) == 2):
        expected = f"(output, ({', '.join(names)}))" if several else "(output, h_n)"
        raise ClaimFailed(f"forward returned {describe(result)}; torch returns the tuple {expected}")
    output, state = result
    if several and not (isinstance(state, tuple) and len(state) == len(names)):
        lstm = names == ["h_n", "c_n"]
        raise ClaimFailed(f"{'the LSTM state' if lstm else 'the state'} is {describe(state)}; "
                          f"{'torch returns' if lstm else 'expected'} the tuple ({', '.join(names)})")
    packed = isinstance(given, PackedSequence)
    if packed != isinstance(output, PackedSequence):
        raise ClaimFailed(f"output is {describe(output)}; torch returns "
                          f"{'a PackedSequence for packed input' if packed else 'a tensor for a tensor input'}")
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices") if packed else ():
        expected, got = getattr(given, field), getattr(output, field)
        if (expected is None) != (got is None) or (got is not None and not (
                torch.is_tensor(got) and torch.equal(expected.cpu(), got.cpu()))):
            raise ClaimFailed(f"output.{field} is {short(got)}; torch returns the input's {short(expected)}")
    values = dict(zip(names, tuple(state) if several else (state,)), output=output.data if packed else output)
    for name, shape in shapes.items():
        assert_tensor(name, values[name], shape, dtype, device)


def assert_operation_result(result, operation, output_shape, state_shapes, dtype, state_dtypes, device, states):
    """An operation returns (o, final_state): o a tensor of ``dtype`` on ``device`` with
    ``output_shape``; the final state a tensor (a tuple of ``states`` for several) of one of
    ``state_dtypes``, one per sequence (``state_shapes``)."""
    several = len(states) > 1
    expected = f"(o, ({', '.join(states)}))" if several else "(o, final_state)"
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ClaimFailed(f"the operation returned {describe(result)}; its record {operation} returns {expected}")
    output, final = result
    if several and not (isinstance(final, (tuple, list)) and len(final) == len(states)):
        raise ClaimFailed(f"the final state is {describe(final)}; its record {operation} returns the tuple "
                          f"({', '.join(states)})")
    contract = f"its record {operation} returns"
    assert_tensor("o", output, output_shape, dtype, device, contract)
    for name, part, shape in zip(states, tuple(final) if several else (final,), state_shapes):
        label = f"final_state.{name}" if several else "final_state"
        dtype_of = part.dtype if torch.is_tensor(part) and part.dtype in state_dtypes else state_dtypes[0]
        assert_tensor(label, part, shape, dtype_of, device, contract)


def assert_cell_structure(result, shape, dtype, device, paired):
    """A cell returns h' (with ``paired``, an LSTM cell, the pair (h', c')): tensors of ``dtype``
    on ``device`` with ``shape``."""
    parts = result if paired and isinstance(result, tuple) and len(result) == 2 else (result,)
    if paired and len(parts) != 2:
        raise ClaimFailed(f"an LSTM cell returns the pair (h', c'); got {describe(result)}")
    for name, part in zip(("h'", "c'"), parts):
        assert_tensor(name, part, shape, dtype, device)


def assert_packed_order(name, packed, lengths, enforce_sorted, device):
    """A packed result's indices: None for both with ``enforce_sorted``; otherwise int64 tensors
    of one index per sequence on ``device``, sorted_indices sorting ``lengths`` longest first and
    unsorted_indices inverting it."""
    indices = (packed.sorted_indices, packed.unsorted_indices)
    if enforce_sorted:
        if any(i is not None for i in indices):
            raise ClaimFailed(f"{name}(enforce_sorted=True) returned sorted_indices {short(indices[0])} and "
                              f"unsorted_indices {short(indices[1])}; torch returns None for both")
        return
    for field, value in zip(("sorted_indices", "unsorted_indices"), indices):
        if value is None:
            raise ClaimFailed(f"{name}(enforce_sorted=False) returned {field} None; torch returns the permutation")
        assert_tensor(f"{name}(...).{field}", value, (len(lengths),), torch.int64, device)
    order, inverse = (i.cpu().numpy() for i in indices)
    if sorted(order.tolist()) != list(range(len(lengths))) or np.any(np.diff(np.asarray(lengths)[order]) > 0):
        raise ClaimFailed(f"{name}(...).sorted_indices {order.tolist()} does not sort the lengths {list(lengths)} "
                          f"longest first")
    if not np.array_equal(inverse, np.argsort(order)):
        raise ClaimFailed(f"{name}(...).unsorted_indices {inverse.tolist()} does not invert sorted_indices "
                          f"{order.tolist()}")


def assert_sequence_list(name, value, count):
    """``value`` is a list (or tuple) of ``count`` items."""
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise ClaimFailed(f"{name} returned {describe(value)}; torch returns a list of {count} tensors")


def assert_pair(name, value):
    """``value`` is the pair (padded, lengths)."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise ClaimFailed(f"{name} returned {describe(value)}; torch returns (padded, lengths)")


def assert_same_items(name, items, before):
    """The list a call was given holds the same objects in the same order afterwards."""
    if len(items) != len(before) or any(a is not b for a, b in zip(items, before)):
        raise ClaimFailed(f"{name} reordered or changed the list of sequences it was given")


def assert_same_layout(what, value, before):
    """A call left its argument ``value`` with the (shape, strides) it had ``before``; ``what``
    names the argument."""
    shape, stride = before
    if tuple(value.shape) != tuple(shape) or value.stride() != tuple(stride):
        raise ClaimFailed(f"{what} in place: shape {tuple(shape)} strides {tuple(stride)} became "
                          f"{tuple(value.shape)} strides {value.stride()}")


def assert_requires_grad(what, outputs, because):
    """Results computed from tensors that require grad require grad themselves (``what``: the
    results, ``because``: which of their inputs do)."""
    if any(not torch.is_tensor(o) or not o.requires_grad for o in outputs):
        raise ClaimFailed(f"{what} does not require grad although {because}")


def assert_torch_parameters(module, shapes, frozen=()):
    """``module``'s state_dict holds exactly torch's names with torch's ``shapes`` (name ->
    shape), each a trainable parameter (but the ``frozen`` names its variant declares)."""
    got = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    shapes = {name: tuple(shape) for name, shape in shapes.items()}
    if got != shapes:
        missing, extra = sorted(set(shapes) - set(got)), sorted(set(got) - set(shapes))
        wrong = sorted(k for k in set(got) & set(shapes) if got[k] != shapes[k])
        detail = "; ".join(part for part in (
            f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
            ", ".join(f"{k} is {got[k]} not {shapes[k]}" for k in wrong)) if part)
        raise ClaimFailed(f"state_dict differs from torch's: {detail}")
    parameters = dict(module.named_parameters())
    untrained = [n for n, p in parameters.items() if not p.requires_grad and n not in frozen]
    if untrained or set(parameters) | set(frozen) != set(shapes):
        raise ClaimFailed(f"every state_dict entry must be a trainable parameter; not: "
                          f"{untrained or sorted(set(shapes) - set(parameters))}")


def assert_trained(module, kind, frozen=()):
    """After backward, every trainable parameter of ``module`` (but the ``frozen`` names) holds
    a finite gradient that is not all zero: every weight of torch's ``kind`` gets one here."""
    for name, parameter in module.named_parameters():
        if name in frozen:
            continue
        if not parameter.requires_grad:
            problem = "is frozen (requires_grad=False); every parameter of torch's layer is trained"
        elif parameter.grad is None:
            problem = "received no gradient (.grad is None): the output does not reach it through autograd"
        elif not bool(torch.isfinite(parameter.grad).all()):
            problem = "received a non-finite gradient where every exact gradient is finite"
        elif not bool(parameter.grad.any()):
            problem = (f"received a gradient of exactly zero, though every weight of torch's {kind} gets "
                       f"a gradient here that no rounding makes zero")
        else:
            continue
        raise ClaimFailed(f"parameter {name} {problem}")


def numbers(value):
    """A tensor or array as float64 numpy values."""
    return value.detach().to("cpu", torch.float64).numpy() if torch.is_tensor(value) else np.asarray(value, np.float64)


def close_ratios(got, expected, tolerance):
    """(|got - expected|, error / tolerance) per element, float64: infinite where ``got`` is NaN
    or ``expected`` is not finite (a NaN or an overflow is never close)."""
    error = np.abs(got - expected)
    with np.errstate(over="ignore", invalid="ignore"):  # an error past float64 over a tiny tolerance: inf
        ratio = np.where(np.isnan(got) | ~np.isfinite(expected), np.inf, error / tolerance)
    return error, ratio


def either_ratios(got, outcomes, tolerances):
    """(|got - outcome|, error / tolerance) per allowed outcome, stacked along a first axis:
    infinite where ``got`` is NaN."""
    errors = np.stack([np.abs(got - np.asarray(outcome, np.float64)) for outcome in outcomes])
    with np.errstate(over="ignore", invalid="ignore"):
        ratios = np.where(np.isnan(got), np.inf, errors / np.stack([np.broadcast_to(t, got.shape) for t in tolerances]))
    return errors, ratios


def differing(got, other):
    """Where two runs differ bit for bit (NaN matching NaN)."""
    return ~((got == other) | (np.isnan(got) & np.isnan(other)))


def worst(ratio):
    """The index of the largest element of ``ratio`` (the first of equals)."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))


def at(quantity, index):
    """'output[0, 1]': an element of ``quantity``, in a message."""
    return f"{quantity}[{', '.join(map(str, index))}]"


def assert_refused(what, refused, expected="torch raises an error"):
    """A call that must raise did (``refused``); ``what`` says what it was given and returned."""
    if not refused:
        raise ClaimFailed(f"{what}; {expected}")


def assert_unmodified(what, change, because=""):
    """A call left its arguments as they were: ``change`` is None, or (argument, index, was, now)
    of the first element it changed (``contract.first_change``)."""
    if change is not None:
        name, index, was, now = change
        raise ClaimFailed(f"{what}{'' if name == 'it' else ' ' + name}: element {list(index)} was {was:.8g}, is now "
                          f"{now:.8g}{because}")


def assert_instance(what, value, classes, expected):
    """``value`` is one of ``classes`` (``expected`` names them in the message)."""
    if not isinstance(value, classes):
        raise ClaimFailed(f"{what} returned {describe(value)}; torch returns {expected}")


def assert_dropped_or_kept(neither, units, p):
    """Under dropout at rate ``p`` every unit whose two outcomes are told apart was dropped (0)
    or kept and scaled by 1/(1-p): ``neither`` of those ``units`` was something else."""
    if neither:  # no fraction to measure: the units did not go through dropout at all
        raise ClaimFailed(f"{neither} of {units} units are neither dropped (0) nor kept and scaled by 1/(1-p) at "
                          f"p={p:g}: this is not dropout between the layers")


def assert_same_shape(quantity, got, other, sides=None):
    """``got`` has the shape of ``other``: the contract's (torch semantics), or, with ``sides``
    naming two runs, the other run's."""
    if tuple(got.shape) != tuple(other.shape):
        if sides:
            raise ClaimFailed(f"{quantity}: {sides[0]} has shape {tuple(got.shape)}, {sides[1]} {tuple(other.shape)}")
        raise ClaimFailed(f"{quantity} has shape {tuple(got.shape)}, torch semantics give {tuple(other.shape)}")


def assert_close(quantity, got, expected, tolerance):
    """Every element of ``got`` within ``tolerance`` (per element) of ``expected`` (the exact
    values, float64): the error bound of a correct implementation in this dtype."""
    got, expected = numbers(got), np.asarray(expected, np.float64)
    assert_same_shape(quantity, got, expected)
    error, ratio = close_ratios(got, expected, tolerance)
    if ratio.size and ratio.max() > 1.0:
        i = worst(ratio)
        raise ClaimFailed(f"{at(quantity, i)}: got {got[i]:.8g}, expected {expected[i]:.8g}, error {error[i]:.3g}, "
                          f"tolerance {tolerance[i]:.3g} (error/tolerance {ratio[i]:.3g}); "
                          f"{int((ratio > 1.0).sum())} of {ratio.size} elements off")


def assert_runs(quantity, sides, got, other, tolerance):
    """Two runs of one exact function (named by ``sides``) within ``tolerance`` (per element):
    twice the error bound of each."""
    got, other = numbers(got), numbers(other)
    assert_same_shape(quantity, got, other, sides)
    difference, ratio = close_ratios(got, other, tolerance)
    if ratio.size and ratio.max() > 1.0:
        i = worst(ratio)
        raise ClaimFailed(f"{at(quantity, i)}: {sides[0]} {got[i]:.8g}, {sides[1]} {other[i]:.8g}, "
                          f"difference {difference[i]:.3g}, tolerance {tolerance[i]:.3g}")


def assert_identical(quantity, sides, got, other):
    """Two runs whose arithmetic is identical agree bit for bit (NaN matching NaN)."""
    got, other = numbers(got), numbers(other)
    assert_same_shape(quantity, got, other, sides)
    differs = differing(got, other)
    if differs.any():
        i = worst(differs)
        raise ClaimFailed(f"{at(quantity, i)}: {sides[0]} {got[i]:.8g}, {sides[1]} {other[i]:.8g} (they must be "
                          f"identical); {int(differs.sum())} of {differs.size} elements differ")


def assert_either(quantity, got, outcomes, tolerances):
    """Each element of ``got`` within its tolerance of one of the allowed ``outcomes`` (e.g. a
    unit dropped, or kept and scaled)."""
    got = numbers(got)
    for outcome in outcomes:
        assert_same_shape(quantity, got, np.asarray(outcome))
    ratios = either_ratios(got, outcomes, tolerances)[1].min(axis=0)
    if ratios.size and ratios.max() > 1.0:
        i = worst(ratios)
        allowed = ", ".join(f"{np.asarray(e)[i]:.8g}" for e in outcomes)
        raise ClaimFailed(f"{at(quantity, i)}: got {got[i]:.8g}, allowed {allowed} (nearest error/tolerance "
                          f"{ratios[i]:.3g}); {int((ratios > 1.0).sum())} of {ratios.size} elements off")
