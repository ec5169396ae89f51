"""The pytest plugin costs nothing in a session that does not use it."""
import os
import subprocess
import sys





# --- the plugin costs nothing when unused --------------------------------------------------------

PLAIN_TEST = """
import sys

def test_plain():
    assert "conformance.run.plugin" in sys.modules  # the entry point is loaded ...
    heavy = [m for m in sys.modules if m == "torch" or m.startswith(("torch.", "numpy", "reference", "packaging",
             "conformance.checks.support.strategies", "conformance.checks", "conformance.run.session", "conformance.run.runner"))]
    assert not heavy, heavy  # ... and imports nothing heavy
"""


def test_an_unrelated_pytest_session_imports_no_torch_through_us(tmp_path):
    (tmp_path / "test_plain.py").write_text(PLAIN_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "test_plain.py"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" not in imported and "conformance.run.options" in imported
