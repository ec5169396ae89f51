"""The checks, one module per family of DESIGN; importing this package registers them all."""
from ..runner import CHECKS as CHECKS_BY_NAME
from . import parity, packing, gradients, metamorphic, contract, seed_models  # noqa: F401,I001  (registration, in report order)

__all__ = ["CHECKS_BY_NAME"]
