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

from ..config import LAYER_KINDS

#: family -> the modules that hold its checks, in the order reports list them.
FAMILIES = {
    "parity": ("conformance.checks.parity", "conformance.checks.operation_parity"),
    "packing": ("conformance.checks.packing",),
    "gradients": ("conformance.checks.gradients", "conformance.checks.operation_gradients"),
    "metamorphic": ("conformance.checks.metamorphic", "conformance.checks.dropout",
                    "conformance.checks.operation_relations"),
    "contract": ("conformance.checks.contract",),
    "models": ("conformance.checks.models",),
    "packing_utils": ("conformance.checks.packing_utilities",),
}

#: What a failure in each family tells of a target's bug, for grouping failures into one story
#: per bug (``report.messages.root_causes``): ``root``, the target's values differ from the
#: oracle's; ``follows``, a comparison that a wrong forward value explains (gradients through
#: it, the seed models built on it); ``relation``, two runs of the target compared within a bound
#: the oracle's values give (unless the check is ``against_torch``); None, a failure of its own.
ROLES = {"parity": "root", "packing": "root", "gradients": "follows", "metamorphic": "relation", "contract": None,
         "models": "follows", "packing_utils": None}


@dataclass(frozen=True)
class Check:
    """A property: ``strategy(target)`` draws cases, ``body(case, ctx)`` returns comparisons
    (or raises CheckFailure).  ``kinds`` it applies to; target features it ``requires``."""

    name: str
    family: str
    doc: str
    strategy: object
    body: object
    kinds: tuple = tuple(LAYER_KINDS)
    requires: tuple = ()
    #: the other side of its relation is torch's own module (not another run of the target):
    #: its failure is the target's own, never a consequence of another check's
    against_torch: bool = False


def register(family, strategy, kinds=tuple(LAYER_KINDS), requires=(), against_torch=False):
    """Decorator: marks ``check_<name>(case, ctx)`` as the check ``<name>`` of ``family``."""
    assert family in FAMILIES, family

    def decorate(fn):
        name = fn.__name__.removeprefix("check_")
        summary = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        fn.check = Check(name, family, summary, strategy, fn, tuple(kinds), tuple(requires), against_torch)
        return fn

    return decorate


class RegistryError(Exception):
    """A check declared in a way the registry cannot place: the suite's own bug, raised loudly
    instead of dropping the check from every run."""


@lru_cache(maxsize=None)
def checks():
    """name -> Check for every check, family by family in FAMILIES' order, each family's
    checks in the order its module defines them.  Raises RegistryError when a module that
    FAMILIES lists marks a check of a family that does not list that module (the check would
    land in no run), or two checks share a name."""
    marked = {}
    for module_name in dict.fromkeys(m for modules in FAMILIES.values() for m in modules):
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            check = getattr(value, "check", None)
            if isinstance(check, Check) and getattr(value, "__module__", module_name) == module_name:
                if module_name not in FAMILIES[check.family]:
                    raise RegistryError(f"check {check.name} is registered in family {check.family!r} by "
                                        f"{module_name}, which FAMILIES lists only under "
                                        f"{[f for f, ms in FAMILIES.items() if module_name in ms]}: add the module to "
                                        f"FAMILIES[{check.family!r}] or register the check under one of those")
                if check.name in marked and marked[check.name] is not check:
                    raise RegistryError(f"two checks are named {check.name}: in {marked[check.name].body.__module__} "
                                        f"and {module_name}")
                marked[check.name] = check
    table = {}
    for family, modules in FAMILIES.items():
        for module_name in modules:
            table.update((c.name, c) for c in marked.values() if c.family == family and c.body.__module__ == module_name)
    return table
