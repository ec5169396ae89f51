"""The registry of checks: what a check is, the families, and the one table of every check by name.

A family module marks its checks with ``@register(family, ...)``, which attaches a ``Check``
to the function and changes nothing else; ``checks()`` imports the family modules listed in
FAMILIES, in report order, and collects what they mark.  Nothing fills the table as a side
effect of being imported, and importing this module imports neither torch nor Hypothesis
(the options validate check names against FAMILIES before any check is loaded).
"""
import importlib
from dataclasses import dataclass
from functools import lru_cache

#: family -> the modules that hold its checks, in the order reports list them.
FAMILIES = {
    "parity": ("conformance.checks.parity", "conformance.checks.cells"),
    "packing": ("conformance.checks.packing",),
    "gradients": ("conformance.checks.gradients", "conformance.checks.cells"),
    "metamorphic": ("conformance.checks.metamorphic", "conformance.checks.dropout", "conformance.checks.cells"),
    "contract": ("conformance.checks.contract", "conformance.checks.cells"),
    "models": ("conformance.checks.models",),
    "packing_utils": ("conformance.checks.utilities",),
}


@dataclass(frozen=True)
class Check:
    """A property: ``strategy(target)`` draws cases, ``body(case, ctx)`` returns comparisons
    (or raises CheckFailure).  ``kinds`` it applies to; target features it ``requires``."""

    name: str
    family: str
    doc: str
    strategy: object
    body: object
    kinds: tuple = ("rnn", "gru", "lstm")
    requires: tuple = ()


def register(family, strategy, kinds=("rnn", "gru", "lstm"), requires=()):
    """Decorator: marks ``check_<name>(case, ctx)`` as the check ``<name>`` of ``family``."""
    assert family in FAMILIES, family

    def decorate(fn):
        name = fn.__name__.removeprefix("check_")
        summary = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        fn.check = Check(name, family, summary, strategy, fn, tuple(kinds), tuple(requires))
        return fn

    return decorate


@lru_cache(maxsize=None)
def checks():
    """name -> Check for every check, family by family in FAMILIES' order, each family's
    checks in the order its module defines them."""
    table = {}
    for family, modules in FAMILIES.items():
        for module in map(importlib.import_module, modules):
            for value in vars(module).values():
                check = getattr(value, "check", None)
                if isinstance(check, Check) and check.family == family:
                    table[check.name] = check
    return table
