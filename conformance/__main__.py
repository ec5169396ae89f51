"""``python -m conformance``."""
from .run.entry import run

run()
