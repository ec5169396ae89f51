"""Running the suite's command line from a test, as a user would: a clean environment, the
checkout as the working directory, a small plan."""
import json
import os
import subprocess
import sys

from tests import REPO

#: A small plan of rows: two parity checks of one target on the CPU in two dtypes, quick profile.
SMALL = ["--checks", "forward_matches_oracle,small_shapes_match_oracle", "--devices", "cpu",
         "--dtypes", "float64,float32", "--profile", "quick"]
#: A planted bug the small plan fails (h_n and c_n left in sorted order).
BUG = "tests.planted.bugs:LSTMStatesLeftInSortedOrder"


def cli(*args, env=None, timeout=300):
    """``python -m conformance *args`` from the checkout, without the caller's RNN_CONFORMANCE_*
    variables (``env``: more variables).  It runs one worker process unless ``--jobs`` or
    ``env`` say otherwise: the test shares the cores with the other tests (pytest-xdist), and a
    second worker's import of torch would cost more than its share of a small plan saves."""
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=environment(env))


def environment(env=None):
    """The environment ``cli`` runs the command in: the caller's without its RNN_CONFORMANCE_*
    variables, warnings off, one worker, and ``env`` on top."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    return {**clean, "PYTHONWARNINGS": "ignore", "RNN_CONFORMANCE_JOBS": "1", **(env or {})}


def write(tmp_path, name, data):
    """A file of ``data`` (a string, or JSON of anything else) in tmp_path; its path."""
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)
