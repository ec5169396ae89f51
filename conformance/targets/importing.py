"""Finding what ``--impl`` names: the module on the search path, the attribute in it, and a
did-you-mean for a misspelling.  Imports no torch: ``findable`` answers before the command
imports it (a typo is said in a fraction of a second, not after torch's seconds of import)."""
import difflib
import importlib
import importlib.util
import os
import pkgutil
import sys

from ..errors import UsageError, one_line


def split(impl):
    """(module name, attribute path) of ``package.module:Attr``; for a dotted path without a
    colon, (the whole path, "") (a module, or a module's attribute: ``resolve`` tries both)."""
    if not isinstance(impl, str) or not impl.strip():
        raise UsageError("--impl is empty: expected package.module:Attr")
    module_name, sep, attr = impl.partition(":")
    if sep and (not module_name or not attr):
        raise UsageError(f"--impl {impl!r}: expected package.module:Attr, e.g. mypkg.layers:MyLSTM")
    return module_name, attr


def _searched():
    """The search path a target is imported from: the folder the run started in, then sys.path."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return sys.path


def findable(impl):
    """Raises UsageError, with a did-you-mean, when the top-level module of ``impl`` is not on
    the search path (the folder the run started in, PYTHONPATH, the installed packages); runs
    none of the target's code."""
    module_name, _ = split(impl)
    top = module_name.partition(".")[0]
    _searched()
    if top and importlib.util.find_spec(top) is None:
        near = _near(top, (m.name for m in pkgutil.iter_modules()))
        raise UsageError(f"--impl {impl}: no module {top!r} in {os.getcwd()} (the folder the run started in) nor on "
                         f"the path (PYTHONPATH, the installed packages): run from the folder that holds it, add "
                         f"that folder to PYTHONPATH, or install it{near}")


def resolve(impl):
    """The object ``impl`` names: ``package.module:Attr``, a dotted path to an attribute, or (for
    packing utilities) a dotted path to a module.  UsageError of one line, with a did-you-mean,
    when it does not import or has no such attribute."""
    module_name, attr = split(impl)
    _searched()
    if not attr:
        whole = _import(impl, impl, missing_ok=True)
        if whole is not None:
            return whole
        module_name, _, attr = impl.rpartition(".")
        if not module_name or not attr:
            raise UsageError(f"--impl {impl!r}: expected package.module:Attr, e.g. mypkg.layers:MyLSTM")
    obj = _import(impl, module_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = [name for name in dir(obj) if not name.startswith("_")]
            raise UsageError(f"--impl {impl}: module {module_name!r} has no attribute {attr!r}{_near(part, public)}")
        obj = getattr(obj, part)
    return obj


def _import(impl, module_name, missing_ok=False):
    """The module ``module_name``; None when it does not exist and ``missing_ok``."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        if missing_ok and isinstance(exc, ModuleNotFoundError) and exc.name and (
                module_name == exc.name or module_name.startswith(exc.name + ".")):
            return None
        hint = ""
        if isinstance(exc, ModuleNotFoundError) and exc.name and module_name.startswith(exc.name):
            parent, _, last = exc.name.rpartition(".")
            found = _submodules(parent) if parent else (m.name for m in pkgutil.iter_modules())
            hint = _near(last, found, prefix=f"{parent}." if parent else "")
        raise UsageError(f"--impl {impl}: cannot import {module_name!r} ({one_line(exc)}){hint}") from None
    except Exception as exc:  # a user's module failing at import time is their input, not our bug
        raise UsageError(f"--impl {impl}: importing {module_name!r} raised {one_line(exc)}") from None


def _submodules(package):
    try:
        return [m.name for m in pkgutil.iter_modules(importlib.import_module(package).__path__)]
    except Exception:  # the package itself does not import: nothing to suggest
        return []


def _near(name, candidates, prefix=""):
    """'; did you mean PREFIX+X?' when a candidate X is close to ``name``, else ''."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.75)
    return f"; did you mean {prefix + close[0]!r}?" if close else ""
