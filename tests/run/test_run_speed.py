"""The speed benchmark CI runs (benchmarks/run_speed.py): a run whose table or rows changed is
said, with what changed, so that a changed verdict is found from its output alone."""
from tests import benchmark


def test_a_run_that_differs_says_which_table_lines_and_rows_changed():
    run_speed = benchmark("run_speed")
    row = {"check": "forward_matches_oracle", "target": "torch.nn.GRU", "device": "cpu", "dtype": "float32",
           "transform": "compile", "status": "passed", "examples": 5, "wanted": 5, "refused": 0}
    first = ("forward_matches_oracle  torch.nn.GRU  0.12\nhx_none_equals_zeros  torch.nn.GRU  ok",
             run_speed.row_facts([row]))
    assert run_speed.differences(first, first) == []
    changed = ("forward_matches_oracle  torch.nn.GRU  known\nhx_none_equals_zeros  torch.nn.GRU  ok",
               run_speed.row_facts([dict(row, status="known")]))
    said = run_speed.differences(first, changed)
    assert said[:2] == ["  table -forward_matches_oracle  torch.nn.GRU  0.12",
                        "  table +forward_matches_oracle  torch.nn.GRU  known"]
    assert [line[:9] for line in said[2:]] == ["  row   +", "  row   -"]
    assert "'known'" in said[2]
    assert "'passed'" in said[3] and "compile" in said[3]


def test_an_edit_of_the_suite_between_runs_changes_the_checkouts_print(tmp_path):
    """A checkout edited while runs are timed is said: its later runs are other code, and a new
    literal in the suite moves the examples a seed draws (seen: an exit code of 141)."""
    run_speed = benchmark("run_speed")
    for package in ("conformance", "reference"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("EXIT = 130\n")
    before = run_speed.source_print(str(tmp_path))
    (tmp_path / "README.md").write_text("not the suite's source")
    assert run_speed.source_print(str(tmp_path)) == before
    (tmp_path / "conformance" / "__init__.py").write_text("EXIT = 141\n")
    assert run_speed.source_print(str(tmp_path)) != before
