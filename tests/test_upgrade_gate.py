"""The upgrade gate: compare two reports, known differences, JUnit XML, devices asked for by name,
CUDA backends as rows, and a plugin that costs nothing when unused."""
import copy
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conformance.report.compare import compare_reports, markdown
from conformance.run.options import resolve
from conformance.run.supervisor import gpu_for

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = ["--checks", "forward_matches_oracle,small_shapes_match_oracle", "--devices", "cpu",
         "--dtypes", "float64,float32", "--profile", "quick"]
BUG = "tests.planted.bugs:LSTMStatesLeftInSortedOrder"


def run(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**clean, "PYTHONWARNINGS": "ignore", **(env or {})})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A real report of torch.nn.GRU (4 passed rows) to edit."""
    path = tmp_path_factory.mktemp("reports") / "old.json"
    done = run("--impl", "torch.nn.GRU", *SMALL, "--seed", "4", "--report", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(path.read_text())


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def compare(*args):
    return run("compare", *args)


# --- compare ----------------------------------------------------------------------------------

def test_compare_of_a_run_with_itself_is_no_regression(report, tmp_path):
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no regression" in done.stdout and "WARNING" not in done.stdout and "environment: the same" in done.stdout


def test_compare_names_a_new_failure_and_exits_1(report, tmp_path):
    new = copy.deepcopy(report)
    row = new["checks"][1]
    row.update(status="failed", worst_ratio=3.2e5, message="FAILED ...")
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", new))
    assert done.returncode == 1
    section = done.stdout.split("new failures (passed before, failing now): 1")[1].splitlines()[1]
    assert section.split() == [row["check"], "torch.nn.GRU", row["device"], row["dtype"], "passed",
                               f"{report['checks'][1]['worst_ratio']:.3g}", "->", "failed", "3.2e+05"]
    assert "GATE FAILED: 1 new failure" in done.stdout
    assert f"compared {len(report['checks'])} rows in common" in done.stdout


def test_compare_flags_a_headroom_jump_but_not_ordinary_wander(report, tmp_path):
    base = copy.deepcopy(report)
    for row in base["checks"]:
        row["worst_ratio"] = 0.1
    jumped, wandered = copy.deepcopy(base), copy.deepcopy(base)
    jumped["checks"][0]["worst_ratio"] = 0.45     # 4.5x and above 0.25
    wandered["checks"][0]["worst_ratio"] = 0.35   # 3.5x: below the default factor
    wandered["checks"][1]["worst_ratio"] = 0.2    # 2x and below the floor
    old = write(tmp_path, "old.json", base)
    done = compare(old, write(tmp_path, "jumped.json", jumped))
    assert done.returncode == 1 and "headroom regressions (worst error/tolerance grew more than 4x" in done.stdout
    assert base["checks"][0]["check"] in done.stdout and "passed 0.1 -> passed 0.45" in done.stdout
    assert compare(old, write(tmp_path, "wandered.json", wandered)).returncode == 0
    assert compare(old, str(tmp_path / "wandered.json"), "--headroom-factor", "3").returncode == 1


def test_compare_lists_fixed_still_failing_lost_and_added(report, tmp_path):
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    old["checks"][0]["status"] = "failed"
    old["checks"][1]["status"] = new["checks"][1]["status"] = "failed"
    new["checks"][2].update(status="unsupported", reason="float32: declared unsupported")
    gone = new["checks"].pop(3)
    new["checks"].append(dict(gone, dtype="bfloat16"))
    comparison = compare_reports(old, new)
    assert [len(getattr(comparison, name)) for name in ("new_failures", "headroom_regressions", "fixed",
                                                         "still_failing", "lost", "availability_changed",
                                                         "added", "added_failing")] == [0, 0, 1, 1, 2, 0, 1, 0]
    assert comparison.failed and markdown(comparison, "o", "n").startswith(
        "## rnn-conformance: GATE FAILED: 2 rows lost (--allow-gone accepts them)")
    allowed = compare_reports(old, new, allow_gone=True)
    text = markdown(allowed, "old.json", "new.json")
    assert not allowed.failed and text.startswith("## rnn-conformance: no regression")
    assert "### fixed (failing before, passing now): 1" in text and "| --- |" in text
    assert "rows lost (absent now, or passed before and unsupported or skipped now) (allowed: --allow-gone): 2" in text


def test_compare_fails_the_gate_when_the_new_run_lost_rows(report, tmp_path):
    """A new report that silently lost half the old one's rows is no pass, unless allowed."""
    half = dict(report, checks=report["checks"][:2])
    old, new = write(tmp_path, "old.json", report), write(tmp_path, "half.json", half)
    done = compare(old, new)
    assert done.returncode == 1 and "GATE FAILED: 2 rows lost" in done.stdout
    assert "compared 2 rows in common" in done.stdout
    assert compare(old, new, "--allow-gone").returncode == 0


