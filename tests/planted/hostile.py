"""Hostile targets: each misbehaves the way real third-party RNNs do (native crashes, exits, calls
that never return, results of the wrong structure), or declares what it is.  Every run against
one must end with its summary and report and name what went wrong."""
import ctypes
import os
import signal
import sys
import time

import torch

from .torch_rnn import TorchGRU, TorchLSTM, TorchRNN


class SegfaultingLSTM(TorchLSTM):
    """forward dereferences a null pointer in native code (SIGSEGV)."""

    def forward(self, input, hx=None):
        ctypes.string_at(0)


class SegfaultsWhenBidirectionalGRU(TorchGRU):
    """The constructor crashes in native code for bidirectional=True (seen while the suite probes
    which features the target supports)."""

    def __init__(self, *args, bidirectional=False, **kwargs):
        if bidirectional:
            ctypes.string_at(0)
        super().__init__(*args, **kwargs)


class ExitingGRU(TorchGRU):
    """forward calls sys.exit(3)."""

    def forward(self, input, hx=None):
        sys.exit(3)


class HardExitingGRU(TorchGRU):
    """forward ends its process with os._exit(3): no cleanup, no exception."""

    def forward(self, input, hx=None):
        os._exit(3)


class RaisesKeyboardInterruptGRU(TorchGRU):
    """forward raises KeyboardInterrupt (a BaseException: it must not pass for the user's Ctrl-C)."""

    def forward(self, input, hx=None):
        raise KeyboardInterrupt


#: What sru's TorchScript CPU op raised for float64 input: the cause is the last line, past 300 characters.
TORCHSCRIPT_ERROR = """The following operation failed in the TorchScript interpreter.
Traceback of TorchScript (most recent call last):
  File "/venv/lib/python3.11/site-packages/sru/ops.py", line 74, in elementwise_recurrence_inference
    if not torch.jit.is_scripting() and c_init.is_cuda or U.is_cuda:
        h, c = torch.ops.sru_cpu.cpu_forward(U, x, weight_c, bias, c_init, mask_pad_, length, bidirectional,
               ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ <--- HERE
                                             has_skip_term, scale_x, activation_type)
RuntimeError: expected scalar type Float but found Double
"""


class RaisesTorchScriptErrorGRU(TorchGRU):
    """forward raises a RuntimeError whose text is a TorchScript traceback, its cause on the last line."""

    def forward(self, input, hx=None):
        raise RuntimeError(TORCHSCRIPT_ERROR)


class NativeHangRNN(TorchRNN):
    """forward enters one native call that never returns to Python (the alarm signal is blocked,
    as in a C++ kernel spinning on a lock)."""

    def forward(self, input, hx=None):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)


class StateWithBatchAxisWhenUnbatchedLSTM(TorchLSTM):
    """Unbatched input with batch_first=True: h_n keeps a batch axis of one."""

    def forward(self, input, hx=None):
        output, (h_n, c_n) = super().forward(input, hx)
        if self.batch_first and torch.is_tensor(input) and input.dim() == 2:
            h_n, c_n = h_n.unsqueeze(1), c_n.unsqueeze(1)
        return output, (h_n, c_n)


class StateWithoutLayerAxisGRU(TorchGRU):
    """A one-layer, one-direction GRU returns h_n without its leading layer axis."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        return output, (h_n.squeeze(0) if h_n.shape[0] == 1 else h_n)


class ReturnsNoneRNN(TorchRNN):
    """forward returns None."""

    def forward(self, input, hx=None):
        super().forward(input, hx)


class ReturnsListGRU(TorchGRU):
    """forward returns the list [output, h_n] instead of a tuple."""

    def forward(self, input, hx=None):
        return list(super().forward(input, hx))


class OutputInFloat32LSTM(TorchLSTM):
    """output comes back in float32 whatever the dtype."""

    def forward(self, input, hx=None):
        output, state = super().forward(input, hx)
        return (output.float() if torch.is_tensor(output) else output), state


class StateOnMetaDeviceGRU(TorchGRU):
    """h_n is returned on the meta device (a tensor without data)."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        return output, torch.empty(h_n.shape, dtype=h_n.dtype, device="meta")


class NaNOutputRNN(TorchRNN):
    """output is NaN everywhere (h_n is right)."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        if torch.is_tensor(output):
            output = torch.full_like(output, float("nan"))
        return output, h_n


class _RaisingBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("planted failure in backward")


class BackwardRaisesGRU(TorchGRU):
    """Forward is right; backward raises."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        if torch.is_tensor(output) and output.requires_grad:
            output = _RaisingBackward.apply(output)
        return output, h_n


class MutatesInputLSTM(TorchLSTM):
    """Computes the right result, then halves the input it was given, in place."""

    def forward(self, input, hx=None):
        result = super().forward(input, hx)
        with torch.no_grad():
            input.data.mul_(0.5)
        return result


def _quantized(values):
    """A fast activation's output: the exact value on a grid of 2**-23 (absolute error at most
    2**-24, and values below it flushed to zero)."""
    return torch.round(values * 2.0 ** 23) / 2.0 ** 23


class InferenceOnlyLSTM(TorchLSTM):
    """An exported-graph-like LSTM: float32 only, CPU only, no autograd, and sigmoid/tanh from a
    fast kernel accurate to 2**-24 absolute.  Declares all of it; correct otherwise."""

    rnn_conformance_unsupported = ("backward", "float64", "bfloat16", "float16", "cuda")
    rnn_conformance_activation_error = 2.0 ** -24

    def forward(self, input, hx=None):
        with torch.no_grad():
            return super().forward(input, hx)

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        i, f, g, o = (_quantized(torch.sigmoid(i)), _quantized(torch.sigmoid(f)), _quantized(torch.tanh(g)),
                      _quantized(torch.sigmoid(o)))
        c = f * c + i * g
        h = o * _quantized(torch.tanh(c))
        return [h if w_hr is None else h @ w_hr.t(), c]


class InferenceOnlyLSTMUndeclared(InferenceOnlyLSTM):
    """The same LSTM declaring nothing: its gradients and its approximate activations fail."""

    rnn_conformance_unsupported = ()
    rnn_conformance_activation_error = 0.0


class InferenceOnlyLSTMForgetGateIgnored(InferenceOnlyLSTM):
    """The declared inference-only LSTM with a bug: c' = c + i * g (the forget gate read as 1)."""

    def split(self, gates):
        i, f, g, o = gates.chunk(4, dim=1)
        return i, torch.full_like(f, 60.0), g, o
