"""The pytest plugin (entry point ``pytest11``): ``pytest --pyargs conformance --rnn-impl pkg.mod:Cls``.

Every option lives in the ``rnn-conformance`` group as ``--rnn-<name>``; each planned
check becomes one test, run in a supervised worker process of this pytest process (a
target that crashes or hangs fails its test, never the session); results travel to the
controller through ``user_properties`` so that the summary and ``--rnn-report`` also work
under pytest-xdist.
"""
import os

import pytest

from . import messages, session
from .errors import UsageError
from .options import OPTIONS, env_name, resolve
from .runner import CheckResult
from .supervisor import Supervisor

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
            targets = session.targets_for(options, _supervisor(config, options))
        except UsageError as exc:
            raise pytest.UsageError(f"rnn-conformance: {exc}") from None
        state = config._rnn_conformance = (options, targets, session.resolve_seed(options))
    return state


def _supervisor(config, options=None):
    """This pytest process's supervisor: one reusable worker (pytest-xdist's -n spreads the
    tests), with the cores shared among xdist's workers."""
    supervisor = getattr(config, "_rnn_conformance_supervisor", None)
    if supervisor is None:
        options = options or _run_state(config)[0]
        xdist_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
        supervisor = Supervisor(jobs=1, timeout=options.timeout,
                                threads=max(1, (os.cpu_count() or 1) // xdist_workers))
        config._rnn_conformance_supervisor = supervisor
    return supervisor


def pytest_unconfigure(config):
    supervisor = getattr(config, "_rnn_conformance_supervisor", None)
    if supervisor is not None:
        supervisor.close()


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
    """Runs the planned check in this process's supervised worker; the result is recorded
    for the summary and the report."""
    (_, result), = session.run_rows([rnn_planned_check], _supervisor(request.config))
    request.node.user_properties.append((RESULT_PROPERTY, result.as_dict()))
    return result


#: Result rows seen by this process's reporter (the controller's, under xdist).
_RESULT_ROWS = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _RESULT_ROWS.extend(value for name, value in report.user_properties if name == RESULT_PROPERTY)


def pytest_terminal_summary(terminalreporter, config):
    """The compact summary, the closing lines (failures are pytest's to show) and the report."""
    if not _RESULT_ROWS or hasattr(config, "workerinput"):
        return
    options, targets, seed = _run_state(config)
    results = [CheckResult.from_dict(row) for row in _RESULT_ROWS]
    counts = session.summarize(results)
    terminalreporter.write_sep("=", "rnn-conformance summary")
    terminalreporter.write_line(messages.summary(results))
    for line in messages.closing_lines(results, targets, counts, seed, session.versions(), failures=False):
        terminalreporter.write_line(line)
    if options.report:
        try:
            session.write_report(options.report, results, targets, seed)
        except UsageError as exc:
            terminalreporter.write_line(f"rnn-conformance: error: {exc}")
            return
        terminalreporter.write_line(f"rnn-conformance report: {options.report}")
