"""What a run writes beside its summary, as its options ask (WRITERS: the JSON report, the HTML
page, the JUnit XML), with what decided the run's draws and this suite's version."""
import hashlib
import json
import os
from importlib import metadata

from ..report.document import environment, report, write_text
from ..report.html import run_page
from ..report.junit import junit_xml
from ..report.messages import PROGRAM
from ..reproduce.standalone import SUITE_PACKAGES
from . import profiles


def suite_version():
    """This suite's version and a digest of its source (``0.1.0+3f2a...``): two reports whose
    suites differ may have drawn different examples from one seed (the suite's strategies and
    literals decide them), which ``compare`` warns about."""
    try:
        version = metadata.version("rnn-conformance")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    for package in SUITE_PACKAGES:
        root = os.path.dirname(os.path.abspath(__import__(package).__file__))
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(f for f in files if f.endswith(".py")):
                with open(os.path.join(folder, name), "rb") as handle:
                    digest.update(os.path.relpath(os.path.join(folder, name), root).encode() + handle.read())
    return f"{version}+{digest.hexdigest()[:12]}"


def run_settings(options, seed):
    """What decides which examples a run draws, and what it ran: compare warns when two
    reports differ here (their examples are not the same)."""
    return {"seed": seed, "profile": options.profile,
            "max_examples": profiles.max_examples(options.profile, options.max_examples),
            "checks": list(options.checks) if options.checks else None, "devices": list(options.devices),
            "dtypes": list(options.dtypes), "backends": list(options.backends),
            "transforms": list(options.transforms)}


def _json(results, data, environment, options):
    return json.dumps(data, indent=2) + "\n"


def _html(results, data, environment, options):
    return run_page(data)


def _junit(results, data, environment, options):
    return junit_xml(results, environment, options.strict_known)


#: Each file a run can write, by the option that names its path -> (what the line saying where
#: calls it, its writer: (results, the JSON report's dict, the environment, the options) -> text).
WRITERS = {"report": ("report", _json), "html": ("html", _html), "junit-xml": ("junit xml", _junit)}


def write_outputs(options, results, targets, seed, known, planned=None, say=print, under_pytest=False,
                  stopped=None, interrupted=False):
    """Writes each file of WRITERS the options ask for, and says where (under pytest each line
    names the suite, among pytest's own)."""
    asked = [(name, getattr(options, name.replace("-", "_"))) for name in WRITERS]
    asked = [(name, path) for name, path in asked if path]
    if not asked:
        return
    prefix = f"{PROGRAM} " if under_pytest else ""
    suite = suite_version()
    data = report(results, targets, options, seed, known, planned, stopped, run_settings(options, seed), suite,
                  interrupted)
    where = environment(seed, suite)
    for name, path in asked:
        label, writer = WRITERS[name]
        write_text(path, writer(results, data, where, options), f"--{name}")
        say(f"{prefix}{label}: {path}")
