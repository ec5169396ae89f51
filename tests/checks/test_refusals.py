"""A refusal is never a failure (tests/planted/refusing.py): a constructor that raises
NotImplementedError, TypeError or ValueError makes that draw unsupported wherever the suite
builds the target (layers, cells, the seed models), a row is judged on the examples that ran,
and refusals that starve a row are said as thin evidence."""
from conformance.report import messages
from conformance.targets.loading import load_target

from tests.rows import run

IMPL = "tests.planted.refusing:"


def by_check(results):
    return {r.check: r for r in results}


def test_a_layer_refusing_stacking_gets_its_seed_models_unsupported_never_failed():
    for name in ("SingleLayerLSTM", "UndeclaredSingleLayerLSTM"):
        _, results = run(IMPL + name, "float64", checks="models", profile="quick")
        rows = [r for r in results if r.check.startswith("stacked_regressor")]
        assert rows and all(r.status == "unsupported" and r.reason.startswith("multi_layer: ") for r in rows), \
            [(r.check, r.status, r.reason) for r in rows]


def test_a_refused_draw_is_rejected_and_the_row_is_judged_on_what_ran():
    _, results = run(IMPL + "NarrowGRU", "float64", seed="1",
                     checks="forward_matches_oracle,stacked_regressor_matches_oracle,dropout_drops_units_at_rate_p")
    rows = by_check(results)
    for check in ("forward_matches_oracle", "stacked_regressor_matches_oracle"):
        row = rows[check]
        assert row.status == "passed" and row.refused > 0 and row.examples == row.wanted == 25, row
        assert "NarrowGRU supports hidden_size up to 8" in row.refused_reason and 0 < row.worst_ratio < 1
        assert not row.thin
    starved = rows["dropout_drops_units_at_rate_p"]  # it needs a wide layer: nothing ran, unsupported
    assert starved.status == "unsupported" and starved.examples == 0 and starved.reason.startswith("every draw was")
    lines = messages.closing_lines(results, [], messages.summarize(results), 1, "")
    said = [line for line in lines if line.startswith(f"refused draws of {IMPL}NarrowGRU: ")]
    assert said and "in 2 rows, each row judged on the examples that ran" in said[0], lines
    assert messages.refusals(results)[IMPL + "NarrowGRU"]["rows"] == 2


def test_refusals_that_starve_a_row_are_thin_evidence_in_summary_and_report():
    target = load_target(IMPL + "TinyGRU")  # refuses the first probe sizes: loaded from those it builds
    assert target.kind == "gru" and "multi_layer" not in target.unsupported
    _, results = run(IMPL + "TinyGRU", "float64", seed="1", checks="gradients_match_oracle")
    row = results[0]
    assert row.status == "passed" and row.thin and row.examples < row.wanted / 4, row
    assert row.as_dict()["thin"] is True
    assert messages.summary(results).splitlines()[-1].endswith(" thin")
    lines = messages.closing_lines(results, [], messages.summarize(results), 1, "")
    assert any(line.startswith(f"thin evidence (1 row) {IMPL}TinyGRU: ") and f"({row.examples} of 25)" in line
               for line in lines), lines
    assert messages.refusals(results)[IMPL + "TinyGRU"]["thin"] == ["gradients_match_oracle cpu float64"]
