"""What the planted-bug tests share: running a target's planned CPU rows in this process, and
asserting that a planted bug is rejected by its check with a full message."""
import warnings

from conformance.run import session
from conformance.run.options import resolve


def run(impl, dtypes, seed="0", **options):
    """(targets, results) of every planned CPU row for ``impl``; more ``options`` by their
    option names (``kind=``, ``checks=``)."""
    resolved = resolve({"impl": impl, "devices": "cpu", "dtypes": dtypes, "seed": seed, **options})
    targets = session.targets_for(resolved)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return targets, [row.run() for row in session.plan(resolved, targets, int(seed))]


def rejected(results, check, impl, dtype):
    """The failed row of ``check``, after asserting that its message names the check, the
    target, the dtype, the configuration and the replay command."""
    failed = {r.check: r for r in results if r.status == "failed"}
    assert check in failed, f"{impl}: {[(r.check, r.status) for r in results]}"
    for part in (check, f"target={impl}", f"dtype={dtype}", "configuration:", "replay: rnn-conformance"):
        assert part in failed[check].message
    return failed[check]
