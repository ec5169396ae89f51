"""Hostile targets (tests/planted/hostile.py): every run ends with its summary and its report,
names what went wrong, and exits 0 or 1 as deserved; never a traceback, never a lost row."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from conformance.checks.support.boundary import Context
from conformance.run.cli import exit_code
from conformance.errors import CheckFailure
from conformance.checks.registry import Check, checks
from conformance.run.runner import run_check
from conformance.run.supervisor import GRACE
from conformance.checks.support.strategies import configs
from conformance.targets.loading import default_targets

from tests import REPO, sweep
QUICK = ["--devices", "cpu", "--dtypes", "float64", "--profile", "quick", "--seed", "1"]


def run_hostile(tmp_path, target, *args):
    """The CLI on tests.planted.hostile:<target>; returns (completed process, report, planned rows)."""
    report = tmp_path / f"{target}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", f"tests.planted.hostile:{target}",
                           "--report", str(report), *args], cwd=REPO, capture_output=True, text=True, env=env,
                          timeout=600)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    planned = int(re.search(r"(\d+) rows?, seed", done.stdout).group(1))
    data = json.loads(report.read_text())
    assert len(data["checks"]) == planned and sum(data["summary"].values()) == planned
    assert f"{data['summary']['passed']} passed, {data['summary']['failed']} failed" in done.stdout
    return done, data


@pytest.mark.parametrize("target, checks, says", sweep([
    ("SegfaultingLSTM", "forward_matches_oracle,hx_none_equals_zeros",
     "the target crashed: killed by signal 11 (SIGSEGV) during forward"),
    ("ExitingGRU", "forward_matches_oracle", "the target crashed: forward called sys.exit(3) (exit code 3)"),
    ("HardExitingGRU", "forward_matches_oracle,small_shapes_match_oracle",
     "the target crashed: exited with code 3 during forward"),
    ("StateWithBatchAxisWhenUnbatchedLSTM", "unbatched_equals_batch_of_one,gradients", "; torch returns ("),
    ("StateWithoutLayerAxisGRU", "forward_matches_oracle,gradients,batch_split_matches_whole",
     "h_n has shape (1, 1); torch returns (1, 1, 1)"),
    ("ReturnsNoneRNN", "forward_matches_oracle,gradients_match_oracle",
     "forward returned None; torch returns the tuple (output, h_n)"),
    ("ReturnsListGRU", "forward_matches_oracle", "forward returned a list of 2; torch returns the tuple (output, h_n)"),
    ("OutputInFloat32LSTM", "forward_matches_oracle,stacked_equals_composed_layers",
     "output is torch.float32; torch returns torch.float64"),
    ("StateOnMetaDeviceGRU", "forward_matches_oracle,packing", "h_n is on meta; torch returns it on cpu"),
    ("NaNOutputRNN", "forward_matches_oracle", "got nan"),
    ("BackwardRaisesGRU", "gradients_match_oracle", "backward raised RuntimeError: planted failure in backward"),
    ("RaisesKeyboardInterruptGRU", "forward_matches_oracle", "forward raised KeyboardInterrupt"),
    ("RaisesTorchScriptErrorGRU", "forward_matches_oracle",
     "forward raised RuntimeError: expected scalar type Float but found Double"),
    ("MutatesInputLSTM", "forward_leaves_inputs_unchanged", "forward modified its argument input"),
], fast=5))
def test_hostile_target_fails_its_rows_and_the_run_goes_on(tmp_path, target, checks, says):
    done, data = run_hostile(tmp_path, target, "--checks", checks, *QUICK)
    assert done.returncode == 1, done.stdout
    failed = [row for row in data["checks"] if row["status"] == "failed"]
    assert failed and data["summary"]["error"] == 0
    assert any(says in row["message"] for row in failed), [row["message"] for row in failed]
    for row in failed:  # every failed row is named: in full, or under the row that failed on its configuration
        shown = row["message"] in done.stdout or f"    {row['check']}  cpu float64: " in done.stdout
        assert shown and row["counterexample"] and row["replay"].startswith("rnn-conformance")


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_every_row_of_a_crashing_target_fails_on_a_fresh_worker(tmp_path):
    done, data = run_hostile(tmp_path, "HardExitingGRU", "--checks", "parity,hx_none_equals_zeros", "--jobs", "1",
                             *QUICK)
    assert [row["status"] for row in data["checks"]] == ["failed"] * 3


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_crash_replay_reproduces_the_crash(tmp_path):
    _, data = run_hostile(tmp_path, "SegfaultingLSTM", "--checks", "small_shapes_match_oracle", *QUICK)
    replay = data["checks"][0]["replay"].split()
    again = subprocess.run([sys.executable, "-m", "conformance", *replay[1:]], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 1 and "killed by signal 11 (SIGSEGV) during forward" in again.stdout


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_native_call_that_never_returns_is_killed_after_the_time_limit(tmp_path):
    started = time.monotonic()
    done, data = run_hostile(tmp_path, "NativeHangRNN", "--checks", "forward_matches_oracle,hx_none_equals_zeros",
                             "--timeout", "2", "--jobs", "1", *QUICK)
    spent = time.monotonic() - started
    assert done.returncode == 1
    assert [row["status"] for row in data["checks"]] == ["failed", "failed"]
    assert all("the target hung: forward did not return within 2 s" in row["message"] for row in data["checks"])
    assert spent < 2 * (2 + GRACE) + 30, spent  # two hung rows, each killed at the limit plus the grace


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_ctrl_c_ends_with_the_summary_and_a_partial_report(tmp_path):
    report = tmp_path / "partial.json"
    process = subprocess.Popen([sys.executable, "-m", "conformance", "--impl", "tests.planted.hostile:NativeHangRNN",
                                "--checks", "parity,contract", "--timeout", "120", "--report", str(report), *QUICK],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.readline()  # the plan is printed: the rows are running
    time.sleep(15)  # the first rows fail fast (parameter names) before the hang
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr and "interrupted: " in stdout
    data = json.loads(report.read_text())
    assert data["interrupted"]["planned"] == 6 and data["interrupted"]["finished"] == len(data["checks"]) < 6


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_inference_only_float32_target_with_approximate_activations_passes_when_declared(tmp_path):
    done, data = run_hostile(tmp_path, "InferenceOnlyLSTM", "--devices", "cpu", "--dtypes", "float64,float32",
                             "--seed", "3")
    assert done.returncode == 0, done.stdout
    rows = data["checks"]
    backward = {name for name, check in checks().items() if "backward" in check.requires and "lstm" in check.kinds}
    assert {"gradients_match_oracle", "stacked_regressor_gradients_match_oracle"} <= backward
    assert all(row["status"] == "passed" for row in rows if row["dtype"] == "float32" and row["check"] not in backward)
    assert all(row["status"] == "unsupported" and row["reason"].startswith(
        "backward: declared" if row["check"] in backward else "float64: declared")
        for row in rows if row["dtype"] == "float64")
    assert {row["check"] for row in rows if row["reason"] and row["reason"].startswith("backward")} == backward
    declared = data["declarations"]["tests.planted.hostile:InferenceOnlyLSTM"]
    assert declared["activation_error"]["value"] == 2.0 ** -24 and "backward" in declared["unsupported"]


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_the_same_target_declaring_nothing_fails(tmp_path):
    done, data = run_hostile(tmp_path, "InferenceOnlyLSTMUndeclared", "--checks", "forward_matches_oracle,gradients",
                             "--devices", "cpu", "--dtypes", "float32", "--seed", "3")
    assert done.returncode == 1
    assert {row["check"] for row in data["checks"] if row["status"] == "failed"} >= {
        "forward_matches_oracle", "gradients_match_oracle"}


def test_declarations_from_the_command_line_for_a_class_one_cannot_edit(tmp_path):
    done, data = run_hostile(tmp_path, "InferenceOnlyLSTMUndeclared", "--checks", "parity,gradients",
                             "--unsupported", "backward,float64", "--activation-error", str(2.0 ** -24),
                             "--devices", "cpu", "--dtypes", "float64,float32", "--seed", "3")
    assert done.returncode == 0, done.stdout
    assert data["summary"]["passed"] == 2 and data["summary"]["unsupported"] == 8
    declared = data["declarations"]["tests.planted.hostile:InferenceOnlyLSTMUndeclared"]
    assert declared["activation_error"]["source"] == "--activation-error"
    assert declared["unsupported"]["backward"] == "declared with --unsupported"


def test_a_declared_target_with_a_planted_bug_is_rejected(tmp_path):
    done, data = run_hostile(tmp_path, "InferenceOnlyLSTMForgetGateIgnored", "--checks", "parity",
                             "--devices", "cpu", "--dtypes", "float32", "--profile", "quick", "--seed", "3")
    assert done.returncode == 1 and data["summary"]["failed"] == 2


def test_suite_exception_is_an_error_row_with_its_traceback():
    def body(config, ctx):
        return 1 / 0

    check = Check("divides_by_zero", "parity", "a check with a bug of its own",
                  lambda target: configs(max_size=2, max_steps=2, long_steps=0), body)
    result = run_check(check, default_targets()[0], "cpu", "float64", max_examples=2, seed=0)
    assert result.status == "error" and "ZeroDivisionError" in result.traceback
    assert "the suite itself raised ZeroDivisionError" in result.message and "please report it" in result.message


def test_exit_codes_say_who_failed():
    counts = {"passed": 3, "failed": 0, "error": 0, "unsupported": 1, "skipped": 2}
    assert exit_code(counts, interrupted=False) == 0
    assert exit_code({**counts, "error": 1}, interrupted=False) == 3
    assert exit_code({**counts, "error": 1, "failed": 1}, interrupted=False) == 1
    assert exit_code({**counts, "failed": 1}, interrupted=True) == 130


def test_constructor_crashing_while_loaded_is_one_line_and_exit_2():
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl",
                           "tests.planted.hostile:SegfaultsWhenBidirectionalGRU", *QUICK], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stdout == ""
    assert ("the target crashed while being loaded: killed by signal 11 (SIGSEGV) during the constructor "
            "(probing bidirectional)") in done.stderr


def test_unknown_declaration_is_one_line_and_exit_2():
    done = subprocess.run([sys.executable, "-m", "conformance", "--unsupported", "float8"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--unsupported 'float8'" in done.stderr


def test_context_precision_charges_the_declared_activation_error():
    target = default_targets({"activation_error": 1e-6})[0]
    assert Context(target, "cpu", torch.float32).precision.activation == 1e-6


def test_a_failure_that_does_not_happen_again_is_named_not_deterministic():
    calls = []

    def body(config, ctx):
        calls.append(config)
        if len(calls) == 2:  # one example fails once, never when rerun
            raise CheckFailure(config, "wrong once")
        return []

    check = Check("fails_once", "parity", "a target that is wrong only once",
                  lambda target: configs(max_size=4, max_steps=3, long_steps=0), body)
    result = run_check(check, default_targets()[0], "cpu", "float64", max_examples=10, seed=0)
    assert result.status == "failed"
    assert "the target is not deterministic: an example failed, then passed when rerun: first wrong once" in result.message


def worker_thread_settings():
    """In a worker: what sizes its BLAS and OpenMP thread pools and oneDNN's kernel cache."""
    from conformance.run.supervisor import ONEDNN_CACHE, THREAD_VARIABLES
    return {name: os.environ.get(name) for name in (*THREAD_VARIABLES, ONEDNN_CACHE[0])}


