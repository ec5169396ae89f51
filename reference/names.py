"""torch's names for the parameters of a recurrent layer (``weight_ih_l0``, ``bias_hh_l1_reverse``,
``weight_hr_l0``) and of a cell (``weight_ih``, ``bias_hh``): the one place that knows them,
for the oracle, the suite and its tests.

A layer's name is ``<kind>_l<layer>`` plus ``_reverse`` for the reverse direction; a cell's
is the kind alone.
"""
import re

#: The kinds of parameter, in the order torch's ``state_dict`` lists them per layer and direction
#: (a variant of another kind lists its own: ``reference.Variant.parameters``).
KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")

_NAME = re.compile(r"([a-z][a-z0-9]*(?:_[a-z0-9]+)*?)_l(\d+)(_reverse)?")


def suffix(layer, direction=0):
    """'_l1' for layer 1 forward, '_l1_reverse' for its reverse direction."""
    return f"_l{layer}" + ("_reverse" if direction else "")


def suffixes(layer, directions):
    """The suffixes of a layer's directions, forward first."""
    return [suffix(layer, d) for d in range(directions)]


def name(kind, layer, direction=0):
    """The torch name of one parameter."""
    return kind + suffix(layer, direction)


def parse(parameter):
    """(kind, layer, direction) of a torch name; ValueError for any other name."""
    match = _NAME.fullmatch(parameter)
    if match is None:
        raise ValueError(f"{parameter!r} is not a recurrent parameter name (a kind, then _l<layer>, e.g. weight_ih_l0)")
    return match[1], int(match[2]), 1 if match[3] else 0


def parameter_names(num_layers, directions, bias=True, projections=False, kinds=KINDS):
    """Every name of a module's ``state_dict``, in torch's order (of ``kinds``: a variant's own)."""
    kinds = [k for k in kinds if (bias or not k.startswith("bias")) and (projections or k != "weight_hr")]
    return [name(kind, layer, d) for layer in range(num_layers) for d in range(directions) for kind in kinds]


def layer_weights(weights, first, count=1, direction=None):
    """The parameters of layers first..first+count-1 renamed as those of a module of their own
    (starting at layer 0); with ``direction``, only that direction's, renamed as forward."""
    cut = {}
    for parameter, value in weights.items():
        kind, layer, d = parse(parameter)
        if first <= layer < first + count and direction in (None, d):
            cut[name(kind, layer - first, d if direction is None else 0)] = value
    return cut


#: The parameters of torch's RNNCell, GRUCell and LSTMCell, in ``state_dict`` order.
CELL_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def cell_parameter_names(bias=True):
    """Every name of a cell's ``state_dict``, in torch's order."""
    return [k for k in CELL_KINDS if bias or not k.startswith("bias")]


def cell_as_layer(weights, kinds=CELL_KINDS):
    """A cell's parameters renamed as those of a one-layer module (``weight_ih`` -> ``weight_ih_l0``);
    ValueError for a name a cell does not have (of ``kinds``: a variant's own)."""
    layer = {}
    for parameter, value in weights.items():
        if parameter not in kinds:
            raise ValueError(f"{parameter!r} is not a cell parameter name of "
                             f"{'torch' if kinds == CELL_KINDS else 'its variant'}'s (expected {', '.join(kinds)})")
        layer[name(parameter, 0)] = value
    return layer


def layer_as_cell(weights):
    """The inverse of ``cell_as_layer``: layer 0's forward parameters under a cell's names."""
    cell = {}
    for parameter, value in weights.items():
        kind, layer, direction = parse(parameter)
        if (layer, direction) == (0, 0) and kind != "weight_hr":
            cell[kind] = value
    return cell
