"""An RG-LRU layer (Griffin's real-gated linear recurrent unit, De et al. 2024, c = 8) with
torch.nn.GRU's contract; the equations: ``examples/rglru_variant.py``.  a is computed in log
space, a = exp(-c r softplus(-Λ)): the same number as the paper's σ(Λ) ** (c r).

sqrt(1 - a**2) is written so, not sqrt(-expm1(2 log a)) as Griffin's code has it: torch's
backward of expm1 is ``grad * (result + 1)``, which cancels where expm1 is near -1 (a small):
the gradient of Λ came out 5e-3 off in float32 (443 times the bound) and 43 times the bound in
float64, on a one-step example with a = 0.003.  Its derivative is bounded as Griffin's is
(``SqrtBoundDerivative``, at most 1000): once the recurrence gate saturates, a rounds to 1, and
torch's sqrt backward divides by 0 (inf and NaN gradients, ``tests/planted/modern.py:
RGLRUUnboundedSqrt``); the exact derivative there is finite, large, and beyond what the
dtype's bound can say.
"""
import torch
import torch.nn.functional as F

from examples.recurrent import Recurrent
from examples.rglru_variant import MAX_SQRT_GRADIENT

C = 8.0


class SqrtBoundDerivative(torch.autograd.Function):
    """sqrt(x), its gradient grad / sqrt(max(4 x, 1 / MAX_SQRT_GRADIENT**2)) (Griffin's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sqrt(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / torch.sqrt(torch.clamp(4.0 * x, min=1.0 / MAX_SQRT_GRADIENT ** 2))


def softplus(x):
    return torch.logaddexp(torch.zeros_like(x), x)


class RGLRU(Recurrent):
    rnn_conformance_variant = "examples.rglru_variant:RGLRU"

    def shapes(self, in_size):
        return {"weight_ih": (3 * self.hidden_size, in_size), "weight_lambda": (self.hidden_size,),
                "bias_ih": (3 * self.hidden_size,)}

    def step(self, x, state, p, side):
        r_pre, i_pre, u = F.linear(x, p("weight_ih"), p("bias_ih")).chunk(3, -1)
        log_a = -C * torch.sigmoid(r_pre) * softplus(-p("weight_lambda"))
        a = torch.exp(log_a)
        return (a * state[0] + SqrtBoundDerivative.apply(1 - a * a) * (torch.sigmoid(i_pre) * u),)
