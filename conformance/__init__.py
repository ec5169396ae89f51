"""rnn-conformance: property-based checks of recurrent layers against the numpy oracle in ``reference``.

The public names load on first use (PEP 562), so that importing a submodule, as the pytest
plugin does in every session of an environment that has us installed, imports no torch.
"""
import importlib

_PUBLIC = {"CHECKS_BY_NAME": "checks.registry", "CheckResult": "report.record", "RNNConfig": "config",
           "Target": "targets.loading", "default_targets": "targets.loading", "load_target": "targets.loading",
           "run_check": "run.runner", "compare_reports": "report.compare"}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    module = importlib.import_module(f".{_PUBLIC[name]}", __name__)
    return module.checks() if name == "CHECKS_BY_NAME" else getattr(module, name)
