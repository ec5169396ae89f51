"""rnn-conformance: property-based checks of recurrent layers against the numpy oracle in ``reference``."""
from .checks import CHECKS_BY_NAME
from .config import RNNConfig
from .runner import CheckResult, run_check
from .targets import Target, default_targets, load_target

__all__ = ["CHECKS_BY_NAME", "CheckResult", "RNNConfig", "Target", "default_targets", "load_target", "run_check"]
