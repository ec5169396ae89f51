"""``rnn-conformance`` / ``python -m conformance``: run the checks, print the summary, exit 0/1/2."""
import argparse
import sys

from . import session
from .checks import CHECKS_BY_NAME
from .errors import UsageError
from .options import OPTIONS, env_name, resolve

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = _Parser(prog="rnn-conformance",
                     description="Checks torch.nn.RNN/GRU/LSTM, or a drop-in replacement, against a numpy oracle.")
    for name, (_, metavar, help_text) in OPTIONS.items():
        parser.add_argument(f"--{name}", metavar=metavar, help=f"{help_text} [env {env_name(name)}]")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
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
        targets = session.targets_for(options)
    except UsageError as exc:
        print(f"rnn-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    seed = session.resolve_seed(options)
    rows = session.plan(options, targets, seed)
    print(f"rnn-conformance: {len(rows)} checks, seed {seed}, targets {', '.join(t.impl for t in targets)}",
          flush=True)
    results = []
    for result in session.run_rows(rows, options.jobs or session.default_jobs(len(rows))):
        results.append(result)
        print({"passed": ".", "failed": "F", "unsupported": "u", "skipped": "s"}[result.status], end="", flush=True)
    print("\n" + session.table(results))
    print("\n".join([""] + session.closing_lines(results, targets, seed)))
    if options.report:
        try:
            session.write_report(options.report, results, targets, seed)
        except OSError as exc:
            print(f"rnn-conformance: error: cannot write --report {options.report}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        print(f"report: {options.report}")
    return EXIT_FAILED if any(r.status == "failed" for r in results) else EXIT_PASSED
