"""The command's entry point (``rnn-conformance``, ``python -m conformance``): from its first
instruction on, Ctrl-C ends the command with 130 (``cli.EXIT_INTERRUPTED``) and what it has,
never a traceback, the command's own imports included."""
import os
import sys


def run():
    """Imports the command and runs it; a Ctrl-C while the command's modules import ends it
    with 130 and one line (no row can have run yet)."""
    try:
        from .cli import run as command
    except KeyboardInterrupt:
        print("rnn-conformance: interrupted while starting: no row ran", file=sys.stderr, flush=True)
        os._exit(130)
    command()
