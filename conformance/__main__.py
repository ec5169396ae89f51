"""``python -m conformance``."""
from .run.cli import run

run()
