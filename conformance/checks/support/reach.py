"""How far a row's draws reach toward the sizes production kernels run at: a row that draws more
examples (a profile, ``run.profiles``) can afford longer and wider ones.  The runner builds each
row's strategy inside ``reaching``; a strategy built outside one (a user's own test) reaches as
far as the default profile.
"""
import contextlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Reach:
    """steps: the most tokens of an operation's long sequence (its chunks of 64 and past).
    work: what one operation example may cost the oracle, in state elements times tokens (the
        sequences' states times the longest sequence; each token also costs what
        ``TOKEN_OVERHEAD`` elements do): wide states get fewer tokens, never a longer run.
    layer_sizes: the widths a layer's production draw takes its input or hidden size from.
    layer_steps: the most steps of a layer's long sequence.
    layer_batch: the most sequences of a layer's large batch.
    layer_work: the same budget for a layer example, in weights times steps times sequences.
    """

    steps: int
    work: int
    layer_sizes: tuple
    layer_steps: int
    layer_batch: int
    layer_work: int


#: What one token of an operation costs the oracle beside its state (its primitives' overhead).
TOKEN_OVERHEAD = 6000
#: The widths past 129 a layer's production draw takes (cuDNN and oneDNN switch algorithms by
#: hidden size; kernels tile units by 256): each tile edge and one past it, a width of no tile,
#: and the hidden sizes models ship.
_LAYER_SIZES = (256, 257, 300, 512, 513, 768, 1024)
#: The reach of each profile (``run.profiles.PROFILES`` names the same ones).
REACHES = {"quick": Reach(steps=300, work=2_000_000, layer_sizes=_LAYER_SIZES[:6], layer_steps=520, layer_batch=80,
                          layer_work=4_000_000),
           "default": Reach(steps=600, work=8_000_000, layer_sizes=_LAYER_SIZES, layer_steps=600, layer_batch=128,
                            layer_work=12_000_000),
           "thorough": Reach(steps=4096, work=48_000_000, layer_sizes=_LAYER_SIZES + (1025, 2048), layer_steps=2048,
                             layer_batch=256, layer_work=120_000_000)}
_CURRENT = []


def current():
    """The Reach a strategy is being built under (``reaching``), or the default profile's."""
    return _CURRENT[-1] if _CURRENT else REACHES["default"]


@contextlib.contextmanager
def reaching(reach):
    """Strategies built inside draw as far as ``reach`` (a Reach) goes."""
    _CURRENT.append(reach)
    try:
        yield reach
    finally:
        _CURRENT.pop()
