"""The CI recipe (examples/ci/torch-upgrade.yml): what it runs is documented and installable."""
import os
import re



from tests import REPO


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


def test_the_readme_names_the_torch_releases_ci_tests_and_quotes_no_time_of_its_own():
    """The README's install section names the releases .ci/run tests the project under, and its
    times come from one generated page (docs/speed.md, written by run_speed.py --figures with the
    conditions it measured under): the README's own '40 to 75 s' and '5 min' had drifted
    (4:38 and 17 min on a loaded machine)."""
    ci = open(os.path.join(REPO, ".ci", "run")).read()
    readme = open(os.path.join(REPO, "README.md")).read()
    oldest, newest = (re.search(rf"^{name}=(\S+)$", ci, re.M).group(1) for name in ("OLDEST_TORCH", "NEWEST_TORCH"))
    assert f"torch {oldest} and {newest}" in readme
    assert re.findall(r'fresh_venv \S+ "\$(\w+)"', ci) == ["NEWEST_TORCH", "OLDEST_TORCH"]
    assert not re.findall(r"\b\d+(?:\.\d+)?\s*(?:s|sec|seconds|min|minutes)\b", readme)
    speed = open(os.path.join(REPO, "docs", "speed.md")).read()
    assert "Written by `python benchmarks/run_speed.py --figures docs/speed.md` on " in speed
    assert re.search(r"\| the default run .* \| \d+\.\d s \(median of \d+\) \|", speed)
    assert re.search(r"- \d+ cores \(.*\), load average [\d.]+ before and [\d.]+ after", speed)
