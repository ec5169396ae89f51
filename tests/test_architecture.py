"""The house itself (docs/architecture.md): imports point only down the layers and form no cycle,
each claim is written once, the reference pages are what the code writes, the README stays short."""
import os
import re

from conformance.run import pages
from tests import REPO, benchmark


def _graph():
    house = benchmark("house")
    found = house.modules(REPO)
    return house, {d: house.imports(d, p, found) for d, p in found.items()}


def test_imports_point_only_down_the_layers():
    house, graph = _graph()
    assert all(house.rank(d) is not None for d in graph), [d for d in graph if house.rank(d) is None]
    assert house.upward(graph, True) == []


def test_no_import_cycle():
    house, graph = _graph()
    assert house.cycles(graph) == []


def test_the_report_record_loads_no_torch():
    """Reading a report, comparing two and the string tests load the record without torch."""
    import subprocess
    import sys
    code = ("import sys; from conformance.report import record, compare, messages, html, junit; "
            "assert 'torch' not in sys.modules and 'hypothesis' not in sys.modules, sorted(sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_each_claim_is_written_once_and_every_validator_of_results_is_a_claim():
    house = benchmark("house")
    found = house.modules(REPO)
    assert {kind: len(places) for kind, places in house.claim_copies(found).items()} == {
        kind: 1 for kind in house.claim_copies(found)}
    validators = [f"{d}.{n}" for d, p in found.items() for n in house.defined(p, house.VALIDATOR_WORDS)]
    assert validators and all(".reproduce.claims." in v for v in validators), validators


def test_every_expectation_of_a_check_is_a_claim():
    """Issue 39: eleven expectations raised CheckFailure inline (contract, packing utilities,
    dropout, the tolerances' shape checks), outside the claims a reproducer states and
    house.py counts.  A check's body now states claims and comparisons only."""
    house = benchmark("house")
    found = house.modules(REPO)
    assert house.inline_expectations(found) == {}
    assert {"assert_refused", "assert_unmodified", "assert_same_shape"} <= set(house.claim_functions(found))
    # and what a row's script needs of the calls a check makes, the boundary records (14 hand calls before)
    assert house.script_feeding_hooks(found) == {}


def test_the_reference_pages_are_what_the_code_writes():
    for name, page in pages.PAGES.items():
        with open(os.path.join(REPO, "docs", name)) as handle:
            assert handle.read() == page(), f"docs/{name} drifted: run python -m conformance.run.pages docs"


def test_the_readme_is_short_and_its_links_lead_somewhere():
    with open(os.path.join(REPO, "README.md")) as handle:
        readme = handle.read()
    assert len(readme.splitlines()) <= 300
    docs = [os.path.join(REPO, "README.md")] + [os.path.join(REPO, "docs", f) for f in os.listdir(
        os.path.join(REPO, "docs")) if f.endswith(".md")]
    for path in docs:
        with open(path) as handle:
            for link in re.findall(r"\]\(([^)#:]+)\)", handle.read()):
                assert os.path.exists(os.path.join(os.path.dirname(path), link)), f"{path}: {link}"


def test_the_tests_are_arranged_like_the_code():
    """Each package of the suite has its folder of tests, and no test file is left at the top but
    the house's own."""
    packages = {"reference", "checks", "targets", "reproduce", "report", "run"}
    folders = {f for f in os.listdir(os.path.join(REPO, "tests")) if os.path.isdir(os.path.join(REPO, "tests", f))}
    assert packages <= folders
    top = sorted(f for f in os.listdir(os.path.join(REPO, "tests")) if f.startswith("test_"))
    assert top == ["test_architecture.py", "test_extending.py"]


def _doc(name):
    with open(os.path.join(REPO, "docs", name)) as handle:
        return " ".join(handle.read().split())


def test_the_figures_in_the_docs_are_the_codes():
    """A figure in prose is held here: each default the guides state is the constant that sets it."""
    from conformance.report.compare import FACTOR, FLOOR
    from conformance.report.messages import PROGRESS_EVERY
    from conformance.reproduce.scripts import INLINE_ELEMENTS
    from conformance.run.profiles import PROFILES
    from conformance.run.supervisor import GRACE
    from conformance.targets.transforms import TRANSFORMS
    gating, own, results = _doc("gating.md"), _doc("own-rnn.md"), _doc("results.md")
    assert f"grew more than {FACTOR:g}-fold" in gating and f"is now above {FLOOR:g}" in gating
    default = PROFILES["default"]
    compiled = [TRANSFORMS[t].max_examples(default) for t in ("compile", "export", "compile-inductor")]
    assert f"`compile` and `export`: {compiled[0]} of the default profile's {default}; `compile-inductor`: " \
           f"{compiled[2]})" in gating and compiled[0] == compiled[1]
    assert (f"at most {TRANSFORMS['compile'].max_unrolled} steps x layers x directions "
            f"({TRANSFORMS['compile-inductor'].max_unrolled} for Inductor)") in gating
    assert f"allows at least {TRANSFORMS['compile-inductor'].call_timeout:g} s per call" in gating
    assert f"plus {GRACE:g} s of grace" in own and f"outside {GRACE:g} s after the limit" in results
    assert f"a line every {PROGRESS_EVERY:g} s" in results and f"more than {INLINE_ELEMENTS} numbers" in results
