"""Variants described wrongly, and layers that declare them: each mistake must be reported as
the description's, in one line, before any example runs."""
import torch

import reference
from examples.indrnn import IndRNN
from examples.indrnn_variant import indrnn_cell


def _returns_a_bare_array(gx, h, w):
    return reference.relu(gx + w.weight_hh * h)  # not a tuple of the new state


def _reads_an_undeclared_parameter(gx, h, w):
    return (reference.relu(gx + w.weight_q * h),)


RETURNS_A_BARE_ARRAY = reference.Variant(
    "BARE", gates=1, states=("h",), step=_returns_a_bare_array,
    parameters=(("weight_ih", ("H", "I")), ("weight_hh", ("H",))))
READS_AN_UNDECLARED_PARAMETER = reference.Variant(
    "UNDECLARED", gates=1, states=("h",), step=_reads_an_undeclared_parameter,
    parameters=(("weight_ih", ("H", "I")), ("weight_hh", ("H",))))
NOT_A_VARIANT = indrnn_cell


class BareStepIndRNN(IndRNN):
    rnn_conformance_variant = "tests.planted.bad_variants:RETURNS_A_BARE_ARRAY"


class UndeclaredParameterIndRNN(IndRNN):
    rnn_conformance_variant = "tests.planted.bad_variants:READS_AN_UNDECLARED_PARAMETER"


class NotAVariantIndRNN(IndRNN):
    rnn_conformance_variant = "tests.planted.bad_variants:NOT_A_VARIANT"


class UnknownModeIndRNN(IndRNN):
    rnn_conformance_variant = "INDRNN"  # the README's variant is not one of the oracle's own


class WrongShapeIndRNN(IndRNN):
    """Declares IndRNN and holds a full hidden matrix: its state_dict is not the variant's."""

    def __init__(self, input_size, hidden_size, *args, **kwargs):
        super().__init__(input_size, hidden_size, *args, **kwargs)
        with torch.no_grad():
            self.weight_hh_l0 = torch.nn.Parameter(torch.zeros(hidden_size, hidden_size))


class UndeclaredIndRNN(IndRNN):
    """IndRNN that leaves its variant to --variant."""

    rnn_conformance_variant = None
