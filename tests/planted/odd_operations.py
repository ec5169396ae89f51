"""Operation targets that are wrong in ways the suite must name before any example (exit 2, one
line) or judge as refusals, never as failures: a signature without one of the record's inputs,
a record whose step does not fit its shapes, an operation that refuses cu_seqlens."""
import reference
from examples.ops.gla import recurrent as gla
from reference.operations import Input, Operation


def lacks_an_input(q, k, v, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None):
    """GLA's record has four inputs (q, k, v, g); this signature takes three."""
    raise AssertionError("never called: the suite refuses it at load")


lacks_an_input.rnn_conformance_variant = "gla"


def _misfit_step(x, state, scale):
    (S,) = state
    S = S + reference.outer(x.v, x.k)  # (V, K) added to a (K, V) state
    return (S,), scale * reference.contract(x.q, S)


#: A record whose step adds a (V, K) outer product to its (K, V) state.
MISFIT = Operation("misfit", (Input("q", ("B", "T", "H", "K")), Input("k", ("B", "T", "H", "K")),
                              Input("v", ("B", "T", "H", "V"))), (("S", ("H", "K", "V")),), ("B", "T", "H", "V"),
                   _misfit_step)


def misfit(q, k, v, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None):
    raise AssertionError("never called: the suite refuses its record at load")


misfit.rnn_conformance_variant = "tests.planted.odd_operations:MISFIT"


def refuses_varlen(q, k, v, g, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None,
                   **options):
    """GLA's step loop that refuses a varlen batch, as a kernel without varlen support does."""
    if cu_seqlens is not None:
        raise NotImplementedError("cu_seqlens is not supported by this kernel")
    return gla(q, k, v, g, scale=scale, initial_state=initial_state, output_final_state=output_final_state,
               **options)


refuses_varlen.rnn_conformance_variant = "gla"
