"""The one builder of everything a user reads about a check: failure messages and replay commands."""
import shlex


def replay_command(check, target, device, dtype, seed, max_examples, kind=None):
    """A command line that reruns exactly this check and finds the same counterexample."""
    parts = ["rnn-conformance", "--impl", target, "--checks", check, "--devices", device,
             "--dtypes", dtype, "--max-examples", str(max_examples), "--seed", str(seed)]
    if kind:
        parts[3:3] = ["--kind", kind]
    return " ".join(shlex.quote(p) for p in parts)


def failure_message(check, target, device, dtype, failure, replay):
    """Check, target, device, dtype, the shrunk configuration, the worst element (or what
    went wrong), and the replay command."""
    lines = [f"FAILED {check}  target={target}  device={device}  dtype={dtype}",
             f"  configuration: {failure.config}"]
    if failure.comparison is not None:
        lines.append(f"  worst element: {failure.comparison.describe()}")
    else:
        lines.append(f"  what went wrong: {failure.summary}")
    lines.append(f"  replay: {replay}")
    return "\n".join(lines)
