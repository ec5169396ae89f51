"""A layer whose module imports the suite (its Variant defined beside it): a standalone
reproducer of its failure cannot run where only torch and numpy are installed, and says so in
one line (exit 2), never as the failure being there."""
import torch

import reference  # noqa: F401 (the import that makes this module need the suite)
from examples.indrnn import IndRNN
from examples.indrnn_variant import INDRNN as INDRNN_BESIDE  # noqa: F401 (named by the layer)


class IndRNNHiddenBiasIgnoredBesideItsVariant(IndRNN):
    """bias_hh is never added; the variant it names is in this module."""

    rnn_conformance_variant = "tests.planted.beside_its_variant:INDRNN_BESIDE"

    def step(self, gx, h, u, b_hh):
        return torch.relu(gx + u * h)
