"""Transforms (``--transforms``): a row runs the target's forward compiled, exported or scripted,
passes only when the transformed code ran, and says so in its id, report row, JUnit name,
compare key and replay command."""
import json

import pytest

from conformance.run import cli, outputs, session
from conformance.report import compare, junit
from conformance.targets import known
from conformance.errors import UsageError
from conformance.run.options import replay_command, resolve
from conformance.report.record import CheckResult
from conformance.targets.transforms import TRANSFORMS
from tests.rows import rejected, run

PLANTED = "tests.planted.compiled"


def by_transform(results):
    return {r.transform: r for r in results}


def test_a_bug_only_compiled_code_has_passes_eager_and_fails_under_compile():
    impl = f"{PLANTED}:LSTMForgetGateSlipsWhenCompiled"
    _, results = run(impl, "float64", checks="forward_matches_oracle", transforms="eager,compile",
                     **{"max-examples": "4"})
    rows = by_transform(results)
    assert rows["eager"].status == "passed" and rows["eager"].examples == 4
    failed = rejected([rows["compile"]], "forward_matches_oracle", impl, "float64")
    assert "device=cpu+compile" in failed.message and failed.worst_ratio > 1
    assert failed.replay.endswith("--transforms compile")


@pytest.mark.parametrize("name, why", [("LSTMWithGraphBreak", "print"),
                                       ("LSTMCompilerDisabled", "torch.compiler.disable")])
def test_a_module_that_defeats_compilation_fails_under_compile_with_the_reason(name, why):
    impl = f"{PLANTED}:{name}"
    _, results = run(impl, "float64", checks="forward_matches_oracle", transforms="eager,compile",
                     **{"max-examples": "2"})
    rows = by_transform(results)
    assert rows["eager"].status == "passed"
    failed = rejected([rows["compile"]], "forward_matches_oracle", impl, "float64")
    assert "compile: the compiled forward raised" in failed.message and why in failed.message
    assert "where the eager forward returns" in failed.message


def test_a_call_that_ran_no_compiled_graph_is_not_transformed(monkeypatch):
    """Dynamo skipping a frame without an error (an eager fallback) fails the call."""
    import torch
    from conformance.targets import transforms
    from conformance.errors import NotTransformed
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)
    module = torch.nn.LSTM(2, 3)
    with pytest.raises(NotTransformed, match="no compiled graph ran for this call"):
        transforms.TRANSFORMS["compile"].call(module, (torch.zeros(1, 1, 2),))


def test_torch_layers_under_compile_have_the_decomposition_dropout_bug_as_known_and_a_subclass_fails_on_it():
    checks = "dropout_one_zeroes_only_between_layers"
    _, results = run("torch.nn.LSTM", "float64", checks=checks, transforms="eager,compile", **{"max-examples": "2"})
    statuses = {r.transform: known.classify(r, known.BUILTIN, "2.13.0").status for r in results}
    assert statuses == {"eager": "passed", "compile": "known"}
    impl = f"{PLANTED}:LSTMSubclass"
    _, results = run(impl, "float64", checks=checks, transforms="compile", **{"max-examples": "2"})
    assert known.classify(results[0], known.BUILTIN, "2.13.0").status == "failed"


def test_export_and_script_transform_cells_and_export_refuses_packed_input_and_backward():
    _, results = run("torch.nn.LSTMCell", "float64", checks="cell_matches_oracle,cell_gradients_match_oracle",
                     transforms="script,export", **{"max-examples": "3"})
    status = {(r.check, r.transform): (r.status, r.reason) for r in results}
    assert status[("cell_matches_oracle", "script")][0] == "passed"
    assert status[("cell_gradients_match_oracle", "script")][0] == "passed"
    assert status[("cell_matches_oracle", "export")][0] == "passed"
    assert status[("cell_gradients_match_oracle", "export")] == ("unsupported", "backward: "
                                                                 + TRANSFORMS["export"].unsupported["backward"])
    _, results = run("torch.nn.GRU", "float64", checks="pack_padded_sorted_matches_oracle", transforms="export")
    assert results[0].status == "unsupported" and "PackedSequence" in results[0].reason


def test_rows_a_transform_does_not_apply_to_are_unsupported_with_the_reason():
    _, results = run("torch.nn.GRU", "float64", checks="forward_matches_oracle", transforms="script")
    assert results[0].status == "unsupported" and "applies to rnn_cell, gru_cell, lstm_cell" in results[0].reason
    _, results = run("torch.nn.utils.rnn", "float64", checks="pad_sequence_matches_reference", transforms="compile")
    assert results[0].status == "unsupported" and "not packing_utils" in results[0].reason


