"""Devices asked for by name, CUDA backends as rows of their own and the flags each sets."""

import pytest

from conformance.run.options import resolve
from conformance.run.supervisor import gpu_for

from tests.commands import cli


# --- devices and backends -----------------------------------------------------------------------

def cuda_available():
    import torch
    return torch.cuda.is_available()


@pytest.mark.skipif(cuda_available(), reason="needs a machine without a usable GPU")
def test_a_device_asked_for_by_name_that_is_not_there_is_exit_2():
    done = cli("--devices", "cuda", "--checks", "parity")
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "--devices cuda: CUDA is not available" in done.stderr and "--skip-missing-devices" in done.stderr
    opted = cli("--devices", "cpu,cuda", "--skip-missing-devices", "--checks", "small_shapes_match_oracle",
                "--dtypes", "float64", "--profile", "quick")
    assert opted.returncode == 0 and "skipped 3 rows on cuda" in opted.stdout


def test_backends_multiply_cuda_rows_only_and_reach_the_replay():
    from conformance.run import session
    from conformance.targets.loading import default_targets
    options = resolve({"devices": "cpu,cuda", "dtypes": "float32", "checks": "forward_matches_oracle",
                       "backends": "cudnn,native"})
    rows = session.plan(options, default_targets()[:1], 1)
    assert [(r.row.device, r.row.backend) for r in rows] == [("cpu", "default"), ("cuda", "cudnn"), ("cuda", "native")]
    assert session.rows_at_most(options) == 9
    assert rows[2].id == "forward_matches_oracle-torch.nn.RNN-cuda/native-float32"
    died = session.died_row(rows[2], "killed by signal 11 (SIGSEGV)", "forward", "")
    assert died.backend == "native" and died.replay.endswith("--backends native")


def test_an_unknown_backend_is_one_line_and_exit_2():
    done = cli("--backends", "cudnn,tensorrt")
    assert done.returncode == 2 and "--backends 'tensorrt': expected a comma-separated list of default, " \
                                   "cudnn-tf32, cudnn, native" in done.stderr


def test_workers_spread_over_the_gpus_round_robin():
    assert [gpu_for(slot, 4, 2) for slot in range(4)] == [0, 1, 0, 1]
    assert [gpu_for(0, 1, 3, f"gw{n}") for n in range(5)] == [0, 1, 2, 0, 1]
    assert gpu_for(3, 4, 8, "gw1") == 7


def test_each_backend_sets_the_flags_the_tolerance_reads():
    import torch

    from conformance.targets.backends import in_force, selected
    from conformance.checks.support.tolerances import TF32_ROUNDOFF, precision_for, uses_tf32
    before = in_force()
    expected = {"cudnn-tf32": (True, True), "cudnn": (True, False), "native": (False, before["cuda.matmul.allow_tf32"])}
    for backend, (enabled, tf32) in expected.items():
        with selected(backend):
            assert (in_force()["cudnn.enabled"], uses_tf32("cuda", torch.float32)) == (enabled, tf32), backend
            assert precision_for("cuda", torch.float32).operand == (TF32_ROUNDOFF if tf32 else 0.0)
            assert not uses_tf32("cpu", torch.float32) and not uses_tf32("cuda", torch.float64)
    assert in_force() == before  # torch's flags restored
