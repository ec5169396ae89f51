"""The Hypothesis backend every row draws with: Hypothesis' own, except that the constants it
mixes into draws (literals it reads from "local" source files) come from the suite's own source
only.  Hypothesis reads them from every non-site-packages module loaded, so editing the user's
layer changed the examples a seed drew: a replay after a fix tested other examples, and
``compare`` of two versions of one layer compared different examples.

Imported only where rows run (it imports Hypothesis' internals); ``register`` makes the backend
known to Hypothesis' settings.
"""
import os
import pkgutil
import types

from hypothesis.internal.conjecture import providers

#: The backend's name in Hypothesis' settings.
BACKEND = "rnn-conformance"


def available():
    """Whether this Hypothesis mixes local constants into draws and takes a backend (older
    releases do neither: their draws never depended on the user's source)."""
    return hasattr(providers, "AVAILABLE_PROVIDERS") and hasattr(providers.HypothesisProvider, "_maybe_draw_constant")


def register():
    """Makes BACKEND a backend of Hypothesis' settings; returns whether it is one."""
    if not available():
        return False
    providers.AVAILABLE_PROVIDERS.setdefault(BACKEND, f"{__name__}.SuiteConstantsProvider")
    return True


_POOLS = {}
_SUITE_CONSTANTS = []


def suite_constants():
    """The literals of every module of the suite's packages (test files aside, as Hypothesis leaves
    them aside), read from source whether or not the module is loaded: the same whatever the
    user's code, the install (editable or not) and the modules a row happened to import."""
    if not _SUITE_CONSTANTS:
        from hypothesis.internal.constants_ast import Constants, constants_from_module

        from ...reproduce.standalone import SUITE_PACKAGES
        found = Constants()
        for package in SUITE_PACKAGES:
            root = os.path.dirname(__import__(package).__file__)
            files = [os.path.join(root, "__init__.py")] + [
                os.path.join(root, *info.name.split(".")[1:]) + ("/__init__.py" if info.ispkg else ".py")
                for info in pkgutil.walk_packages([root], prefix=f"{package}.")]
            for path in sorted(files):
                if os.path.basename(path).startswith("test_") or not os.path.exists(path):
                    continue
                module = types.ModuleType(os.path.basename(path))
                module.__file__ = path
                found |= constants_from_module(module)
        _SUITE_CONSTANTS.append(found)
    return _SUITE_CONSTANTS[0]


class SuiteConstantsProvider(providers.HypothesisProvider):
    """Hypothesis' provider drawing constants from its global pool and the suite's literals
    (``suite_constants``), never from the user's modules, with a cache of its own (Hypothesis'
    is shared with every other provider in the process)."""

    def _maybe_draw_constant(self, choice_type, constraints, *, p=0.05):
        from hypothesis.internal.conjecture.choice import choice_constraints_key, choice_permitted
        if self._random.random() > p:
            return None
        key = (choice_type, choice_constraints_key(choice_type, constraints))
        if key not in _POOLS:
            def permitted(values):
                return tuple(c for c in values if choice_permitted(c, constraints))
            # the suite's literals in a fixed order: a set iterates in the order its members were
            # added (here, the order of the files' paths), and moving a module must not change a draw
            pools = (permitted(providers.GLOBAL_CONSTANTS.set_for_type(choice_type)),
                     tuple(sorted(permitted(suite_constants().set_for_type(choice_type)), key=repr)))
            _POOLS[key] = [pool for pool in pools if pool]
        pools = _POOLS[key]
        return self._random.choice(self._random.choice(pools)) if pools else None