def test_a_check_that_runs_no_forward_is_not_a_pass_under_a_transform():
    _, results = run("torch.nn.GRU", "float64", checks="parameters_named_like_torch", transforms="eager,compile")
    rows = by_transform(results)
    assert rows["eager"].status == "passed"
    assert rows["compile"].status == "unsupported" and "nothing ran transformed" in rows["compile"].reason


def test_inductor_rows_are_skipped_without_a_cxx_compiler(monkeypatch):
    monkeypatch.setenv("CXX", "/nonexistent/g++")
    _, results = run("torch.nn.GRU", "float32", checks="forward_matches_oracle", transforms="compile-inductor")
    assert results[0].status == "skipped" and "no C++ compiler" in results[0].reason


def test_the_transform_is_in_the_row_id_report_junit_compare_key_and_replay():
    options = resolve({"transforms": "eager,compile", "devices": "cpu", "dtypes": "float32",
                       "checks": "forward_matches_oracle", "impl": "torch.nn.GRU"})
    rows = session.plan(options, session.targets_for(options), 0)
    assert [r.id for r in rows] == ["forward_matches_oracle-torch.nn.GRU-cpu-float32",
                                    "forward_matches_oracle-torch.nn.GRU-cpu+compile-float32"]
    assert [r.row.examples for r in rows] == [25, 5]  # compiled rows draw a share of the profile
    row = CheckResult("forward_matches_oracle", "torch.nn.GRU", "cpu", "float32", "passed", transform="compile")
    assert row.as_dict()["transform"] == "compile"
    assert 'name="forward_matches_oracle[cpu+compile-float32]"' in junit.junit_xml([row], {})
    eager = dict(row.as_dict(), transform="eager")
    assert compare.row_key(row.as_dict()) != compare.row_key(eager)
    assert compare.row_key({k: v for k, v in eager.items() if k != "transform"}) == compare.row_key(eager)
    assert "--transforms compile" in replay_command("c", "t", "cpu", "float32", 1, 5, transform="compile")


def test_bad_transforms_are_one_line_usage_errors(monkeypatch, capsys):
    with pytest.raises(UsageError, match="--transforms 'jit': expected a comma-separated list of eager, compile"):
        resolve({"transforms": "eager,jit"})
    monkeypatch.setenv("RNN_CONFORMANCE_TRANSFORMS", "compile,export")
    assert resolve({}).transforms == ("compile", "export")
    with pytest.raises(UsageError, match="transforms has unknown 'jit'"):
        known._entry("f.ini", "e", {"reason": "r", "transforms": "jit"}, {"transforms": set(TRANSFORMS)})
    assert cli.main(["--transforms", "nope"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.count("\n") == 1


def test_inductor_waits_longer_for_a_call():
    assert resolve({"transforms": "compile-inductor"}).call_timeout >= 600
    assert resolve({}).call_timeout == 60.0
    assert json.dumps(outputs.run_settings(resolve({"transforms": "export"}), 1)["transforms"]) == '["export"]'


def test_one_table_defines_each_transform_for_the_suite_and_the_scripts():
    """Issue 39: a script's ``transformed`` fell through to torch.jit.script for a name it did not
    know, so a transform added without its script branch would silently script the target in
    every reproducer; and the scripts set Dynamo's recompile limits to 64 where the suite set
    100,000.  Both now read standalone.TRANSFORM_CALLS and DYNAMO_SETTINGS, which name exactly the
    suite's transforms, and an unknown name is refused."""
    import pytest
    import torch

    from conformance.reproduce import standalone
    from conformance.targets.transforms import TRANSFORMS
    assert set(standalone.TRANSFORM_CALLS) == {name for name, t in TRANSFORMS.items() if not t.eager}
    with pytest.raises(ValueError, match="unknown transform 'compile-tvm'"):
        standalone.transformed("compile-tvm", torch.nn.GRU(2, 3))
    saved = {k: getattr(torch._dynamo.config, k) for k in standalone.DYNAMO_SETTINGS}
    try:
        standalone.transformed("compile", torch.nn.GRU(2, 3))
        assert {k: getattr(torch._dynamo.config, k) for k in standalone.DYNAMO_SETTINGS} == standalone.DYNAMO_SETTINGS
    finally:
        for k, v in saved.items():
            setattr(torch._dynamo.config, k, v)
