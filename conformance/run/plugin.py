"""The pytest plugin (entry point ``pytest11``): ``pytest --pyargs conformance --rnn-impl pkg.mod:Cls``.

Every option lives in the ``rnn-conformance`` group as ``--rnn-<name>``; each planned
check becomes one test, run in a supervised worker process of this pytest process (a
target that crashes or hangs fails its test, never the session); results travel to the
controller through ``user_properties`` so that the summary and ``--rnn-report`` also work
under pytest-xdist.

Installed, this module is loaded by every pytest session of the environment: it imports
torch, Hypothesis and the checks only when the session uses an ``--rnn-*`` option or
collects the suite's tests.
"""
import os

import pytest

from ..report import messages
from ..report.record import count_statuses
from ..errors import UsageError
from .options import CLI_ONLY, OPTIONS, env_name, resolve, resolve_seed, usage_error

RESULT_PROPERTY = "rnn_conformance_result"
#: The options a pytest session takes (``--rnn-<name>``).
PYTEST_OPTIONS = [name for name in OPTIONS if name not in CLI_ONLY]


def pytest_addoption(parser):
    group = parser.getgroup("rnn-conformance", "recurrent-layer conformance checks")
    for name in PYTEST_OPTIONS:
        _, metavar, help_text = OPTIONS[name]
        dest = f"rnn_{name.replace('-', '_')}"
        if metavar is None:
            group.addoption(f"--rnn-{name}", dest=dest, action="store_const", const="1", default=None,
                            help=f"{help_text} [env {env_name(name)}=1]")
        else:
            group.addoption(f"--rnn-{name}", dest=dest, metavar=metavar, default=None,
                            help=f"{help_text} [env {env_name(name)}]")


def _given(config):
    return {name: config.getoption(f"rnn_{name.replace('-', '_')}") for name in PYTEST_OPTIONS}


def _used(config):
    return any(v is not None for v in _given(config).values()) or any(os.environ.get(env_name(n)) for n in OPTIONS)


def pytest_configure(config):
    """Bad --rnn-* options, an --rnn-impl that does not load or a device named that is not
    there stop the session at once with one line (checked only when the user gave an
    rnn-conformance option: otherwise nothing heavy is imported)."""
    if _used(config):
        _run_state(config)


def _options(config):
    """Options and seed of this session, light to resolve (no torch): the same on every xdist
    worker, since the controller fixes the seed and passes it on."""
    state = getattr(config, "_rnn_conformance_options", None)
    if state is None:
        given = _given(config)
        workerinput = getattr(config, "workerinput", None)
        if workerinput and given["seed"] is None:
            given["seed"] = workerinput.get("rnn_conformance_seed")
        try:
            options = resolve(given)
            for name, instead in CLI_ONLY.items():
                if getattr(options, name.replace("-", "_")) is not None:
                    raise UsageError(f"{env_name(name)} belongs to the command line; under pytest use {instead}")
        except UsageError as exc:
            raise pytest.UsageError(usage_error(exc, under_pytest=True)) from None
        state = config._rnn_conformance_options = (options, resolve_seed(options))
    return state


def _run_state(config):
    """(options, targets, seed, known entries) of this session, resolved once."""
    state = getattr(config, "_rnn_conformance", None)
    if state is None:
        from . import session
        options, seed = _options(config)
        try:
            session.check_devices(options)
            known = session.load_known(options)
            targets = session.targets_for(options, _supervisor(config, options))
        except UsageError as exc:
            raise pytest.UsageError(usage_error(exc, under_pytest=True)) from None
        state = config._rnn_conformance = (options, targets, seed, known)
    return state


def _supervisor(config, options=None):
    """This pytest process's supervisor: one reusable worker (pytest-xdist's -n spreads the
    tests), with the cores shared among xdist's workers."""
    supervisor = getattr(config, "_rnn_conformance_supervisor", None)
    if supervisor is None:
        from .supervisor import Supervisor
        options = options or _options(config)[0]
        xdist_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
        supervisor = Supervisor(jobs=1, timeout=options.call_timeout,
                                threads=max(1, (os.cpu_count() or 1) // xdist_workers))
        config._rnn_conformance_supervisor = supervisor
    return supervisor


def pytest_unconfigure(config):
    supervisor = getattr(config, "_rnn_conformance_supervisor", None)
    if supervisor is not None:
        supervisor.close()


def pytest_configure_node(node):
    """pytest-xdist hook: every worker uses the controller's seed (resolved without torch)."""
    node.workerinput["rnn_conformance_seed"] = str(_options(node.config)[1])


def pytest_generate_tests(metafunc):
    if "rnn_planned_check" in metafunc.fixturenames:
        from . import session
        options, targets, seed, _ = _run_state(metafunc.config)
        rows = session.plan(options, targets, seed)
        metafunc.parametrize("rnn_planned_check", rows, ids=[row.id for row in rows])


@pytest.fixture
def rnn_check_result(rnn_planned_check, request):
    """Runs the planned check in this process's supervised worker (known differences
    applied); the result is recorded for the summary and the reports."""
    from . import session
    known = _run_state(request.config)[3]
    reproducer_dir = _options(request.config)[0].reproducers
    (_, result), = session.run_rows([rnn_planned_check], _supervisor(request.config), known, reproducer_dir)
    request.node.user_properties.append((RESULT_PROPERTY, result.as_dict()))
    return result


def strict_known(config):
    """Whether a stale known difference fails its test (``--rnn-strict-known``)."""
    return _options(config)[0].strict_known


#: Result rows seen by this process's reporter (the controller's, under xdist).
_RESULT_ROWS = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _RESULT_ROWS.extend(value for name, value in report.user_properties if name == RESULT_PROPERTY)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """A session whose suite rows checked nothing (every one unsupported, skipped or known)
    is not a success: exit 5, as pytest's own for no tests, said in the closing lines."""
    if _RESULT_ROWS and not hasattr(session.config, "workerinput") and exitstatus == pytest.ExitCode.OK:
        if messages.nothing_checked(count_statuses(row["status"] for row in _RESULT_ROWS)):
            session.exitstatus = messages.EXIT_NOTHING_CHECKED


def pytest_terminal_summary(terminalreporter, config):
    """The compact summary, the closing lines (failures are pytest's to show) and the reports."""
    if not _RESULT_ROWS or hasattr(config, "workerinput"):
        return
    from . import session
    from ..targets.known import unmatched
    from ..report.record import CheckResult
    from .outputs import write_outputs
    options, targets, seed, known = _run_state(config)
    results = [CheckResult.from_dict(row) for row in _RESULT_ROWS]
    from ..checks.registry import ROLES
    messages.root_causes(results, session.against_torch(), ROLES)
    counts = messages.summarize(results)
    terminalreporter.write_sep("=", f"{messages.PROGRAM} summary")
    terminalreporter.write_line(messages.summary(results))
    for line in messages.closing_lines(results, targets, counts, seed, session.versions(), failures=False,
                                       unmatched=unmatched(known, results)):
        terminalreporter.write_line(line)
    try:
        write_outputs(options, results, targets, seed, known, say=terminalreporter.write_line,
                               under_pytest=True)
    except UsageError as exc:
        terminalreporter.write_line(usage_error(exc))
