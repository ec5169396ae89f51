"""The operation checks (kind ``operation``) against the worked examples of the matrix-state
recurrences (``examples/ops/``: each must pass) and their planted bugs
(``tests/planted/operations.py``: each must fail), and the wrong operations the suite must name
before any example (``tests/planted/odd_operations.py``).  ``benchmarks/operation_table.py``
runs the same on ten seeds and prints the table."""
from pathlib import Path

import pytest

from tests import REPO, sweep
from tests.checks.test_planted_bugs import run
from tests.commands import cli
from tests.planted.operations import CORRECT, PLANTED
from conformance.run.profiles import PROFILES

#: The planted bugs that exist in float64 only (float32 arithmetic is what they do).
FLOAT64_ONLY = ("float64 computed in float32", "float32 final state for float64 input")


@pytest.mark.parametrize("impl", sweep(CORRECT, fast=2))
def test_each_worked_operation_passes_every_check(impl):
    """At the quick profile's count and reach (tile edges, serving batches, up to 300 tokens within
    a quarter of the default work): the default profile's ten seeds are
    ``benchmarks/operation_table.py``'s, whose rows take minutes each at production sizes."""
    results = run(impl, "float64,float32", stop_at_failure=False, **{"max-examples": str(PROFILES["quick"])})
    assert [r.message for r in results if r.status not in ("passed", "unsupported")] == []
    assert sum(r.status == "passed" for r in results) >= 10 and all(r.examples > 0 for r in results
                                                                     if r.status == "passed")


@pytest.mark.parametrize("name, kind", sweep([(name, kind) for name, kind, _ in PLANTED], fast=3))
def test_each_planted_operation_bug_fails_a_named_check(name, kind):
    dtype = "float64" if kind in FLOAT64_ONLY else "float32"
    results = run(f"tests.planted.operations:{name}", dtype, stop_at_failure=True)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"{name} ({kind}) passed every check in {dtype}"
    for part in (failed[0].check, f"target=tests.planted.operations:{name}", "device=cpu", f"dtype={dtype}",
                 "configuration:", "replay: rnn-conformance"):
        assert part in failed[0].message


def _first_failure(name, dtype, checks, **more):
    results = run(f"tests.planted.operations:{name}", dtype, stop_at_failure=True, checks=checks, **more)
    failed = [r for r in results if r.status == "failed"]
    assert failed, [(r.check, r.status) for r in results]
    return failed[0]


def test_padding_that_updates_the_state_breaks_prefill_then_decode():
    """The last chunk padded with the last token: resuming a call from its final state (the
    last tokens one call each, as decoding runs) diverges from one call."""
    failed = _first_failure("EdgePaddingGatedDeltaRule", "float64", "continuation_equals_one_call")
    assert "worst element: " in failed.message and "the call resumed at tokens [" in failed.message


def test_a_tiny_decay_that_overflows_a_chunk_names_the_exp():
    failed = _first_failure("FactorizedDecayGLA", "float32", "operation_matches_oracle")
    assert "got nan" in failed.message
    assert "non-finite: the first inf or NaN: exp (in the forward) overflowed" in failed.message
    assert "the first NaN: mul (in the forward) multiplied 0 by inf" in failed.message
    assert "decays=tiny" in failed.counterexample


def test_nan_gradients_where_the_forward_masks_name_the_backward():
    """The forward is right (its parity check passes); the gradient is NaN, made in exp's backward."""
    results = run("tests.planted.operations:MaskAfterExpGLA", "float32", stop_at_failure=False,
                  checks="operation_matches_oracle,operation_gradients_match_oracle")
    by_check = {r.check: r for r in results}
    assert by_check["operation_matches_oracle"].status == "passed"
    failed = by_check["operation_gradients_match_oracle"]
    assert failed.status == "failed" and "got nan" in failed.message
    assert "the first NaN: mul (in the backward of ExpBackward0) multiplied 0 by inf" in failed.message


def test_float64_computed_in_float32_says_so():
    failed = _first_failure("InFloat32GLA", "float64", "operation_matches_oracle")
    assert "float64 inputs computed in float32" in failed.message


@pytest.mark.parametrize("name", sweep(["EdgePaddingGLA", "IgnoresInitialStateDeltaRule", "EdgePaddingMamba2",
                                        "MLSTMStabilizerNotCarried"], fast=2))
