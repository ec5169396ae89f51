"""A record whose input's domain the draws cannot satisfy: unit vectors along no axis."""
from reference.operations import Input, Operation

UNSATISFIABLE = Operation("unsatisfiable", (Input("q", ("B", "T", "K")), Input("beta", ("B", "T"), "unit_norm")),
                          (("S", ("K",)),), ("B", "T", "K"), lambda x, state, scale: (state, x.q))


def op(q, beta, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None):
    raise AssertionError("never called")


op.rnn_conformance_variant = "tests.planted.unsatisfiable_operation:UNSATISFIABLE"