def test_compare_fails_the_gate_on_a_new_row_that_fails(report, tmp_path):
    new = copy.deepcopy(report)
    new["checks"].append(dict(report["checks"][0], dtype="float16", status="failed", worst_ratio=None,
                              message="FAILED forward_matches_oracle ... worst element: output[0]",
                              replay="rnn-conformance --impl torch.nn.GRU --dtypes float16"))
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", new), "--markdown")
    assert done.returncode == 1 and "GATE FAILED: 1 new row that fails" in done.stdout
    assert "worst element: output[0]" in done.stdout and "`rnn-conformance --impl torch.nn.GRU --dtypes float16`" in done.stdout


@pytest.mark.parametrize("change, says", [
    (lambda r: r["target"].update(impl="mypkg:MyGRU"), "different targets (torch.nn.GRU and mypkg:MyGRU)"),
    (lambda r: [row.update(target="mypkg:MyGRU") for row in r["checks"]], "no row in common (4 rows before, 4 now)"),
])
def test_compare_of_reports_that_cannot_gate_each_other_fails(report, tmp_path, change, says):
    other = copy.deepcopy(report)
    change(other)
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", other), "--allow-gone")
    assert done.returncode == 1 and f"NOT COMPARABLE: the reports are of {says}" in done.stdout or (
        done.returncode == 1 and f"NOT COMPARABLE: {says}" in done.stdout), done.stdout
    assert "GATE FAILED: the reports cannot be compared" in done.stdout


def test_compare_into_a_closed_pipe_ends_quietly(report, tmp_path):
    a, b = write(tmp_path, "a.json", report), write(tmp_path, "b.json", dict(report, checks=[]))
    done = subprocess.run(f"{sys.executable} -m conformance compare {a} {b} | head -1", shell=True, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("rnn-conformance compare:") and done.stderr == ""


def test_compare_warns_loudly_when_the_runs_drew_different_examples(report, tmp_path):
    other = copy.deepcopy(report)
    other["run"]["seed"] = other["environment"]["seed"] = 99
    other["run"]["profile"] = "default"
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", other))
    assert done.returncode == 0
    warnings = [line for line in done.stdout.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 2 and "different seeds (4 and 99)" in warnings[0] and "profiles" in warnings[1]
    other["run"]["profile"], other["run"]["max_examples"] = report["run"]["profile"], 3
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "c.json", other))
    assert f"different example counts (max examples) ({report['run']['max_examples']} and 3)" in done.stdout


def test_compare_prints_the_environment_difference(report, tmp_path):
    other = copy.deepcopy(report)
    other["environment"].update(torch="9.9.9", cuda="99.1")
    other["environment"]["tf32"]["cudnn.allow_tf32"] = not report["environment"]["tf32"]["cudnn.allow_tf32"]
    done = compare(write(tmp_path, "a.json", report), write(tmp_path, "b.json", other), "--markdown")
    assert done.returncode == 0
    assert f"| torch | {report['environment']['torch']} | 9.9.9 |" in done.stdout
    assert "| cudnn.allow_tf32 |" in done.stdout and f"| cuda | {report['environment']['cuda']} | 99.1 |" in done.stdout


def test_compare_matches_rows_by_backend(report):
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    for data, backend in ((old, "cudnn"), (new, "native")):
        for row in data["checks"]:
            row.update(device="cuda", backend=backend)
    comparison = compare_reports(old, new)
    assert len(comparison.added) == len(comparison.lost) == 4 and "cuda/native" in comparison.added[0].name
    assert comparison.compared == 0 and comparison.failed


@pytest.mark.parametrize("content, says", [
    ("not json", "not a JSON report"),
    ('{"a": 1}', "not an rnn-conformance report"),
    ('{"schema": "rnn-conformance/2", "checks": []}', "report schema 'rnn-conformance/2'; this rnn-conformance "
                                                       "reads 'rnn-conformance/1'"),
    ('{"schema": "rnn-conformance/1", "checks": [{"check": "x"}]}', "checks[0] is not a report row"),
])
def test_compare_of_something_that_is_not_a_report_is_one_line_and_exit_2(report, tmp_path, content, says):
    done = compare(write(tmp_path, "good.json", report), write(tmp_path, "bad.json", content))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr and "bad.json" in done.stderr


