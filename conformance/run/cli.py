"""``rnn-conformance`` / ``python -m conformance``: run the checks, print the summary, exit 0/1/2/3;
``rnn-conformance compare OLD.json NEW.json``: the upgrade gate between two reports;
``rnn-conformance reproduce REPORT.json [ROW ...] --output DIR``: standalone scripts of its failures."""
import importlib
import os
import signal
import sys
from contextlib import contextmanager

from ..report import messages
from ..errors import UsageError
from .options import OPTIONS, ArgumentParser, env_name, resolve, resolve_seed, usage_error
from ..report.record import FAILING
from ..targets.importing import findable

#: 0 every check passed (or failed only where a known difference accepts it); 1 a check
#: failed (or a stale known difference under --strict-known); 2 bad usage, a target that
#: cannot be loaded, a device named that is not there; 3 the suite itself raised (an
#: ``error`` row, traceback in the report); 5 nothing was checked (no row passed or failed);
#: 130 Ctrl-C; 141 the output's reader went away (``rnn-conformance | head``: 128 + SIGPIPE,
#: as a process that signal ends; the rows left are not run).
EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_SUITE_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141
EXIT_NOTHING_CHECKED = messages.EXIT_NOTHING_CHECKED


def build_parser():
    parser = ArgumentParser(prog="rnn-conformance",
                     description="Checks torch.nn.RNN/GRU/LSTM, or a drop-in replacement, against a numpy oracle. "
                                 "'rnn-conformance compare OLD.json NEW.json' compares two reports; "
                                 "'rnn-conformance reproduce REPORT.json [ROW ...] --output DIR' writes a standalone "
                                 "script (torch and numpy only) for each failed row of a report.")
    for name, (_, metavar, help_text) in OPTIONS.items():
        if metavar is None:
            parser.add_argument(f"--{name}", action="store_const", const="1", default=None,
                                help=f"{help_text} [env {env_name(name)}=1]")
        else:
            parser.add_argument(f"--{name}", metavar=metavar, help=f"{help_text} [env {env_name(name)}]")
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failed row (--maxfail 1)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--verbose", action="store_true", help="print one line per check, target, device and dtype")
    return parser


def version():
    """The installed suite's version, or "unknown" when it runs from a checkout that is not installed."""
    from importlib.metadata import PackageNotFoundError, version as installed
    try:
        return installed("rnn-conformance")
    except PackageNotFoundError:
        return "unknown"


def list_checks():
    from ..checks.registry import checks as registered
    return messages.check_list(list(registered().values()))