def test_the_largest_chunk_declaration_does_not_blind_the_suite(name):
    """8 roundoffs per unit of a chunk's range (the delta rule's chunks need it) still fails
    every planted chunk bug in float32."""
    _first_failure(name, "float32", None, **{"scan-error": "8"})


def test_a_varlen_batch_a_kernel_refuses_is_unsupported_not_failed():
    results = run("tests.planted.odd_operations:refuses_varlen", "float64", stop_at_failure=False)
    by_check = {r.check: r for r in results}
    assert by_check["varlen_equals_each_sequence_alone"].status == "unsupported"
    assert "refused cu_seqlens: NotImplementedError" in by_check["varlen_equals_each_sequence_alone"].reason
    assert all(r.status == "passed" for r in results if r.check != "varlen_equals_each_sequence_alone")


@pytest.mark.parametrize("impl, words", [
    ("tests.planted.odd_operations:lacks_an_input", "its record gla has 4 (q, k, v, g): it lacks g"),
    ("tests.planted.odd_operations:misfit", "the operation misfit fails on two sequences of three tokens"),
    ("tests.planted.unsatisfiable_operation:op", "has domain unit_norm but no axis to be a unit vector along"),
])
def test_an_operation_that_cannot_be_checked_gets_one_line_and_exit_2(impl, words):
    done = cli("--impl", impl, "--devices", "cpu", "--dtypes", "float64", "--profile", "quick")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_kind_operation_without_a_record_gets_one_line():
    done = cli("--impl", "torch.nn.LSTM", "--kind", "operation")
    assert done.returncode == 2 and "needs the record" in done.stderr and done.stderr.count("\n") == 1


def test_the_readmes_operation_command_runs_as_written():
    """The README's command for the chunked gated delta rule, with a small budget: every row passes."""
    readme = (Path(REPO) / "README.md").read_text()
    command = "rnn-conformance --impl examples.ops.gated_delta_rule:chunked --dtypes float64,float32"
    assert command in readme
    done = cli(*command.split()[1:], "--devices", "cpu", "--max-examples", "5", "--seed", "3", timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " 0 failed, 0 error" in done.stdout and "examples.ops.gated_delta_rule:chunked" in done.stdout


def test_the_docs_record_of_ones_own_runs_as_written():
    """docs/operations.md's record of one's own (examples/ops/simple_gla.py): its command passes,
    and the step the page shows is the module's."""
    page = (Path(REPO) / "docs" / "operations.md").read_text()
    command = "rnn-conformance --impl examples.ops.simple_gla:simple_gla --dtypes float64,float32"
    assert command in page
    source = (Path(REPO) / "examples" / "ops" / "simple_gla.py").read_text()
    assert "S = per_head(exp(x.g)) * S + outer(x.k, x.v)" in page and "S = per_head(exp(x.g)) * S + outer(x.k, x.v)" \
        in source
    done = cli(*command.split()[1:], "--devices", "cpu", "--max-examples", "5", "--seed", "3", timeout=600)
    assert done.returncode == 0 and " 0 failed, 0 error" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_docs_non_finite_sample_is_what_a_run_prints():
    page = (Path(REPO) / "docs" / "operations.md").read_text()
    sample = page.split("message names where the first one came from")[1].split("```")[1]
    failed = _first_failure("MaskAfterExpGLA", "float32", "operation_gradients_match_oracle")
    printed = " ".join(failed.message.split())
    for line in sample.strip().splitlines():
        assert line.strip() in printed or " ".join(line.split()) in printed, line


def test_an_rglru_without_griffins_bound_gets_nan_gradients_named_in_the_gradient_checks():
    """sqrt(1 - a**2) with torch's derivative: once a rounds to 1 the backward divides by 0.  The
    gradient checks catch it (no longer only dropout's relation), and say which operation did it."""
    results = run("tests.planted.modern:RGLRUUnboundedSqrt", "float32", stop_at_failure=True)
    failed = [r for r in results if r.status == "failed"]
    assert failed and failed[0].family == "gradients", [(r.check, r.status) for r in results]
    assert "non-finite: the first inf or NaN: div (in the backward of SqrtBackward0) divided by 0" in failed[0].message
