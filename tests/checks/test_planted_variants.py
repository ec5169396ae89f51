"""Variants torch does not have: correct pure-torch layers of ONNX's variants and of the README's
IndRNN pass every check that applies; their planted bugs fail; a mistake in a variant's
description is reported as the description's, in one line; the README's worked example runs
as written; onnxruntime's layers (examples/onnx_rnn.py) pass in float32."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.errors import UsageError
from tests.checks import test_planted_bugs as planted_bugs
from tests.planted.variants import CORRECT, PLANTED

from tests import REPO, sweep  # noqa: E402

ROOT = Path(REPO)


def run(impl, dtypes="float64,float32", stop_at_failure=False, **more):
    return planted_bugs.run(impl, dtypes, stop_at_failure, **more)


def _impl(cls):
    return f"{cls.__module__}:{cls.__name__}"


#: The correct layers, the quickest to check first (the one every test run checks).
QUICKEST_FIRST = sorted(CORRECT, key=lambda cls: cls.__name__ != "IndRNN")


@pytest.mark.parametrize("layer", sweep(QUICKEST_FIRST), ids=lambda cls: cls.__name__)
def test_a_correct_layer_of_the_variant_passes_every_check_that_applies(layer):
    results = run(_impl(layer))
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    passed = [r for r in results if r.status == "passed"]
    assert all(r.examples > 0 for r in passed)
    families = {r.family for r in passed}
    if layer.__name__.endswith("Cell"):  # kind variant_cell: the cells' checks, every one
        assert len(passed) == len(results) >= 18 and {"parity", "gradients", "metamorphic", "contract"} <= families
        return
    assert len(passed) >= 40
    assert {"parity", "packing", "gradients", "metamorphic", "contract", "models"} <= families
    unsupported = {r.check for r in results if r.status == "unsupported"}
    assert "sequence_equals_cell_loop" in unsupported  # torch has no cell of the variant to loop


def test_every_new_variant_has_three_planted_bugs():
    counts = {}
    for _, variant in PLANTED:
        counts[variant] = counts.get(variant, 0) + 1
    assert {layer.rnn_conformance_variant for layer in CORRECT} == set(counts)
    assert min(counts.values()) >= 3, counts


@pytest.mark.parametrize("bug", sweep([cls for cls, _ in PLANTED], fast=5), ids=lambda cls: cls.__name__)
def test_planted_bug_of_a_variant_is_rejected(bug):
    results = run(_impl(bug), dtypes="float64", stop_at_failure=True)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"{bug.__name__} ({bug.__doc__.strip()}) passed every check"
    message = failed[0].message
    for part in (failed[0].check, f"target={_impl(bug)}", "dtype=float64",
                 f"configuration: {bug.rnn_conformance_variant}(", "replay: rnn-conformance --impl",
                 "--kind variant"):
        assert part in message, (part, message)


@pytest.mark.parametrize("impl, variant, words", [
    ("BareStepIndRNN", None, "its step returned a single value"),
    ("UndeclaredParameterIndRNN", None, "the step reads w.weight_q, which is not a parameter of its variant"),
    ("NotAVariantIndRNN", None, "is a function, not a reference.Variant"),
    ("UnknownModeIndRNN", None, "mode='INDRNN': expected one of"),
    ("UndeclaredIndRNN", "tests.planted.bad_variants:NO_SUCH_NAME", "is nothing, not a reference.Variant"),
    ("UndeclaredIndRNN", "tests.planted.no_such_module:X", "cannot import|raised ModuleNotFoundError"),
    ("IndRNN", "LSTM_PEEPHOLE", "--variant LSTM_PEEPHOLE but"),
])
def test_a_mistake_in_the_description_is_the_descriptions_in_one_line(impl, variant, words):
    module = "examples.indrnn" if impl == "IndRNN" else "tests.planted.bad_variants"
    with pytest.raises(UsageError, match=words) as caught:
        run(f"{module}:{impl}", dtypes="float64", variant=variant)
    assert "\n" not in str(caught.value)


def test_a_description_that_breaks_the_record_is_reported_at_import(tmp_path):
    (tmp_path / "broken_description.py").write_text(
        "import reference\n"
        "BROKEN = reference.Variant('BROKEN', gates=2, states=('h',), step=lambda gx, h, w: (h,),\n"
        "                           parameters=(('weight_ih', ('H', 'I')),))\n")
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "tests.planted.bad_variants:UndeclaredIndRNN",
                           "--variant", "broken_description:BROKEN", "--devices", "cpu"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Variant 'BROKEN': parameters must start with ('weight_ih', ('2H', 'I'))" in lines[0]


def test_a_layer_that_does_not_hold_its_variants_parameters_fails_on_its_state_dict():
    results = run("tests.planted.bad_variants:WrongShapeIndRNN", dtypes="float64", checks="contract")
    named = [r for r in results if r.check == "parameters_named_like_torch"]
    assert named and named[0].status == "failed" and "weight_hh_l0" in named[0].message


def test_the_readmes_worked_example_runs_as_written():
    """The README's command for the IndRNN example, with a small budget: every row that applies passes."""
    readme = (ROOT / "README.md").read_text()
    command = "rnn-conformance --impl examples.indrnn:IndRNN --dtypes float64,float32"
    assert command in readme
    done = subprocess.run([sys.executable, "-m", "conformance"] + command.split()[1:]
                          + ["--devices", "cpu", "--max-examples", "5", "--seed", "3", "--checks",
                             "parity,packing,gradients"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " 0 failed, 0 error" in done.stdout and "examples.indrnn:IndRNN" in done.stdout


@pytest.mark.parametrize("layer", sweep(["ResetBeforeGRU", "PeepholeLSTM", "CoupledLSTM", "ClippedLSTM",
                                         "HardSigmoidLSTM"]))
def test_onnxruntime_layers_pass_in_float32(layer):
    pytest.importorskip("onnxruntime")
    results = run(f"examples.onnx_rnn:{layer}", dtypes="float32")
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    passed = {r.check for r in results if r.status == "passed"}
    assert len(passed) >= 16 and {"pack_padded_unsorted_matches_oracle", "packed_sequence_matches_running_alone",
                                  "bidirectional_equals_forward_and_reversed"} <= passed  # sequence_lens, both ways


def test_a_report_keeps_the_variant_given_on_the_command_line_for_its_reruns(tmp_path):
    """--variant is not in the class: the report records it, and --rerun-failed runs the same variant."""
    from conformance.run import session
    from conformance.run.options import resolve

    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "conformance", "--impl", "tests.planted.bad_variants:UndeclaredIndRNN",
                           "--variant", "GRU_RESET_BEFORE", "--checks", "parameters_named_like_torch", "--devices",
                           "cpu", "--dtypes", "float64", "--seed", "1", "--report", str(report)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-1500:] + done.stderr[-1500:]
    options, rows = session.rerun_failed(resolve({"rerun-failed": str(report)}))
    assert (options.impl, options.kind, options.variant) == ("tests.planted.bad_variants:UndeclaredIndRNN", "variant",
                                                             "GRU_RESET_BEFORE")
    assert len(rows) == 1
