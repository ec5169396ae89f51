"""``rnn-conformance`` / ``python -m conformance``: run the checks, print the summary, exit 0/1/2/3."""
import argparse
import sys

from . import messages, session
from .checks import CHECKS_BY_NAME
from .errors import UsageError
from .options import OPTIONS, env_name, resolve
from .supervisor import Supervisor

#: 0 every check passed; 1 a check failed; 2 bad usage or a target that cannot be loaded;
#: 3 the suite itself raised (an ``error`` row, traceback in the report); 130 Ctrl-C.
EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_SUITE_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = _Parser(prog="rnn-conformance",
                     description="Checks torch.nn.RNN/GRU/LSTM, or a drop-in replacement, against a numpy oracle.")
    for name, (_, metavar, help_text) in OPTIONS.items():
        parser.add_argument(f"--{name}", metavar=metavar, help=f"{help_text} [env {env_name(name)}]")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--verbose", action="store_true", help="print one line per check, target, device and dtype")
    return parser


def list_checks():
    checks = list(CHECKS_BY_NAME.values())
    family_width, name_width = max(len(c.family) for c in checks), max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        needs = f"  (needs {', '.join(check.requires)})" if check.requires else ""
        lines.append(f"{check.family:{family_width}s}  {check.name:{name_width}s}  {'/'.join(check.kinds):12s}  "
                     f"{check.doc}{needs}")
    return "\n".join(lines)


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        if args.list:
            print(list_checks())
            return EXIT_PASSED
        options = resolve({name: getattr(args, name.replace("-", "_")) for name in OPTIONS})
    except UsageError as exc:
        return usage_error(exc)
    supervisor = Supervisor(jobs=options.jobs or session.default_jobs(session.rows_at_most(options)),
                            timeout=options.timeout)
    try:
        return _run(options, supervisor, args.verbose)
    except UsageError as exc:
        return usage_error(exc)
    finally:
        supervisor.close()


def usage_error(exc):
    print(f"rnn-conformance: error: {exc}", file=sys.stderr)
    return EXIT_USAGE


def _run(options, supervisor, verbose):
    """Loads the targets, runs the plan in the supervisor's workers, prints the summary and
    writes the report; Ctrl-C stops the run and keeps what finished."""
    targets = session.targets_for(options, supervisor)
    seed = session.resolve_seed(options)
    rows = session.plan(options, targets, seed)
    print(f"rnn-conformance: {len(rows)} checks, seed {seed}, targets {', '.join(t.impl for t in targets)}",
          flush=True)
    finished, progress = {}, messages.Progress(len(rows))
    interrupted = False
    try:
        for index, result in session.run_rows(rows, supervisor):
            finished[index] = result
            progress.update(result)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.finish()
    results = [finished[i] for i in sorted(finished)]
    counts = session.summarize(results)
    print(messages.table(results) if verbose else messages.summary(results))
    print("\n".join([""] + messages.closing_lines(results, targets, counts, seed, session.versions(), len(rows))))
    if options.report:
        session.write_report(options.report, results, targets, seed, len(rows))
        print(f"report: {options.report}")
    return exit_code(counts, interrupted)


def exit_code(counts, interrupted):
    """130 after Ctrl-C; else 1 when a check failed, 3 when only the suite itself raised, 0."""
    if interrupted:
        return EXIT_INTERRUPTED
    if counts["failed"]:
        return EXIT_FAILED
    return EXIT_SUITE_ERROR if counts["error"] else EXIT_PASSED
