"""The exceptions that carry a check's verdict, and the one-line user error."""


import re
import traceback

#: Lines of an exception's text that say where, not what: Python and TorchScript traceback
#: frames and their source lines, C++ backtraces (c10's "Exception raised from", "frame #N").
_FRAME = re.compile(r"^(Traceback\b|File \"|frame #\d+|Exception raised from |[~^ ]*\^[~^ ]*$|"
                    r"The above exception|During handling|The following operation failed)")
#: A line that states an error: ``SomeError: what``.
_STATES = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Interrupt)\b:?\s*(.*)$")
#: The most characters of an exception's message kept in a one-line message.
CAUSE_CHARS = 300


def cause(text):
    """An exception's ``text`` as one line that states the error: a message without traceback
    whole (whitespace folded); one holding a Python or TorchScript traceback or a C++ backtrace,
    its last ``SomeError: what`` line after the first frame, else what precedes that frame.  Cut
    at CAUSE_CHARS."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if _FRAME.match(line)), None)
    if first is None:
        kept = lines
    else:
        stated = [line for line in lines[first:] if not _FRAME.match(line) and _STATES.match(line)]
        kept = stated[-1:] or lines[:first] or [line for line in lines if not _FRAME.match(line)][:1]
    folded = " ".join(" ".join(kept).split())
    return folded if len(folded) <= CAUSE_CHARS else folded[:CAUSE_CHARS - 3] + "..."


def one_line(exc):
    """An exception as one line: its type and the line of its message that states the error
    (``cause``): a C++ backtrace or a TorchScript traceback never hides it."""
    text, name = cause(exc), type(exc).__name__
    return text if text.startswith(f"{name}:") else f"{name}: {text}" if text else name


class UsageError(Exception):
    """Bad input from the user (an impl that does not load, an option out of range):
    reported as one line, exit code 2."""


#: How a row failed, in words a known difference can select (``symptoms = raises``) where a
#: message's wording changes between releases: the target (or its transformed call) raised where
#: torch returns a result; a value fell outside its bound; anything else (a wrong structure, a
#: refusal that did not come, a result that changed when rerun).
SYMPTOMS = ("raises", "deviates", "other")


class CheckFailure(Exception):
    """A target disagreed with what torch semantics require, on one configuration; ``symptom``
    (one of SYMPTOMS) says how: ``deviates`` when a comparison failed, else as given."""

    default_symptom = "other"

    def __init__(self, config, summary, comparison=None, detail=None, symptom=None):
        super().__init__(summary)
        self.config, self.summary, self.comparison = config, summary, comparison
        self._detail = detail
        self.symptom = symptom or ("deviates" if comparison is not None else self.default_symptom)

    @property
    def detail(self):
        """The whole text of the target's exception behind it (its traceback), for the report:
        formatted when read, since most are caught and never reported (a check that wants the
        target to refuse bad input)."""
        if isinstance(self._detail, BaseException):
            self._detail = "".join(traceback.format_exception(self._detail))
        return self._detail


class TargetCrashed(CheckFailure):
    """The target raised where torch semantics say it must return a result."""

    default_symptom = "raises"


class HookError(Exception):
    """A target's weight-mapping hook returned something other than its parameters: its
    author's mistake, named in one line (a failure of the example in flight)."""


class NotTransformed(Exception):
    """A call under a transform (``transforms``) did not run transformed code where the eager
    call returns: a graph break, an eager fallback, a module that does not export or script.
    A failure of the example in flight, named in one line; never a pass."""


class TransformedCallRaised(NotTransformed):
    """The transformed call raised where the eager call returns (a crash of the transformed
    code, not a fallback to eager)."""


class Unsupported(Exception):
    """The target cannot build this configuration (its constructor refused it)."""


class NotRepresentable(Exception):
    """The exact result does not fit the dtype under test, so the example says nothing."""


class TargetHung(BaseException):
    """A call into the target outlived the per-example time limit.  A BaseException so that
    Hypothesis stops at once instead of shrinking a hang."""
