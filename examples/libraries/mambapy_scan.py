"""mambapy's selective scan (``pip install --no-deps mambapy``): ``MambaBlock.selective_scan``, S6's
recurrence run by mambapy's Blelloch parallel scan (``mambapy/pscan.py``, a custom autograd
function), behind the operation convention of ``reference.recurrences`` (record ``mamba_s6``).

    rnn-conformance --impl examples.libraries.mambapy_scan:selective_scan --dtypes float64,float32

The method uses nothing of its block (``self`` is not read), so it is called unbound, with the
record's inputs as they are (x, dt, A, B, C, D).  It returns the output alone: the final state
is the last step of the same ``pscan`` on the same products, computed here as the method computes
them.  It takes no initial state and no varlen batch: unsupported by its signature and declared.
"""
import torch
from mambapy.mamba import MambaBlock
from mambapy.pscan import pscan


def selective_scan(x, dt, A, B, C, D, output_final_state=False):
    y = MambaBlock.selective_scan(None, x, dt, A, B, C, D)
    final = None
    if output_final_state:  # as selective_scan forms them: exp(dt A) and dt B x
        hs = pscan(torch.exp(dt.unsqueeze(-1) * A), dt.unsqueeze(-1) * B.unsqueeze(2) * x.unsqueeze(-1))
        final = hs[:, -1]
    return y, final


selective_scan.rnn_conformance_variant = "mamba_s6"
selective_scan.rnn_conformance_unsupported = ("varlen",)

selective_scan.rnn_conformance_scan_error = 1.0  # one roundoff a step: the up- and down-sweeps regroup the products
