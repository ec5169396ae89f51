"""The draws at production sizes against planted bugs that show only there
(``tests/planted/sizes.py``: each must fail, and say where it starts), and the operation draws
themselves: tile edges, serving batches, fresh beside carried states.
``benchmarks/size_table.py`` runs the same on ten seeds, before and after a change."""
import numpy as np
import pytest
from hypothesis import given, settings

from tests import sweep
from tests.checks.test_planted_bugs import run
from tests.planted.sizes import LAYER_PLANTED, OPERATION_PLANTED

#: The layer checks that draw production sizes (the table's).
LAYER_CHECKS = "forward_matches_oracle,pack_padded_unsorted_matches_oracle,gradients_match_oracle"


def _failed(name, dtype, checks=None):
    results = run(f"tests.planted.sizes:{name}", dtype, stop_at_failure=True, checks=checks)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"{name} passed every check in {dtype}: {[(r.check, r.status) for r in results]}"
    return failed[0]


@pytest.mark.parametrize("name, kind", sweep([(name, kind) for name, kind, _ in OPERATION_PLANTED], fast=1))
def test_each_planted_operation_size_bug_fails_and_says_where_it_starts(name, kind):
    """A grid that wraps past 64 programs fails on a product of sizes (sequences x heads), which
    no one size one smaller may bring under 64: it says where it starts only where one does."""
    failed = _failed(name, "float32")
    if name.startswith("GridWraps"):
        sizes = dict(part.split("=") for part in failed.counterexample.split("(")[1].split(")")[0].split(","))
        batch = int(failed.counterexample.split(" B=")[1].split(" ")[0])
        assert batch * max(int(sizes.get("HV", 0)), int(sizes.get("H", 0))) > 64, failed.message
    else:
        assert "  size: passes at " in failed.message and failed.threshold, (kind, failed.message)


@pytest.mark.parametrize("name, kind", sweep(list(LAYER_PLANTED), fast=1))
def test_each_planted_layer_size_bug_fails_and_says_where_it_starts(name, kind):
    failed = _failed(name, "float64", LAYER_CHECKS)
    assert "  size: passes at " in failed.message and failed.threshold, (kind, failed.message)


@pytest.mark.parametrize("name, sizes, edges", [("KTailDroppedGLA", ("K",), (64,)),
                                                 ("TileDroppedGRU", ("H", "I"), (256, 128))])
def test_a_tile_edge_bug_shrinks_to_the_edge(name, sizes, edges):
    """Shrinking keeps the size that fails and takes it to the edge: the message names both sides
    (a matmul over the input or the hidden state: either size may be the one drawn wide; a
    bidirectional stack's second layer reads 2 H, so H = 129 crosses 256 there)."""
    failed = _failed(name, "float32" if "GLA" in name else "float64",
                     None if "GLA" in name else "forward_matches_oracle")
    size = failed.threshold.split(" ")[2] if failed.threshold else None
    edge = int(failed.threshold.split(" = ")[1].split(",")[0]) if failed.threshold else None
    assert size in sizes and edge in edges, failed.message
    assert failed.threshold == f"passes at {size} = {edge}, fails from {size} = {edge + 1}", failed.message
    assert f"{size}={edge + 1}" in failed.counterexample, failed.message


def test_operation_draws_reach_tile_edges_serving_batches_and_long_sequences():
    from conformance.checks.support.operations import MANY_SEQUENCES, TILE_SIZES, operation_cases
    from conformance.targets.loading import load_target
    found = []

    @settings(max_examples=200, database=None)
    @given(operation_cases(load_target("examples.ops.gated_delta_rule:chunked")))
    def collect(case):
        found.append(case)
    collect()
    sizes = [dict(c.sizes) for c in found]
    assert any(s["K"] in TILE_SIZES and s["K"] > 64 for s in sizes) and any(s["V"] == 256 for s in sizes)
    assert any(c.sequences in MANY_SEQUENCES and c.sequences * s["HV"] > 64 for c, s in zip(found, sizes))
    assert any(c.steps > 256 and c.lengths is None for c in found)
    assert {c.state_kind for c in found if c.with_state} == {"carried", "fresh_and_carried", "long_context"}


def test_a_continuous_batch_holds_fresh_and_carried_states():
    """fresh_and_carried: some sequences' states exactly 0, at least one carried where there are
    two; long_context: a far larger state."""
    from conformance.checks.support.operations import make_state
    from conformance.config import OperationCase
    case = OperationCase("gla", (("H", 2), ("K", 3), ("V", 4)), 6, 5, with_state=True, state_kind="fresh_and_carried")
    for seed in range(20):
        (S,) = make_state(case.with_(seed=seed))
        fresh = [not S[n].any() for n in range(6)]
        assert any(fresh) and not all(fresh) and (fresh[0] or fresh[-1])
    carried = make_state(case.with_(state_kind="carried"))[0]
    large = make_state(case.with_(state_kind="long_context"))[0]
    assert np.abs(large).max() > 10 * np.abs(carried).max()


def test_the_docs_size_sample_is_what_a_run_prints():
    """docs/results.md's failure at a size, as the command line prints it (seed 1)."""
    from pathlib import Path

    from tests import REPO
    from tests.commands import cli
    page = (Path(REPO) / "docs" / "results.md").read_text()
    sample = page.split("drops the partial last tile:")[1].split("```")[1].strip()
    replay = sample.splitlines()[-1].split("replay: ")[1]
    done = cli(*replay.split()[1:], timeout=600)
    assert done.returncode == 1 and all(line.strip() in done.stdout for line in sample.splitlines()), done.stdout