def test_workers_start_with_one_blas_thread_each_unless_the_user_set_it(monkeypatch):
    from conformance.run.supervisor import ONEDNN_CACHE, THREAD_VARIABLES, Supervisor
    for name in (*THREAD_VARIABLES, ONEDNN_CACHE[0]):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    supervisor = Supervisor(jobs=1, threads=1)
    try:
        seen = supervisor.run(worker_thread_settings, died=lambda *args: None)
    finally:
        supervisor.close()
    assert seen == {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "3", "OMP_NUM_THREADS": "1",
                    "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "16"}
    # the parent's environment is as it was
    assert "OPENBLAS_NUM_THREADS" not in os.environ and "ONEDNN_PRIMITIVE_CACHE_CAPACITY" not in os.environ


def test_a_run_leaves_no_hypothesis_folder_in_the_working_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RNN_CONFORMANCE_", "HYPOTHESIS_"))}
    env["XDG_CACHE_HOME"], env["PYTHONPATH"] = str(tmp_path / "cache"), REPO
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "torch.nn.GRU", "--checks",
                           "forward_matches_oracle", "--devices", "cpu", "--dtypes", "float64", "--max-examples", "2",
                           "--seed", "1"], cwd=work, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(work.iterdir()) == []
    assert (tmp_path / "cache" / "rnn-conformance" / "hypothesis").is_dir()


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_ctrl_c_is_never_lost_while_workers_restart_under_load(tmp_path):
    """Workers restart every few seconds (a target that hangs in native code, --timeout 1) beside
    two busy processes; a SIGINT at any moment, a worker's start included (it was ignored there,
    and a run went on 45 s), ends the run with exit 130 and a partial report within seconds."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for delay in (0.5, 2.0, 3.5):
            report = tmp_path / f"partial-{delay}.json"
            process = subprocess.Popen([sys.executable, "-m", "conformance", "--impl",
                                        "tests.planted.hostile:NativeHangRNN", "--checks", "parity,packing",
                                        "--timeout", "1", "--jobs", "2", "--report", str(report), *QUICK],
                                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            process.stdout.readline()  # the plan is printed: workers are starting
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            try:
                stdout, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            lasted = time.monotonic() - sent
            assert process.returncode == 130 and lasted < 15, (delay, process.returncode, lasted, stdout + stderr)
            assert "Traceback" not in stdout + stderr and "interrupted: " in stdout
            data = json.loads(report.read_text())
            assert data["interrupted"]["finished"] == len(data["checks"]) < data["interrupted"]["planned"]
    finally:
        for process in busy:
            process.kill()


@pytest.mark.slow  # a long run of its own (seconds to tens): CI runs it with -m slow
def test_ctrl_c_at_any_moment_from_the_start_ends_with_130_a_summary_and_a_report(tmp_path):
    """Issue 39: a Ctrl-C 2 s into the default run (the parent importing torch) gave a bare
    KeyboardInterrupt traceback and death by signal, no summary, no report.  Now a SIGINT at
    0.5, 2, 5 and 20 s after the start (the command's imports, torch's, the plan, rows), on a machine
    kept busy by two other processes, ends the run with 130, no traceback, the counts line and
    a report that says it was interrupted."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for delay in (0.5, 2.0, 5.0, 20.0):
            report = tmp_path / f"partial-{delay}.json"
            process = subprocess.Popen([sys.executable, "-m", "conformance", "--impl", "torch.nn.GRU",
                                        "--devices", "cpu", "--report", str(report)], cwd=REPO,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       env={k: v for k, v in os.environ.items() if not k.startswith("RNN_CONF")})
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
            said = (delay, process.returncode, stdout[-1500:] + stderr[-1500:])
            assert process.returncode == 130 and "Traceback" not in stdout + stderr, said
            if "interrupted while starting" in stderr:  # before the command's modules had imported
                assert delay < 2.0 and not report.exists(), said
                continue
            assert "interrupted: " in stdout and " passed, " in stdout, said
            data = json.loads(report.read_text())
            assert data["interrupted"]["finished"] == len(data["checks"]), said
    finally:
        for process in busy:
            process.kill()


