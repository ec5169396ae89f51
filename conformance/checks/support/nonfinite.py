"""Where a NaN or an inf came from: a failing example whose result is not finite is run once more
under a dispatch mode that watches every operation torch runs, forward and backward, and names
the first that made a non-finite value from finite inputs (an exp that overflowed, a division by
0, the derivative of sqrt at 0) and the first that made a NaN (0 * inf, inf - inf), with the
autograd node it ran in.  A NaN where the exact value is finite fails whatever the bound says
(``tolerances.compare``); this says why."""
import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


def _floats(tree):
    return [t for t in tree_flatten(tree)[0] if torch.is_tensor(t) and t.is_floating_point() and t.numel()]


def _finite(tensors):
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def _has_nan(tensors):
    return any(bool(torch.isnan(t).any()) for t in tensors)


def _largest(tensors):
    return max(float(t.detach().abs().max()) for t in tensors)


class FirstNonFinite(TorchDispatchMode):
    """Records ``made`` (the first operation that turned finite inputs into NaN or inf) and
    ``nan`` (the first that made a NaN out of inputs without one), each a phrase."""

    def __init__(self):
        super().__init__()
        self.made = self.nan = None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.nan is None:
            outs = _floats(out)
            ins = _floats((args, kwargs))
            if outs and ins and not _finite(outs):  # without float inputs it made its values (empty, full)
                if self.made is None and _finite(ins):
                    self.made = _describe(func, ins, outs)
                if _has_nan(outs) and not _has_nan(ins):
                    self.nan = _describe(func, ins, outs)
        return out


def _describe(func, ins, outs):
    name = func.overloadpacket.__name__.rstrip("_")
    node = torch._C._current_autograd_node()
    where = f"in the backward of {node.name()}" if node is not None else "in the forward"
    name = f"{name} ({where})"
    dtype = outs[0].dtype
    if name.startswith("exp ") and ins and not _finite(outs):
        limit = math.log(torch.finfo(dtype).max)
        return f"{name} overflowed: its input reached {_largest(ins):.4g} ({dtype} overflows above {limit:.4g})"
    if name.startswith("mul ") and len(ins) >= 2 and any(bool(torch.isinf(t).any()) for t in ins) and _has_nan(outs):
        return f"{name} multiplied 0 by inf"
    if name.startswith("div ") and len(ins) >= 2 and bool((ins[1] == 0).any()):
        return f"{name} divided by 0"
    if name.split()[0] in ("sqrt", "rsqrt", "log", "pow") and ins and bool((ins[0] <= 0).any()):
        return f"{name} was given {float(ins[0].min()):.4g}"
    return f"{name} returned {'nan' if _has_nan(outs) else 'inf'}"


def cause(run):
    """``run()`` (a failing example, again) under FirstNonFinite: a line saying where its first
    non-finite value came from, or None when it made none (or raised before)."""
    watch = FirstNonFinite()
    try:
        with watch:
            run()
    except Exception:  # the example fails again as it did: what it made before is what we want
        pass
    if watch.made is None and watch.nan is None:
        return None
    parts = [f"the first inf or NaN: {watch.made}" if watch.made else None,
             f"the first NaN: {watch.nan}" if watch.nan and watch.nan != watch.made else None]
    return "; ".join(p for p in parts if p)