def run():
    """The command (``entry.run`` calls it): exits with ``main``'s status without waiting for the
    interpreter to tear torch down."""
    from .supervisor import exit_now
    try:
        code = main()
    except BrokenPipeError:  # nobody reads on: no traceback to say so (exit_now's flush stays quiet too)
        code = EXIT_BROKEN_PIPE
    except KeyboardInterrupt:  # a last resort: main says what it has wherever it can
        print(f"{messages.PROGRAM}: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    exit_now(code)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["compare"]:
        from .gate import main as compare
        return compare(argv[1:])
    rows = None
    with interrupts_deferred() as early:  # milliseconds: a Ctrl-C here is taken once the options are read
        try:
            if argv[:1] == ["reproduce"]:
                argv, rows = reproduce_arguments(argv[1:])
            args = build_parser().parse_args(argv)
            if args.list:
                print(list_checks())
                return EXIT_PASSED
            given = {name: getattr(args, name.replace("-", "_")) for name in OPTIONS}
            if args.exitfirst:
                given["maxfail"] = "1"
            impl = given.get("impl") or os.environ.get(env_name("impl"))
            if impl:  # a misspelt module is said before torch's seconds of import
                findable(impl)
        except UsageError as exc:
            return _usage_failed(exc)
        from .supervisor import Supervisor, output_file
        supervisor = Supervisor(jobs=_jobs_given(given), output=output_file())
        if not early:
            supervisor.start()  # a worker imports torch while this process resolves the options (torch too)
    options = None
    try:
        try:
            with interrupts_deferred() as importing:  # a Ctrl-C inside torch's import would leave it half made,
                for module in ("numpy", "torch"):        # unusable for the summary and the report
                    importlib.import_module(module)
            if early or importing:
                raise KeyboardInterrupt
            options = resolve(given)
            supervisor.timeout = options.call_timeout
            from . import session
            supervisor.jobs = options.jobs or session.default_jobs(session.rows_at_most(options))
            supervisor.start(supervisor.jobs)  # the others import torch while the targets load and rows are planned
        except KeyboardInterrupt:  # while torch imports: the options still say what to report, with no row
            supervisor.close(kill=True)
            with interrupts_deferred():
                options = options or resolve(given)
            return _run(options, supervisor, args.verbose, rows, interrupted=True)
        return _run(options, supervisor, args.verbose, rows)
    except UsageError as exc:
        supervisor.close(kill=True)  # bad usage: no worker's import is waited for
        return _usage_failed(exc)
    except BrokenPipeError:
        supervisor.close(kill=True)  # nobody reads the rows in flight
        raise
    finally:
        supervisor.close()
        _say_output(supervisor.output)


@contextmanager
def interrupts_deferred():
    """Ctrl-C while the block runs is remembered, not raised (yields the list it is put in), so
    that the block finishes: the summary printed, the reports written.  A second Ctrl-C ends the
    process at once with EXIT_INTERRUPTED."""
    arrived = []

    def remember(signum, frame):
        if arrived:
            os._exit(EXIT_INTERRUPTED)
        arrived.append(signum)

    previous = signal.signal(signal.SIGINT, remember)
    try:
        yield arrived
    finally:
        signal.signal(signal.SIGINT, previous)


def _jobs_given(given):
    """--jobs (or its variable) read ahead of ``resolve``, so that the first worker starts, with
    its torch threads, before this process imports torch; None when absent or not a number
    (``resolve`` then says why)."""
    value = given.get("jobs") or os.environ.get(env_name("jobs"))
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return None


def _say_output(path):
    """Names the file of what the targets printed when they printed anything (else removes it)."""
    if path is None or not os.path.exists(path):
        return
    with open(path, errors="replace") as handle:
        lines = sum(1 for _ in handle)
    if lines:
        print(f"what the targets printed ({lines} line{'s' if lines != 1 else ''}: their own output, torch's "
              f"logs): {path}")
    else:
        os.remove(path)


def _usage_failed(exc):
    print(usage_error(exc), file=sys.stderr)
    return EXIT_USAGE


def reproduce_arguments(argv):
    """``reproduce REPORT.json [ROW ...] --output DIR [options]`` as the options of a run of the
    report's failed, error and known rows (ROW: a row id, or a check name, picks among them)
    writing scripts.  It exits 0 when every row it reran got a script, 1 when one did not (it
    passed this time, or its failure rests on what a script cannot repeat), 2 on bad usage."""
    parser = ArgumentParser(prog="rnn-conformance reproduce",
                            description="Writes a standalone script (torch and numpy only) for each failed row of a "
                                        "report: it exits 1 while the failure is there, 0 once it is fixed.")
    parser.add_argument("report", metavar="REPORT.json")
    parser.add_argument("rows", metavar="ROW", nargs="*", help="row ids or check names (default: every failed row)")
    parser.add_argument("--output", metavar="DIR", required=True, help="folder for the scripts")
    known, rest = parser.parse_known_args(argv)
    if any(arg in ("--rerun-failed", "--reproducers") or arg.startswith(("--rerun-failed=", "--reproducers="))
           for arg in rest):
        raise UsageError("reproduce sets --rerun-failed and --reproducers itself: give the report and --output")
    return rest + ["--rerun-failed", known.report, "--reproducers", known.output], tuple(known.rows)


def _selected(rows, wanted, picked):
    """The rows of a --rerun-failed run: those whose key ``wanted`` holds, narrowed to the row
    ids or check names ``picked`` (when any)."""
    chosen = [r for r in rows if r.row.key in wanted]
    if picked:
        chosen = [r for r in chosen if r.id in picked or r.check.name in picked]
        if not chosen:
            raise UsageError(f"no failed row of the report is {', '.join(picked)}: give row ids (as the JUnit "
                             f"file names them) or check names")
    return chosen


def _run(options, supervisor, verbose, picked=None, interrupted=False):
    """Loads the targets, runs the plan in the supervisor's workers, printing the first failure
    of each check as it happens, prints the summary and writes the reports; Ctrl-C at any
    moment (``interrupted``: one came before), or --maxfail reached, stops the run and keeps
    what finished: the summary and the reports of the rows that ran."""
    from . import session
    targets, rows, known, finished, stopped, progress, seed = [], [], [], {}, False, None, None
    try:
        if interrupted:
            raise KeyboardInterrupt
        wanted = None
        if options.rerun_failed:  # the report's target, seed and rows
            statuses = FAILING if picked is None else FAILING + ("known",)
            options, wanted = session.rerun_failed(options, statuses)
        seed = resolve_seed(options)
        session.check_devices(options)
        known = session.load_known(options)
        targets = session.targets_for(options, supervisor)
        rows = session.plan(options, targets, seed)
        if wanted is not None:
            rows = _selected(rows, wanted, picked)
        skipping = sum(bool(session.device_missing(row.row.device)) for row in rows)
        print(messages.header(len(rows), seed, targets, skipping), flush=True)
        progress, told = messages.Progress(len(rows) - skipping), set()
        for index, result in session.run_rows(rows, supervisor, known, options.reproducers, progress.waiting):
            finished[index] = result
            progress.update(result)
            if result.status in FAILING and (result.target, result.check) not in told:  # once per check
                told.add((result.target, result.check))
                progress.say(messages.failure_head(result))
            if options.maxfail and sum(r.status == "failed" for r in finished.values()) >= options.maxfail:
                stopped = options.maxfail < len(rows) - len(finished) + options.maxfail
                break
    except KeyboardInterrupt:  # the rows in flight are killed by the supervisor's map as it stops
        interrupted = True
    finally:
        if progress is not None:
            progress.finish()
    seed = resolve_seed(options) if seed is None else seed
    with interrupts_deferred() as later:
        code = _close(options, [finished[i] for i in sorted(finished)], targets, rows, known, seed, verbose,
                      picked, interrupted, stopped)
    return EXIT_INTERRUPTED if later or interrupted else code


def _close(options, results, targets, rows, known, seed, verbose, picked, interrupted, stopped):
    """The summary, the closing lines and the reports of the rows that finished; the exit code."""
    from . import session
    from .outputs import write_outputs
    from ..targets.known import unmatched
    from ..checks.registry import ROLES
    messages.root_causes(results, session.against_torch(), ROLES)
    counts = messages.summarize(results)
    print(messages.table(results) if verbose else messages.summary(results))
    print("\n".join([""] + messages.closing_lines(results, targets, counts, seed, session.versions(), len(rows),
                                                  unmatched=unmatched(known, results),
                                                  stopped=options.maxfail if stopped else None,
                                                  interrupted=interrupted)))
    write_outputs(options, results, targets, seed, known, len(rows), print,
                  stopped=options.maxfail if stopped else None, interrupted=interrupted)
    if options.reproducers:
        lines, every_row = messages.reproducer_lines(results, options.reproducers)
        print("\n".join(lines))
        if picked is not None and not interrupted:  # ``reproduce``: whether every row got its script
            return EXIT_PASSED if every_row else EXIT_FAILED
    return exit_code(counts, interrupted, options.strict_known)


def exit_code(counts, interrupted, strict_known=False):
    """130 after Ctrl-C; else 1 when a check failed (or a known difference went stale under
    --strict-known), 3 when only the suite itself raised, 5 when nothing was checked, 0."""
    if interrupted:
        return EXIT_INTERRUPTED
    if counts["failed"] or (strict_known and counts["stale"]):
        return EXIT_FAILED
    if counts["error"]:
        return EXIT_SUITE_ERROR
    return EXIT_NOTHING_CHECKED if messages.nothing_checked(counts) else EXIT_PASSED