def test_compare_of_a_missing_file_or_bad_threshold_is_exit_2(report, tmp_path):
    good = write(tmp_path, "good.json", report)
    assert compare(good, str(tmp_path / "missing.json")).returncode == 2
    done = compare(good, good, "--headroom-factor", "-1")
    assert done.returncode == 2 and "--headroom-factor '-1': expected a positive number" in done.stderr


# --- known differences -------------------------------------------------------------------------

KNOWN = f"""
# accepted differences of the planted bug
[sorted-states]
checks = pack_padded_unsorted_matches_oracle, pack_sequence_matches_oracle
targets = {BUG}
torch = >=2.0   ; every release
reason = states come back in sorted order; https://example.org/issue/1

[too-wide]
checks = packing
dtypes = float32
reason = accepts rows that pass

[nothing]
devices = cuda:7
reason = no row of this run
"""


def test_known_differences_turn_failures_known_and_flag_stale_and_unmatched_entries(tmp_path):
    known, path = write(tmp_path, "known.ini", KNOWN), tmp_path / "report.json"
    args = ["--impl", BUG, "--checks", "packing", "--devices", "cpu", "--dtypes", "float64,float32",
            "--profile", "quick", "--seed", "1", "--known-differences", known]
    done = run(*args, "--report", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {(r["check"], r["dtype"]): r for r in json.loads(path.read_text())["checks"]}
    assert rows[("pack_padded_unsorted_matches_oracle", "float64")]["status"] == "known"
    assert rows[("pack_padded_unsorted_matches_oracle", "float64")]["known"] == "sorted-states"
    assert rows[("pack_padded_sorted_matches_oracle", "float32")]["status"] == "stale"
    assert rows[("pack_padded_sorted_matches_oracle", "float32")]["known"] == "too-wide"
    assert rows[("pack_padded_sorted_matches_oracle", "float64")]["status"] == "passed"
    assert "known (4 rows): states come back in sorted order; https://example.org/issue/1" in done.stdout
    assert "STALE known difference [too-wide]: 1 row it expects to fail passed" in done.stdout
    assert "warning: known difference [nothing] matches no row of this run" in done.stdout
    data = json.loads(path.read_text())
    assert data["known_differences"]["unmatched"] == ["nothing"]
    assert data["known_differences"]["entries"]["sorted-states"]["rows"] == 4
    assert run(*args, "--strict-known").returncode == 1
    assert run(*args, env={"RNN_CONFORMANCE_STRICT_KNOWN": "1"}).returncode == 1


def test_without_the_file_the_same_run_fails():
    assert run("--impl", BUG, "--checks", "pack_sequence_matches_oracle", "--devices", "cpu", "--dtypes", "float64",
               "--profile", "quick", "--seed", "1").returncode == 1


@pytest.mark.parametrize("content, says", [
    ("[a]\nchecks = parity\n", "entry [a]: needs a reason"),
    ("[a]\ndtype = float32\nreason = x\n", "entry [a]: unknown key 'dtype'"),
    ("[a]\ndtypes = float8\nreason = x\n", "entry [a]: dtypes has unknown 'float8'"),
    ("[a]\nchecks = forward_matches_orcale\nreason = x\n", "entry [a]: checks has unknown 'forward_matches_orcale'"),
    ("[a]\ndevices = gpu\nreason = x\n", "entry [a]: devices has unknown 'gpu'"),
    ("[a]\ntorch = >>2\nreason = x\n", "entry [a]: torch '>>2' is not a version range"),
    ("[a]\nbackends =\nreason = x\n", "entry [a]: backends is empty"),
    ("checks = parity\n", "not an INI file of entries"),
    ("[a]\nreason = x\n[a]\nreason = y\n", "section 'a' already exists"),
])
def test_a_malformed_known_differences_file_is_one_line_and_exit_2(tmp_path, content, says):
    done = run("--known-differences", write(tmp_path, "known.ini", content), "--checks", "parity")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


def test_a_known_differences_file_of_comments_only_is_accepted(tmp_path):
    done = run("--known-differences", write(tmp_path, "known.ini", "# nothing accepted yet\n"), *SMALL, "--seed", "1",
               "--impl", "torch.nn.GRU")
    assert done.returncode == 0 and "known difference" not in done.stdout


def test_known_differences_select_by_torch_version_range(tmp_path):
    from conformance.targets.known import classify, load
    from conformance.run.runner import CheckResult
    entries = load(write(tmp_path, "k.ini", "[old]\ntorch = <2.5\nreason = fixed in 2.5\n"), ["x"], ["parity"])
    row = lambda: CheckResult("x", "t", "cpu", "float32", "failed", family="parity")
    assert classify(row(), entries, "2.4.1+cu121").status == "known"
    assert classify(row(), entries, "2.13.0+cpu").status == "failed"


def test_plugin_makes_a_known_difference_an_xfail(tmp_path):
    known = write(tmp_path, "known.ini", KNOWN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_CONFORMANCE_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "conformance",
                           "--rnn-impl", BUG, "--rnn-checks", "pack_sequence_matches_oracle,forward_matches_oracle",
                           "--rnn-devices", "cpu",
                           "--rnn-dtypes", "float64", "--rnn-profile", "quick", "--rnn-seed", "1",
                           "--rnn-known-differences", known, "-rx"], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed, 1 xfailed" in done.stdout and "known difference [sorted-states]" in done.stdout


# --- JUnit XML ----------------------------------------------------------------------------------

def test_junit_xml_has_one_test_case_per_row_with_failures_and_skips(tmp_path):
    path = tmp_path / "out.xml"
    done = run("--impl", "tests.planted.odd_targets:LSTMWithoutPacking", "--checks",
               "pack_sequence_matches_oracle,small_shapes_match_oracle", "--devices", "cpu", "--dtypes", "float64",
               "--profile", "quick", "--seed", "1", "--junit-xml", str(path), "--report", str(tmp_path / "r.json"))
    rows = json.loads((tmp_path / "r.json").read_text())["checks"]
    suite = ET.parse(path).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(rows) == int(suite.get("tests"))
    by_name = {c.get("name"): c for c in cases}
    skipped = by_name["pack_sequence_matches_oracle[cpu-float64]"].find("skipped")
    assert skipped is not None and skipped.get("message").startswith("unsupported: packed")
    assert by_name["small_shapes_match_oracle[cpu-float64]"].find("failure") is None
    assert done.returncode == 0


def test_junit_xml_failure_carries_the_message(tmp_path):
    path = tmp_path / "out.xml"
    done = run("--impl", BUG, "--checks", "pack_sequence_matches_oracle", "--devices", "cpu", "--dtypes", "float64",
               "--profile", "quick", "--seed", "1", "--junit-xml", str(path))
    assert done.returncode == 1
    suite = ET.parse(path).getroot().find("testsuite")
    failure = suite.find("testcase").find("failure")
    assert suite.get("failures") == "1" and failure.get("message").startswith("worst element: ")
    assert "replay: rnn-conformance" in failure.text


# --- devices and backends -----------------------------------------------------------------------

def cuda_available():
    import torch
    return torch.cuda.is_available()


@pytest.mark.skipif(cuda_available(), reason="needs a machine without a usable GPU")
def test_a_device_asked_for_by_name_that_is_not_there_is_exit_2():
    done = run("--devices", "cuda", "--checks", "parity")
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "--devices cuda: CUDA is not available" in done.stderr and "--skip-missing-devices" in done.stderr
    opted = run("--devices", "cpu,cuda", "--skip-missing-devices", "--checks", "small_shapes_match_oracle",
                "--dtypes", "float64", "--profile", "quick")
    assert opted.returncode == 0 and "skipped 3 rows on cuda" in opted.stdout


def test_backends_multiply_cuda_rows_only_and_reach_the_replay():
    from conformance.run import session
    from conformance.targets.loading import default_targets
    options = resolve({"devices": "cpu,cuda", "dtypes": "float32", "checks": "forward_matches_oracle",
                       "backends": "cudnn,native"})
    rows = session.plan(options, default_targets()[:1], 1)
    assert [(r.device, r.backend) for r in rows] == [("cpu", "default"), ("cuda", "cudnn"), ("cuda", "native")]
    assert session.rows_at_most(options) == 9
    assert rows[2].id == "forward_matches_oracle-torch.nn.RNN-cuda/native-float32"
    died = session.died_row(rows[2], "killed by signal 11 (SIGSEGV)", "forward", "")
    assert died.backend == "native" and died.replay.endswith("--backends native")


def test_an_unknown_backend_is_one_line_and_exit_2():
    done = run("--backends", "cudnn,tensorrt")
    assert done.returncode == 2 and "--backends 'tensorrt': expected a comma-separated list of default, " \
                                   "cudnn-tf32, cudnn, native" in done.stderr


def test_workers_spread_over_the_gpus_round_robin():
    assert [gpu_for(slot, 4, 2) for slot in range(4)] == [0, 1, 0, 1]
    assert [gpu_for(0, 1, 3, f"gw{n}") for n in range(5)] == [0, 1, 2, 0, 1]
    assert gpu_for(3, 4, 8, "gw1") == 7


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


# --- the CI recipe ------------------------------------------------------------------------------

def test_every_command_in_the_ci_recipe_is_documented_in_the_readme():
    workflow = open(os.path.join(REPO, "examples", "ci", "torch-upgrade.yml")).read()
    readme = open(os.path.join(REPO, "README.md")).read()
    lines = [line for line in workflow.splitlines() if not line.strip().startswith("#") and "pip " not in line]
    options = {o for line in lines for o in re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", line)}
    assert {"--report", "--junit-xml", "--seed", "--known-differences", "--markdown"} <= options
    for option in options:
        assert f"`{option}" in readme, f"{option} is used by the workflow but not documented in the README"
    for command in ("rnn-conformance compare", "rnn-conformance --"):
        assert command in workflow and command in readme


#: The first major version of each action the workflow uses that runs on Node 24 (older ones warn
#: on every run that Node 20 is deprecated).
NODE24_MAJORS = {"actions/checkout": 5, "actions/setup-python": 6, "actions/cache": 5, "actions/upload-artifact": 6,
                 "actions/download-artifact": 7, "mikepenz/action-junit-report": 6}


def test_the_ci_recipe_installs_what_exists_and_shows_every_row():
    import yaml
    workflow = yaml.safe_load(open(os.path.join(REPO, "examples", "ci", "torch-upgrade.yml")))
    env = workflow["env"]
    assert env["SUITE_REPOSITORY"] == "${{ github.repository }}" and env["SUITE_REF"] == "${{ github.sha }}"
    assert workflow["permissions"]["checks"] == "write"
    for name, job in workflow["jobs"].items():
        steps = job["steps"]
        for step in steps:
            if "uses" in step:
                action, _, version = step["uses"].partition("@")
                assert action in NODE24_MAJORS and int(version.lstrip("v").split(".")[0]) >= NODE24_MAJORS[action], (
                    name, step["uses"])
        suite = [s for s in steps if s.get("uses", "").startswith("actions/checkout@") and "repository" in s.get(
            "with", {})]
        assert suite and suite[0]["with"] == {"repository": "${{ env.SUITE_REPOSITORY }}", "ref": "${{ env.SUITE_REF }}",
                                              "path": ".rnn-conformance"}, name  # a source that exists, pinned
        installs = [line for s in steps for line in s.get("run", "").splitlines() if "pip install" in line]
        suite_installs = [line for line in installs if "torch" not in line]
        assert suite_installs and all(line.rstrip().endswith("./.rnn-conformance") for line in suite_installs), name
        for line in installs:
            assert "torch==" not in line or '--index-url "$TORCH_INDEX"' in line, line  # the CPU wheel
    suite = workflow["jobs"]["suite"]["steps"]
    assert any(s.get("uses", "").startswith("actions/cache@") and s["with"]["path"] == "~/.cache/pip" for s in suite)
    run = next(s["run"] for s in suite if "rnn-conformance --devices" in s.get("run", ""))
    junit = next(s for s in suite if s.get("uses", "").startswith("mikepenz/action-junit-report@"))
    assert junit["if"] == "always()" and junit["with"]["report_paths"] in run  # the XML the run writes is shown
    assert '--reproducers "reports/reproducers-' in run and env["TORCH_INDEX"].endswith("/whl/cpu")
    assert '--html "reports/' in run  # each side's page goes into its artifact with the report
    steps = workflow["jobs"]["compare"]["steps"]
    gate = next(s["run"] for s in steps if "rnn-conformance compare" in s.get("run", ""))
    kept = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "--html comparison.html" in gate and kept["with"]["path"] == "comparison.html" and kept["if"] == "always()"


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
