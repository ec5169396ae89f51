"""``rnn-conformance compare OLD.json NEW.json``: the command line of the upgrade gate (what it
compares and how it words it: ``report.compare``)."""
import os
import sys

from ..errors import UsageError
from ..report.compare import FACTOR, FLOOR, compare_reports, load_report, markdown, text
from ..report.document import write_text
from ..report.messages import PROGRAM
from .options import ArgumentParser, usage_error


def _positive(name):
    def parse(value):
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not number > 0:
            raise UsageError(f"--{name} {value!r}: expected a positive number")
        return number
    return parse


def build_parser():
    parser = ArgumentParser(prog="rnn-conformance compare",
                     description="Compares two reports: exit 1 on a new failure or a headroom regression.")
    parser.add_argument("old", metavar="OLD.json", help="the report of the run to compare against (pinned torch)")
    parser.add_argument("new", metavar="NEW.json", help="the report of the candidate run")
    parser.add_argument("--markdown", action="store_true", help="print Markdown (for a CI step summary)")
    parser.add_argument("--html", metavar="PATH.html", help="also write a self-contained HTML page there: old "
                                                            "against new per row, the map of headroom changes")
    parser.add_argument("--headroom-factor", type=_positive("headroom-factor"), default=FACTOR, metavar="X",
                        help=f"a passed row regresses when its worst error/tolerance grew more than X-fold "
                             f"(default {FACTOR:g}) ...")
    parser.add_argument("--headroom-floor", type=_positive("headroom-floor"), default=FLOOR, metavar="R",
                        help=f"... and is now above R (default {FLOOR:g})")
    parser.add_argument("--allow-gone", action="store_true",
                        help="rows the old report had and the new one lacks (or that passed and are now unsupported "
                             "or skipped) do not fail the gate")
    return parser


def main(argv):
    """Exit 1 when the gate fails (``Comparison.failed``), 0 otherwise, 2 on bad input (one
    line, no traceback).  Output cut short by a closed pipe (``| head``) ends quietly."""
    try:
        args = build_parser().parse_args(argv)
        old, new = load_report(args.old), load_report(args.new)
    except UsageError as exc:
        print(usage_error(exc, program=f"{PROGRAM} compare"), file=sys.stderr)
        return 2
    comparison = compare_reports(old, new, args.headroom_factor, args.headroom_floor, args.allow_gone)
    if args.html:
        from ..report.html import compare_page
        try:
            write_text(args.html, compare_page(comparison, old, new, args.old, args.new,
                                               text(comparison, args.old, args.new, limit=10**6)), "--html")
        except UsageError as exc:
            print(usage_error(exc, program=f"{PROGRAM} compare"), file=sys.stderr)
            return 2
    try:
        print((markdown if args.markdown else text)(comparison, args.old, args.new), flush=True)
    except BrokenPipeError:  # the reader left: say nothing more (Python's documented remedy)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1 if comparison.failed else 0
