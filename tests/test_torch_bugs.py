"""Bugs the suite found in torch itself, recorded where its checks step around them so that the
default run stays green on torch.  Each test passes while torch has the bug and also once it is
fixed (then the workaround in the check can go): it documents, it does not demand the bug."""
import subprocess
import sys

import pytest

UNBATCHED_INPUT_BATCHED_HX = """
import torch
m = torch.nn.{cls}(1, {hidden}, bias=False)
h = torch.zeros({batch}, {hidden})
hx = (h, h.clone()) if "{cls}" == "LSTMCell" else h
try:
    out = m(torch.zeros(1), hx)
    print("returned", flush=True)
except Exception:
    print("raised", flush=True)
"""


def _outcome(cls, batch, hidden):
    done = subprocess.run([sys.executable, "-c", UNBATCHED_INPUT_BATCHED_HX.format(cls=cls, batch=batch, hidden=hidden)],
                          capture_output=True, text=True, timeout=120)
    return done, "crashed" if done.returncode < 0 or done.returncode > 1 else done.stdout.strip()


@pytest.mark.parametrize("cls", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cells_refuse_unbatched_input_with_batched_hx_when_batch_differs_from_hidden_size(cls):
    """What ``cell_invalid_input_rejected`` relies on: hx (B, H) with B != H and input (I,) raises."""
    for batch, hidden in ((2, 1), (4, 3)):
        done, outcome = _outcome(cls, batch, hidden)
        assert outcome == "raised", (cls, batch, hidden, done.returncode, done.stderr[-300:])


@pytest.mark.parametrize("cls", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cells_do_not_refuse_unbatched_input_with_batched_hx_when_batch_equals_hidden_size(cls):
    """torch 2.13 CPU, input (1,) with hx (B, H), B == H: RNNCell returns a result, LSTMCell
    crashes with SIGSEGV (B = H = 1 and 3), GRUCell too at B = H = 1.  So
    ``cell_invalid_input_rejected`` draws B != H for that violation."""
    done, outcome = _outcome(cls, 1, 1)
    assert outcome in ("crashed", "returned", "raised"), (done.returncode, done.stdout, done.stderr[-300:])
    if outcome == "raised":
        pytest.skip(f"{cls} refuses it now: the B != H workaround in cell_invalid_input_rejected can go")
