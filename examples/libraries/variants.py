"""The variants the real libraries' adapters (``examples/libraries/``) compute, for the oracle: the
worked examples' recurrences in the forms those libraries ship.

* ``MINGRU_LOG_NO_BIAS``: mingru-pytorch's minGRU, log-space (h positive), its projection
  without bias (``Linear(dim, 2 * dim_inner, bias=False)``).
"""
import reference
from examples.min_rnn_variant import mingru_cell

MINGRU_LOG_NO_BIAS = reference.Variant("MINGRU_LOG_NO_BIAS", gates=2, states=("h",), step=mingru_cell,
                                       parameters=(("weight_ih", ("2H", "I")),), domains={"h": "positive"})

#: The same recurrence with h real: what a user who does not know the log-space path needs
#: positive states would declare (the suite then draws negative initial states too).
MINGRU_NO_BIAS = reference.Variant("MINGRU_NO_BIAS", gates=2, states=("h",), step=mingru_cell,
                                   parameters=(("weight_ih", ("2H", "I")),))
