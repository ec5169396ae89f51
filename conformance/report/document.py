"""The JSON report of a run (README, "Options": schema rnn-conformance/1): what ran, where, and
every row's verdict as ``CheckResult.as_dict`` writes it.  Imports torch only to say its version."""
import os
import platform

from ..errors import UsageError
from .messages import not_compared, refusals, summarize
from .record import SCHEMA, row_counts


def environment(seed, suite=None):
    """Versions and flags of what ran, for the report and the JUnit properties (``suite``: this
    suite's version, ``outputs.suite_version``)."""
    import hypothesis
    import numpy as np
    import torch
    cuda = torch.cuda.is_available()
    return {
        # CUDA, cuDNN and the TF32 flags only where a GPU is usable: a CUDA build's version
        # numbers on a machine without one described libraries that computed nothing
        "torch": torch.__version__, "cuda": torch.version.cuda if cuda else None,
        "cudnn": torch.backends.cudnn.version() if cuda and torch.backends.cudnn.is_available() else None,
        "gpu": torch.cuda.get_device_name(0) if cuda else None, "numpy": np.__version__,
        "hypothesis": hypothesis.__version__, "python": platform.python_version(), "seed": seed,
        "rnn_conformance": suite,
        "tf32": {"cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                 "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32} if cuda else None,
    }


def report(results, targets, options, seed, known=(), planned=None, stopped=None, settings=None, suite=None,
           interrupted=False):
    """The versioned JSON report (README, "Options": schema rnn-conformance/1); ``planned`` rows in all
    when the run was interrupted before it finished them; which known-differences entry
    matched which row; ``settings``: what decided the run's draws (``outputs.run_settings``),
    ``suite``: this suite's version."""
    data = {
        "schema": SCHEMA,
        "environment": environment(seed, suite),
        "run": settings,
        "target": {"impl": ",".join(t.impl for t in targets), "kind": ",".join(t.kind for t in targets),
                   **{"variant": t.variant for t in targets if t.variant}},
        "unsupported_features": {t.impl: t.unsupported for t in targets if t.unsupported},
        "declarations": {t.impl: t.declarations for t in targets if t.declarations},
        "not_compared": not_compared(targets),
        "summary": summarize(results),
        "refusals": refusals(results),
        "checks": [r.as_dict() for r in results],
    }
    rows = {e.name: sum(r.known == e.name for r in results) for e in known}
    if options.known_differences or any(rows.values()):
        data["known_differences"] = {
            "file": options.known_differences, "strict": options.strict_known,
            "entries": {e.name: {"reason": e.reason, "rows": rows[e.name], "builtin": e.builtin} for e in known
                        if rows[e.name] or not e.builtin},
            "unmatched": [e.name for e in known if not rows[e.name] and not e.builtin]}
    counts = row_counts(results, planned, interrupted)
    if counts.pop("unfinished"):
        data["interrupted"] = counts
        if stopped:
            data["interrupted"]["maxfail"] = stopped
    return data


def write_text(path, text, option):
    """Writes ``text`` to ``path`` (its folder made when missing)."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {option} {path}: {exc.strerror}") from None
