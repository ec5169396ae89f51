"""The checks, one module per family of DESIGN; importing this package registers them all."""
from ..runner import CHECKS as CHECKS_BY_NAME
from . import contract, packing, parity, seed_models  # noqa: F401  (registration)

__all__ = ["CHECKS_BY_NAME"]
