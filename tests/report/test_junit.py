"""JUnit XML: one test case per row, failures with their message."""
import json
import xml.etree.ElementTree as ET



from tests.commands import BUG, cli


# --- JUnit XML ----------------------------------------------------------------------------------

def test_junit_xml_has_one_test_case_per_row_with_failures_and_skips(tmp_path):
    path = tmp_path / "out.xml"
    done = cli("--impl", "tests.planted.odd_targets:LSTMWithoutPacking", "--checks",
               "pack_sequence_matches_oracle,small_shapes_match_oracle", "--devices", "cpu", "--dtypes", "float64",
               "--profile", "quick", "--seed", "1", "--junit-xml", str(path), "--report", str(tmp_path / "r.json"))
    rows = json.loads((tmp_path / "r.json").read_text())["checks"]
    suite = ET.parse(path).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(rows) == int(suite.get("tests"))
    by_name = {c.get("name"): c for c in cases}
    skipped = by_name["pack_sequence_matches_oracle[cpu-float64]"].find("skipped")
    assert skipped is not None and skipped.get("message").startswith("unsupported: packed")
    assert by_name["small_shapes_match_oracle[cpu-float64]"].find("failure") is None
    assert done.returncode == 0


def test_junit_xml_failure_carries_the_message(tmp_path):
    path = tmp_path / "out.xml"
    done = cli("--impl", BUG, "--checks", "pack_sequence_matches_oracle", "--devices", "cpu", "--dtypes", "float64",
               "--profile", "quick", "--seed", "1", "--junit-xml", str(path))
    assert done.returncode == 1
    suite = ET.parse(path).getroot().find("testsuite")
    failure = suite.find("testcase").find("failure")
    assert suite.get("failures") == "1" and failure.get("message").startswith("worst element: ")
    assert "replay: rnn-conformance" in failure.text
