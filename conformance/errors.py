"""The exceptions that carry a check's verdict, and the one-line user error."""


def one_line(exc):
    """An exception as one line: its type and its message, whitespace folded, cut at 300 characters."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class UsageError(Exception):
    """Bad input from the user (an impl that does not load, an option out of range):
    reported as one line, exit code 2."""


class CheckFailure(Exception):
    """A target disagreed with what torch semantics require, on one configuration."""

    def __init__(self, config, summary, comparison=None):
        super().__init__(summary)
        self.config, self.summary, self.comparison = config, summary, comparison


class TargetCrashed(CheckFailure):
    """The target raised where torch semantics say it must return a result."""


class HookError(Exception):
    """A target's weight-mapping hook returned something other than its parameters: its
    author's mistake, named in one line (a failure of the example in flight)."""


class NotTransformed(Exception):
    """A call under a transform (``transforms``) did not run transformed code where the eager
    call returns: a graph break, an eager fallback, a module that does not export or script.
    A failure of the example in flight, named in one line; never a pass."""


class Unsupported(Exception):
    """The target cannot build this configuration (its constructor refused it)."""


class NotRepresentable(Exception):
    """The exact result does not fit the dtype under test, so the example says nothing."""


class TargetHung(BaseException):
    """A call into the target outlived the per-example time limit.  A BaseException so that
    Hypothesis stops at once instead of shrinking a hang."""
