"""The pytest plugin (entry point ``pytest11``): ``pytest --pyargs conformance --rnn-impl pkg.mod:Cls``.

Every option lives in the ``rnn-conformance`` group as ``--rnn-<name>``; each planned
check becomes one test; results travel to the controller through ``user_properties`` so
that the summary table and ``--rnn-report`` also work under pytest-xdist.
"""
import json
import os
import warnings

import pytest

from . import session
from .errors import UsageError
from .options import OPTIONS, env_name, resolve
from .runner import CheckResult

RESULT_PROPERTY = "rnn_conformance_result"


def pytest_addoption(parser):
    group = parser.getgroup("rnn-conformance", "recurrent-layer conformance checks")
    for name, (_, metavar, help_text) in OPTIONS.items():
        group.addoption(f"--rnn-{name}", dest=f"rnn_{name.replace('-', '_')}", metavar=metavar, default=None,
                        help=f"{help_text} [env {env_name(name)}]")


def _given(config):
    return {name: config.getoption(f"rnn_{name.replace('-', '_')}") for name in OPTIONS}


def pytest_configure(config):
    """Bad --rnn-* options or an --rnn-impl that does not load stop the session at once
    with one line (checked only when the user gave an rnn-conformance option)."""
    if any(v is not None for v in _given(config).values()) or any(os.environ.get(env_name(n)) for n in OPTIONS):
        _run_state(config)


def _run_state(config):
    """Options, targets and seed of this session, resolved once (and identically on every
    xdist worker: the controller fixes the seed and passes it on)."""
    state = getattr(config, "_rnn_conformance", None)
    if state is None:
        given = _given(config)
        workerinput = getattr(config, "workerinput", None)
        if workerinput and given["seed"] is None:
            given["seed"] = workerinput.get("rnn_conformance_seed")
        try:
            options = resolve(given)
            targets = session.targets_for(options)
        except UsageError as exc:
            raise pytest.UsageError(f"rnn-conformance: {exc}") from None
        state = config._rnn_conformance = (options, targets, session.resolve_seed(options))
    return state


def pytest_configure_node(node):
    """pytest-xdist hook: every worker uses the controller's seed."""
    node.workerinput["rnn_conformance_seed"] = str(_run_state(node.config)[2])


def pytest_generate_tests(metafunc):
    if "rnn_planned_check" in metafunc.fixturenames:
        options, targets, seed = _run_state(metafunc.config)
        rows = session.plan(options, targets, seed)
        metafunc.parametrize("rnn_planned_check", rows, ids=[row.id for row in rows])


@pytest.fixture
def rnn_check_result(rnn_planned_check, request):
    """Runs the planned check; the result is recorded for the summary and the report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = rnn_planned_check.run()
    request.node.user_properties.append((RESULT_PROPERTY, result.as_dict()))
    return result


#: Result rows seen by this process's reporter (the controller's, under xdist).
_RESULT_ROWS = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _RESULT_ROWS.extend(value for name, value in report.user_properties if name == RESULT_PROPERTY)


def pytest_terminal_summary(terminalreporter, config):
    if not _RESULT_ROWS or hasattr(config, "workerinput"):
        return
    options, targets, seed = _run_state(config)
    results = [CheckResult(**{k: (float("inf") if k == "worst_ratio" and v is None else v) for k, v in row.items()})
               for row in _RESULT_ROWS]
    terminalreporter.write_sep("=", "rnn-conformance summary")
    terminalreporter.write_line(session.table(results))
    for line in session.closing_lines([r for r in results if r.status != "failed"], targets, seed):
        terminalreporter.write_line(line)
    if options.report:
        with open(options.report, "w") as handle:
            json.dump(session.report(results, targets, seed), handle, indent=2)
        terminalreporter.write_line(f"rnn-conformance report: {options.report}")