def test_a_ctrl_c_that_arrives_while_a_worker_starts_is_delivered_once_it_started(monkeypatch):
    """The parent ignored SIGINT around a worker's start, so a Ctrl-C in that moment was lost."""
    import multiprocessing.process
    from conformance.run.supervisor import Supervisor, Task
    start = multiprocessing.process.BaseProcess.start

    def interrupted_start(process):
        os.kill(os.getpid(), signal.SIGINT)
        start(process)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", interrupted_start)
    supervisor = Supervisor(jobs=1, timeout=5)
    try:
        with pytest.raises(KeyboardInterrupt):
            list(supervisor.map([Task(len, ("ab",), died=lambda *args: None)]))
    finally:
        supervisor.close()


def test_a_ctrl_c_that_another_thread_receives_while_a_worker_starts_waits_for_the_start():
    """The kernel hands a process's SIGINT to any thread that does not block it (torch's parent
    holds one): Python raised KeyboardInterrupt inside ``Process.start``, between spawning the
    worker and writing what it reads, and the worker printed an EOFError traceback (CI, under
    load).  The interrupt now arrives once the start is over, and only then."""
    import threading
    from conformance.run.supervisor import _sigint_deferred
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are set from the main thread only")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()  # its mask, taken from ours now, lets SIGINT through
    finished = False
    try:
        with pytest.raises(KeyboardInterrupt):
            with _sigint_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # delivered to the other thread at once
                finished = True
    finally:
        stop.set()
        other.join()
    assert finished, "the Ctrl-C interrupted the block it should wait for"
