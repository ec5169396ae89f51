"""The project's own tests, arranged like the code (docs/architecture.md)."""
import os

#: The checkout's root.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def benchmark(name):
    """The script ``benchmarks/<name>.py`` as a module (the folder is no package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sweep(cases, fast=1):
    """The cases of a parametrized sweep, the first ``fast`` of them run by every test run and
    the rest marked ``slow``: ``python -m pytest -n 2 tests`` runs a few of each sweep (minutes),
    ``python -m pytest -n 2 tests -m slow`` the rest (CI runs both).  A tuple case is unpacked
    into the parametrize's names."""
    import pytest
    return [case if index < fast else
            pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=pytest.mark.slow)
            for index, case in enumerate(cases)]
