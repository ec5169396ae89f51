"""docs/extending.md's paths, walked: a check, a transform and a report format each added where the
page says, and seen to work (a variant's path is the README's IndRNN example,
``tests/checks/test_planted_variants.py``)."""
import json
import sys
import types

import pytest
import torch

from conformance.checks import registry
from conformance.checks.support.data import make_input, make_weights, to_torch
from conformance.checks.support.strategies import configs
from conformance.reproduce import claims, hooks
from conformance.run import options as run_options, outputs, pages
from conformance.run.runner import run_check
from conformance.targets.loading import load_target
from conformance.targets import transforms


def assert_finite(name, value):
    """A claim of one's own: ``value`` holds no NaN or infinity."""
    if not bool(torch.isfinite(value).all()):
        raise claims.ClaimFailed(f"{name} holds a NaN or an infinity; torch's is finite here")


class NaNGRU(torch.nn.GRU):
    """A planted bug only the new check is about: its output is NaN."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        return output * float("nan"), h_n


@pytest.fixture
def family_module(monkeypatch):
    """A family module of one's own holding ``check_output_is_finite``, listed under parity."""
    module = types.ModuleType("own_family_module")

    @registry.register("parity", strategy=lambda target: configs(modes=target.modes, max_size=4, max_steps=3))
    def check_output_is_finite(case, ctx):
        """The output holds no NaN or infinity on drawn configurations."""
        module, _ = ctx.build(case, make_weights(case))
        forward = ctx.forward(module, case, to_torch(make_input(case), ctx.dtype, ctx.device))
        hooks.holds(case, assert_finite, "output", forward.output)
        return []

    check_output_is_finite.__module__ = module.__name__
    module.check_output_is_finite = check_output_is_finite
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(registry.FAMILIES, "parity", registry.FAMILIES["parity"] + (module.__name__,))
    registry.checks.cache_clear()
    yield module
    registry.checks.cache_clear()


def test_a_check_added_in_one_module_is_registered_listed_and_run(family_module, monkeypatch):
    assert registry.checks()["output_is_finite"].family == "parity"
    assert "`output_is_finite`" in pages.checks_page()
    torch_row = run_check("output_is_finite", load_target("torch.nn.GRU"), "cpu", "float32", max_examples=5, seed=1)
    assert torch_row.status == "passed" and torch_row.examples == 5
    bug = load_target("tests.test_extending:NaNGRU")
    failed = run_check("output_is_finite", bug, "cpu", "float32", max_examples=5, seed=1)
    assert failed.status == "failed" and "output holds a NaN or an infinity; torch's is finite here" in failed.message


def _functional(fn, args):
    """A transform of one's own: the module called through torch.func.functional_call."""
    if not isinstance(fn, torch.nn.Module):
        raise transforms.Unsupported("functional: only a module is called functionally")
    return torch.func.functional_call(fn, dict(fn.named_parameters()), tuple(args))


def test_a_transform_added_to_the_table_runs_rows_and_proves_they_ran_transformed(monkeypatch):
    monkeypatch.setitem(transforms.TRANSFORMS, "functional",
                        transforms.Transform("functional", "the functional call", calls=_functional))
    assert run_options.resolve({"transforms": "eager,functional"}).transforms == ("eager", "functional")
    gru = load_target("torch.nn.GRU")
    row = run_check("forward_matches_oracle", gru, "cpu", "float32", max_examples=5, seed=1, transform="functional")
    assert row.status == "passed" and row.transform == "functional" and row.examples == 5
    names = run_check("parameters_named_like_torch", gru, "cpu", "float32", max_examples=3, seed=1,
                      transform="functional")
    assert names.status == "unsupported" and "nothing ran transformed" in names.reason  # no forward call: no pass
    broken = transforms.Transform("functional", "the functional call", calls=lambda fn, args: fn(*args)[0])
    monkeypatch.setitem(transforms.TRANSFORMS, "functional", broken)
    wrong = run_check("forward_matches_oracle", gru, "cpu", "float32", max_examples=5, seed=1, transform="functional")
    assert wrong.status == "failed" and "forward returned" in wrong.message  # the boundary's claim, transformed


def test_a_transform_without_its_entry_in_the_scripts_table_gets_no_script_that_runs_another(tmp_path,
                                                                                            monkeypatch):
    """Step 2 of docs/extending.md's transform: without its entry in standalone.TRANSFORM_CALLS,
    the failed row's script refuses the name (CANNOT RUN) and the row says why it has no
    reproducer; the scripts once fell through to torch.jit.script for any name they did not know."""
    from conformance.reproduce import standalone
    monkeypatch.setitem(transforms.TRANSFORMS, "functional",
                        transforms.Transform("functional", "the functional call", calls=_functional))
    assert "functional" not in standalone.TRANSFORM_CALLS
    bug = load_target("tests.planted.bugs:GRUInitialStateIgnored", "gru")
    row = run_check("forward_matches_oracle", bug, "cpu", "float64", max_examples=5, seed=1, transform="functional",
                    reproducer_dir=str(tmp_path))
    assert row.status == "failed" and row.reproducer is None, (row.status, row.reproducer)
    assert "unknown transform 'functional'" in row.no_reproducer, row.no_reproducer
    assert not list(tmp_path.glob("*.py"))  # nothing left that would run the target another way


def _csv(results, data, environment, options):
    """A report format of one's own: one line per row."""
    return "".join(f"{r.check},{r.target},{r.place},{r.dtype},{r.status}\n" for r in results)


def test_a_report_format_is_a_writer_and_a_line_of_the_writers(monkeypatch, tmp_path):
    """The three steps as docs/extending.md names them: the writer, its option (in OPTIONS with a
    PATH. metavar, and a field of RunOptions), its line in WRITERS; then the option parses from
    what a user gives and the run writes the file."""
    import dataclasses
    from typing import Optional

    from conformance.report.record import CheckResult

    @dataclasses.dataclass(frozen=True)
    class WithCsv(run_options.RunOptions):
        csv: Optional[str] = None

    monkeypatch.setattr(run_options, "RunOptions", WithCsv)
    monkeypatch.setitem(run_options.OPTIONS, "csv", (run_options._path_to_write("csv"), "PATH.csv",
                                                     "write one line per row there"))
    monkeypatch.setitem(outputs.WRITERS, "csv", ("csv", _csv))
    options = run_options.resolve({"report": str(tmp_path / "r.json"), "csv": str(tmp_path / "rows.csv")})
    assert test_every_option_that_names_a_file_has_a_writer() is None  # the table holds with the new option
    rows = [CheckResult("forward_matches_oracle", "torch.nn.GRU", "cpu", "float32", "passed", examples=3)]
    said = []
    outputs.write_outputs(options, rows, [], 1, (), say=said.append)
    assert (tmp_path / "rows.csv").read_text() == "forward_matches_oracle,torch.nn.GRU,cpu,float32,passed\n"
    assert json.loads((tmp_path / "r.json").read_text())["checks"][0]["status"] == "passed"
    assert said == [f"report: {tmp_path / 'r.json'}", f"csv: {tmp_path / 'rows.csv'}"]


def test_every_option_that_names_a_file_has_a_writer():
    files = {name for name, (_, metavar, _) in run_options.OPTIONS.items()
             if metavar and metavar.startswith("PATH.")}
    assert files == set(outputs.WRITERS)
