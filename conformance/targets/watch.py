"""What a worker process shows its supervisor without sending a message: which call into the
target is in flight and since when, and which example is being run.

The supervisor reads these from shared memory to kill a worker stuck in a native call and
to name the call and the configuration when a worker dies.  Outside a supervised worker
(a library user calling ``run_check`` directly) nothing is watched and every call is free.
"""
import ctypes
import time

#: Longest text kept for the call name and the example's configuration.
CALL_CHARS, EXAMPLE_CHARS = 64, 4096


class Watched:
    """The shared fields of one worker: ``since`` (time.monotonic() when the call into the
    target began, 0 outside any call), ``call`` and ``example`` (text)."""

    def __init__(self, context):
        self.since = context.RawValue(ctypes.c_double, 0.0)
        self.call = context.RawArray(ctypes.c_char, CALL_CHARS)
        self.example = context.RawArray(ctypes.c_char, EXAMPLE_CHARS)

    def in_call_for(self, now=None):
        """Seconds the current call into the target has lasted, or None outside a call."""
        since = self.since.value
        return None if since == 0.0 else (time.monotonic() if now is None else now) - since

    def read(self):
        """(call name or "", example text or "")."""
        return self.call.value.decode(errors="replace"), self.example.value.decode(errors="replace")

    def clear(self):
        self.since.value = 0.0
        self.call.value = b""
        self.example.value = b""


#: This process's shared fields when it is a supervised worker.
_WATCHED = None


def install(watched):
    global _WATCHED
    _WATCHED = watched


def supervised():
    """Whether this process is a supervised worker (where Ctrl-C is ignored: only the target
    can raise KeyboardInterrupt here)."""
    return _WATCHED is not None


def _text(value, chars):
    return str(value).encode(errors="replace")[:chars - 1]


def example(config):
    """Records the configuration of the example that starts now."""
    if _WATCHED is not None:
        _WATCHED.example.value = _text(config, EXAMPLE_CHARS)


class calling:
    """Marks a call into the target as in flight for its duration.  (A class, not a generator:
    it wraps every call into a target.)"""

    __slots__ = ("what",)

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        if _WATCHED is not None:
            _WATCHED.call.value = _text(self.what, CALL_CHARS)
            _WATCHED.since.value = time.monotonic()

    def __exit__(self, *exc):
        if _WATCHED is not None:
            _WATCHED.since.value = 0.0
