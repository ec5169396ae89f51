"""The project's own tests, arranged like the code (docs/architecture.md)."""
import os

#: The checkout's root.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
