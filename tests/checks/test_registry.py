"""The registry: a check lands in exactly one family, or the registry fails loudly."""
import sys
import types

import pytest

from conformance.checks import registry


@pytest.fixture
def fake_module(monkeypatch):
    """A family module ``fake_family_module`` that registers one check under ``packing``."""
    module = types.ModuleType("fake_family_module")

    @registry.register("packing", strategy=None)
    def check_something(case, ctx):
        """A check."""

    check_something.__module__ = module.__name__
    module.check_something = check_something
    monkeypatch.setitem(sys.modules, module.__name__, module)
    registry.checks.cache_clear()
    yield module
    registry.checks.cache_clear()


def test_a_check_registered_under_a_family_that_does_not_list_its_module_fails_loudly(fake_module, monkeypatch):
    monkeypatch.setitem(registry.FAMILIES, "models", registry.FAMILIES["models"] + (fake_module.__name__,))
    with pytest.raises(registry.RegistryError, match="check something is registered in family 'packing' by "
                                                     "fake_family_module, which FAMILIES lists only under"):
        registry.checks()


def test_a_check_whose_family_lists_its_module_is_collected_once(fake_module, monkeypatch):
    monkeypatch.setitem(registry.FAMILIES, "packing", registry.FAMILIES["packing"] + (fake_module.__name__,))
    table = registry.checks()
    assert table["something"].family == "packing" and list(table).count("something") == 1


def test_every_check_of_the_suite_is_in_exactly_one_family():
    """Every function the check modules mark is in the table once, under the one family that
    lists its module (read from the modules themselves, not from the table)."""
    import importlib
    import inspect
    registry.checks.cache_clear()
    table = registry.checks()
    marked = [fn for modules in registry.FAMILIES.values() for name in dict.fromkeys(modules)
              for _, fn in inspect.getmembers(importlib.import_module(name), inspect.isfunction)
              if getattr(fn, "check", None) is not None and fn.__module__ == name]
    assert len(marked) == len(table) > 40
    for fn in marked:
        families = [f for f, modules in registry.FAMILIES.items() if fn.__module__ in modules]
        assert families == [fn.check.family] and table[fn.check.name].body is fn, fn.__name__


def test_every_family_has_its_role_in_a_story():
    """The report groups failures by the roles the registry gives the families (a root cause,
    what follows from it, a relation): a family added without one would fall out of the story."""
    assert set(registry.ROLES) == set(registry.FAMILIES)
    assert set(registry.ROLES.values()) <= {"root", "follows", "relation", None}
