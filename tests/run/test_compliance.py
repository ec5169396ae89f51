"""The compliance table's own logic (``benchmarks/compliance.py``), without running the libraries:
what CI runs of it is its ``--quick`` part (``.ci/run``)."""
import importlib.util
import os

import pytest

from tests import REPO

spec = importlib.util.spec_from_file_location("compliance", os.path.join(REPO, "benchmarks", "compliance.py"))
compliance = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compliance)


def test_every_finding_has_its_confirmation_and_every_row_its_adapter():
    for finding in compliance.FINDINGS:
        assert os.path.exists(os.path.join(REPO, compliance.FINDINGS_FOLDER, finding.key + ".py")), finding.key
        impl, check, dtype = finding.row
        assert any(e.impl == impl for e in compliance.ENTRIES), impl
        assert check and dtype in ("float64", "float32") and finding.fix[1]
    for entry in compliance.ENTRIES:
        module = entry.impl.partition(":")[0]
        if module.startswith("examples."):
            assert os.path.exists(os.path.join(REPO, *module.split(".")) + ".py"), module
    assert len({e.impl for e in compliance.ENTRIES}) >= 12
    assert any(e.quick for e in compliance.ENTRIES) and any(f.quick for f in compliance.FINDINGS)


def _row(target, message, dtype="float64", status="failed"):
    return {"target": target, "check": "forward_matches_oracle", "dtype": dtype, "status": status,
            "message": f"FAILED forward_matches_oracle\n  worst element: {message}"}


def test_a_failed_row_is_explained_by_the_first_finding_of_its_library_that_matches_it():
    any_state = "examples.libraries.mingru_lib:MinGRUPytorchAnyState"
    nan = _row(any_state, "output[0]: got nan, expected 0.5")
    assert compliance.explaining(compliance.FINDINGS, nan).key == "mingru_negative_h0"
    rounding = _row(any_state, "output[0]: got 3.7e-14, expected 3.7e-14, error 6e-23")
    assert compliance.explaining(compliance.FINDINGS, rounding).key == "mingru_softplus"
    assert compliance.explaining(compliance.FINDINGS, _row("torch.nn.LSTM", "output[0]: got 1, expected 2")) is None


def test_the_page_says_each_finding_once_and_an_unexplained_row_by_what_went_wrong():
    finding = compliance.FINDINGS[0]
    rows = [_row(finding.row[0], "output[0]: got nan"), _row(finding.row[0], "h_n[0]: got nan", "float32")]
    entry = next(e for e in compliance.ENTRIES if e.impl == finding.row[0])
    table = dict(rows=[dict(entry=entry, version="1", transform="eager", dtype="float64",
                            counts=dict(passed=3, failed=2, known=0, unsupported=1, thin=0), findings=[finding.key],
                            wall=1.0)], absent=[], seed=1, examples=5, wall=2.0,
                 findings=[dict(finding=finding, version="1", confirmed=((1, "seen"), (0, "fixed")),
                                reproduced=((1, ""), (0, "")), rows=rows)],
                 unexplained=[_row("pkg:X", "output[0]: got 1, expected 2")])
    text = compliance.markdown(table, "python benchmarks/compliance.py")
    assert text.count(f"### {finding.key}:") == 1 and "explains 2 failed rows" in text
    assert "- pkg:X forward_matches_oracle float64: output[0]: got 1, expected 2" in text
    assert compliance.finding_ok(table["findings"][0])
    page = compliance.to_html(text)
    assert page.count("<table>") == 2 and "<i>thin</i>" in page and "<h3>" in page


@pytest.mark.parametrize("confirmed, reproduced, ok", [(((1, ""), (0, "")), ((1, ""), (0, "")), True),
                                                       (((0, ""), (0, "")), ((1, ""), (0, "")), False),
                                                       (((1, ""), (0, "")), None, False)])
def test_a_finding_holds_only_when_both_exit_1_on_the_library_and_0_on_the_patched_copy(confirmed, reproduced, ok):
    assert compliance.finding_ok(dict(confirmed=confirmed, reproduced=reproduced)) is ok
