"""A seed draws the same examples whatever the user's own source says (``conformance.draws``):
Hypothesis mixes literals from every local module loaded into its draws, so adding constants
to a target's module changed the examples a seed drew, and a replay after a fix tested others."""
import json
import os
import subprocess
import sys

import pytest

from conformance.report.compare import compare_reports, like_for_like

from tests import REPO
#: A correct GRU that writes down every input it is called on (shape and sum) to the file SEEN names.
PLAIN = """import os

from torch.nn.utils.rnn import PackedSequence

from tests.planted.torch_rnn import TorchGRU


class GRU(TorchGRU):
    def forward(self, input, hx=None):
        data = input.data if isinstance(input, PackedSequence) else input
        with open(os.environ["SEEN"], "a") as seen:
            seen.write(f"{tuple(data.shape)} {float(data.double().sum())!r}\\n")
        return super().forward(input, hx)
"""
#: Literals a size, a length or a seed may be drawn from, once Hypothesis reads them.
LITERALS = "\n\nNOISE = " + repr(tuple(range(7, 300, 3)) + tuple(range(10_007, 4_000_000_000, 99_991_001))
                                  + (0.37, 1.5, 2.75, 1e-3, 7.25, 0.015625, 3.0e-5)) + "\n"


def drawn(folder, source):
    """(the report, every input the target was called on, sorted) of one run on ``layer.GRU`` in ``folder``."""
    (folder / "layer.py").write_text(source)
    report, seen = folder / "report.json", folder / "seen.txt"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}, "PYTHONPATH": REPO,
           "SEEN": str(seen)}
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "layer:GRU", "--checks",
                           "forward_matches_oracle,gradients_match_oracle",
                           "--devices", "cpu", "--dtypes", "float64", "--seed", "4", "--report", str(report)],
                          cwd=folder, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(report.read_text()), sorted(seen.read_text().splitlines())


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_constants_in_the_targets_module_do_not_change_what_a_seed_draws(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain, plain_inputs = drawn(tmp_path / "a", PLAIN)
    noisy, noisy_inputs = drawn(tmp_path / "b", PLAIN + LITERALS)
    assert len(plain_inputs) >= 50 and plain_inputs == noisy_inputs, set(plain_inputs) ^ set(noisy_inputs)
    assert plain["environment"]["rnn_conformance"] == noisy["environment"]["rnn_conformance"]
    assert not like_for_like(plain, noisy)


def test_compare_warns_when_the_suites_differ():
    row = {"check": "forward_matches_oracle", "target": "torch.nn.GRU", "device": "cpu", "dtype": "float64",
           "status": "passed", "worst_ratio": 0.1, "examples": 25}
    old = {"environment": {"rnn_conformance": "0.1.0+aaaa"}, "run": {"seed": 1}, "checks": [row]}
    new = {"environment": {"rnn_conformance": "0.1.0+bbbb"}, "run": {"seed": 1}, "checks": [row]}
    warnings = compare_reports(old, new).warnings
    assert len(warnings) == 1 and "different versions of rnn-conformance (0.1.0+aaaa and 0.1.0+bbbb)" in warnings[0]
