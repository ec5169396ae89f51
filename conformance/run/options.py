"""The run options shared by the CLI and the pytest plugin: names, defaults, validation, env vars.

Imports neither torch nor Hypothesis (the pytest plugin reads it in every session).

Each option is ``--<name>`` on the CLI, ``--rnn-<name>`` in pytest and
``RNN_CONFORMANCE_<NAME>`` in the environment; every value is validated here, once.
"""
import argparse
import difflib
import os
import re
import shlex
from dataclasses import dataclass
from typing import Optional

from ..targets.backends import BACKENDS
from ..config import DTYPE_NAMES, KIND_MODES, SCAN_ERROR_LIMIT
from ..errors import UsageError
from .profiles import PROFILES
from .supervisor import ONEDNN_CACHE
from ..targets.transforms import TRANSFORMS

DEVICES_DEFAULT = "cpu,cuda"
DTYPES_DEFAULT = ",".join(DTYPE_NAMES)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are UsageErrors (one line, exit 2) instead of its own exit."""

    def error(self, message):
        raise UsageError(message)


def _items(value):
    return [v.strip() for v in str(value).split(",") if v.strip()]


def parse_devices(value):
    devices = _items(value)
    bad = [d for d in devices if not re.fullmatch(r"cpu|cuda(:\d+)?", d)]
    if not devices or bad:
        raise UsageError(f"unknown device {bad[0] if bad else value!r}: expected a comma-separated list of cpu, cuda, cuda:N")
    return tuple(dict.fromkeys(devices))


def parse_dtypes(value):
    dtypes = _items(value)
    bad = [d for d in dtypes if d not in DTYPE_NAMES]
    if not dtypes or bad:
        raise UsageError(f"unknown dtype {bad[0] if bad else value!r}: expected a comma-separated list of {', '.join(DTYPE_NAMES)}")
    return tuple(dict.fromkeys(dtypes))


def parse_kind(value):
    if value not in KIND_MODES:
        raise UsageError(f"unknown kind {value!r}: expected one of {', '.join(KIND_MODES)}")
    return value


def parse_variant(value):
    """A variant's mode or import path, as given (``targets.load_target`` checks that it names one)."""
    if not value.strip() or any(c.isspace() for c in value.strip()):
        raise UsageError(f"--variant {value!r}: expected a mode such as LSTM_PEEPHOLE, or package.module:NAME")
    return value.strip()


def parse_profile(value):
    if value not in PROFILES:
        raise UsageError(f"unknown profile {value!r}: expected one of {', '.join(PROFILES)}")
    return value


def _int_in(name, low, high):
    def parse(value):
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise UsageError(f"--{name} {value!r}: expected an integer in [{low}, {high}]")
        return number
    return parse


def parse_timeout(value):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 86400:
        raise UsageError(f"--timeout {value!r}: expected seconds in (0, 86400]")
    return seconds


def parse_checks(value):
    from ..checks.registry import FAMILIES, checks
    names = _items(value)
    bad = [n for n in names if n not in FAMILIES and n not in checks()]
    if not names or bad:
        close = difflib.get_close_matches(bad[0], sorted(set(FAMILIES) | set(checks())), n=1) if bad else []
        near = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"unknown check {bad[0] if bad else value!r}: see --list for check names and families{near}")
    return tuple(names)


def parse_unsupported(value):
    from ..targets.declarations import DECLARABLE
    names = _items(value)
    bad = [n for n in names if n not in DECLARABLE]
    if bad:
        raise UsageError(f"--unsupported {bad[0]!r}: expected a comma-separated list of {', '.join(DECLARABLE)}")
    return tuple(dict.fromkeys(names))


def parse_activation_error(value):
    try:
        error = float(value)
    except (TypeError, ValueError):
        error = -1.0
    if not 0.0 <= error < 1.0:
        raise UsageError(f"--activation-error {value!r}: expected the absolute error of one sigmoid/tanh "
                         f"evaluation, in [0, 1) (e.g. 1e-6)")
    return error



def parse_scan_error(value):
    try:
        error = float(value)
    except (TypeError, ValueError):
        error = -1.0
    if not 0.0 <= error < SCAN_ERROR_LIMIT:
        raise UsageError(f"--scan-error {value!r}: expected the target's scan error per step in roundoffs of the "
                         f"dtype, in [0, {SCAN_ERROR_LIMIT:g}) (e.g. 8)")
    return error


def _names_in(option, table):
    """A parser of a comma-separated list of names from ``table``."""
    def parse(value):
        names = _items(value)
        bad = [n for n in names if n not in table]
        if not names or bad:
            raise UsageError(f"--{option} {bad[0] if bad else value!r}: expected a comma-separated list of "
                             f"{', '.join(table)}")
        return tuple(dict.fromkeys(names))
    return parse


def parse_flag(name):
    def parse(value):
        text = str(value).strip().lower()
        if text not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise UsageError(f"{env_name(name)}={value!r}: expected 1 or 0")
        return text in ("1", "true", "yes", "on")
    return parse


def _path_to_write(name):
    def parse(value):
        if not value.strip():
            raise UsageError(f"--{name}: expected a file path")
        return value
    return parse


#: name -> (parser, metavar, help); a metavar of None makes a flag (no value on the command
#: line; 1 or 0 in the environment).  Defaults live on RunOptions.
OPTIONS = {
    "impl": (str, "PKG.MOD:ATTR", "the class, factory or module of packing utilities to check (default: torch's "
                                  "RNN, GRU, LSTM, their cells and torch.nn.utils.rnn)"),
    "kind": (parse_kind, "KIND", f"{', '.join(KIND_MODES)} (default: inferred from the class)"),
    "variant": (parse_variant, "MODE|PKG.MOD:NAME", "the variant the target computes, when torch has no such layer: "
                                                    "one of the oracle's (LSTM_PEEPHOLE, GRU_RESET_BEFORE, ...) or a "
                                                    "reference.Variant of your own (default: the class attribute "
                                                    "rnn_conformance_variant, else torch's variants of its kind)"),
    "checks": (parse_checks, "NAMES", "comma-separated check names or families (default: all)"),
    "devices": (parse_devices, "LIST", f"devices to run on (default: {DEVICES_DEFAULT}; absent ones are skipped)"),
    "dtypes": (parse_dtypes, "LIST", f"dtypes to check (default: {DTYPES_DEFAULT})"),
    "profile": (parse_profile, "NAME", f"example budget: {', '.join(f'{k}={v}' for k, v in PROFILES.items())} per check"),
    "max-examples": (_int_in("max-examples", 1, 100000), "N", "examples per check, overriding the profile"),
    "seed": (_int_in("seed", 0, 2**32 - 1), "N", "seed of the run (default: random, printed)"),
    "report": (_path_to_write("report"), "PATH.json", "write the JSON report there"),
    "junit-xml": (_path_to_write("junit-xml"), "PATH.xml", "write a JUnit XML file there: one test case per row"),
    "html": (_path_to_write("html"), "PATH.html", "write a self-contained HTML page there: the headroom map, the "
                                                  "failures, the run's environment and declarations"),
    "known-differences": (str, "FILE", "INI file of accepted differences: a failing row that an entry matches is "
                                       "'known' and does not fail the run"),
    "strict-known": (parse_flag("strict-known"), None, "a known difference that no longer happens (a 'stale' row) "
                                                       "fails the run"),
    "backends": (_names_in("backends", BACKENDS), "LIST",
                 "CUDA backends to run each CUDA row under: default (torch's flags as found), cudnn-tf32, cudnn "
                 "(TF32 off), native (cuDNN disabled)"),
    "transforms": (_names_in("transforms", TRANSFORMS), "LIST",
                   "how the target's forward is called, each a row: eager (as it is), compile (torch.compile, "
                   "aot_eager), compile-inductor, export (torch.export + run_decompositions), script (cells); "
                   "default eager"),
    "skip-missing-devices": (parse_flag("skip-missing-devices"), None, "report a device named in --devices that "
                                                                       "is not there as skipped instead of an error"),
    "timeout": (parse_timeout, "SECONDS", "time one call into the target may take before it counts as hung (default 60); "
                                             "a native call is killed 2 s later"),
    "jobs": (_int_in("jobs", 1, 256), "N", "worker processes of the command-line run (default: CPU count, at most "
                                          "4, one per 16 checks; under pytest, use pytest-xdist's -n); each starts with "
                                          "OMP/MKL/OPENBLAS_NUM_THREADS at cores/jobs and "
                                          f"{'='.join(ONEDNN_CACHE)} unless the environment sets them"),
    "unsupported": (parse_unsupported, "NAMES", "declare what the target does not support: features (packed, "
                                                "backward, ...), dtypes, devices; adds to its class declaration"),
    "maxfail": (_int_in("maxfail", 1, 10**9), "N", "stop the run after N failed rows (the report keeps the rows "
                                                   "that finished); -x is --maxfail 1"),
    "rerun-failed": (str, "REPORT.json", "run only the failed and error rows of that report, with its target, "
                                         "seed and examples"),
    "reproducers": (_path_to_write("reproducers"), "DIR", "write a standalone script (torch and numpy only) for "
                                                          "each failed row into DIR"),
    "activation-error": (parse_activation_error, "ERROR", "declare the absolute error of one sigmoid/tanh "
                                                          "evaluation of the target (default: its class "
                                                          "declaration, or 0)"),
    "scan-error": (parse_scan_error, "ULPS", "declare the error per step, in roundoffs of the dtype, of a target "
                                             "that computes its recurrence as a scan, not a step loop (default: "
                                             "its class declaration, or 0)"),
}


#: Options of the command line only: pytest has its own (-x, --maxfail, --lf).
CLI_ONLY = {"maxfail": "-x or --maxfail", "rerun-failed": "--lf (--last-failed)"}


@dataclass(frozen=True)
class RunOptions:
    """Validated options of one conformance run."""

    impl: Optional[str] = None
    kind: Optional[str] = None
    variant: Optional[str] = None
    checks: Optional[tuple] = None
    devices: tuple = parse_devices(DEVICES_DEFAULT)
    #: whether the user named the devices (then a missing one is an error, not a skip)
    devices_named: bool = False
    dtypes: tuple = parse_dtypes(DTYPES_DEFAULT)
    profile: str = "default"
    max_examples: Optional[int] = None
    seed: Optional[int] = None
    report: Optional[str] = None
    junit_xml: Optional[str] = None
    html: Optional[str] = None
    known_differences: Optional[str] = None
    strict_known: bool = False
    backends: tuple = ("default",)
    transforms: tuple = ("eager",)
    skip_missing_devices: bool = False
    timeout: float = 60.0
    jobs: Optional[int] = None
    unsupported: tuple = ()
    activation_error: Optional[float] = None
    scan_error: Optional[float] = None
    maxfail: Optional[int] = None
    rerun_failed: Optional[str] = None
    reproducers: Optional[str] = None

    @property
    def call_timeout(self):
        """Seconds a call into the target may take: --timeout, or longer where a transform
        compiles inside the call (``Transform.call_timeout``)."""
        return max([self.timeout] + [TRANSFORMS[t].call_timeout for t in self.transforms])

    @property
    def declared(self):
        """What the user declared for the targets (``targets.declare``)."""
        return {"unsupported": self.unsupported, "activation_error": self.activation_error, "variant": self.variant,
                "scan_error": self.scan_error}


def env_name(name):
    return "RNN_CONFORMANCE_" + name.upper().replace("-", "_")


def resolve(given):
    """RunOptions from ``given`` (option name -> raw value or None), falling back to the
    environment; raises UsageError naming the first bad value."""
    values = {}
    for name, (parse, _, _) in OPTIONS.items():
        raw = given.get(name)
        if raw is None:
            raw = os.environ.get(env_name(name)) or None
        if raw is not None:
            values[name.replace("-", "_")] = parse(str(raw))
    values["devices_named"] = "devices" in values
    for option in ("kind", "variant"):
        if values.get(option) and not values.get("impl"):
            raise UsageError(f"--{option} needs --impl: the default targets are torch's own")
    return RunOptions(**values)


def resolve_seed(options):
    """The run's seed: the one given, or a fresh random one (printed by the run)."""
    import random
    return options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)


def usage_error(exc, under_pytest=False, program="rnn-conformance"):
    """The one line a usage error prints (pytest adds its own ``ERROR:``); under pytest every
    option is named as pytest takes it (``--rnn-kind``, not ``--kind``)."""
    if not under_pytest:
        return f"{program}: error: {exc}"
    pytests = [name for name in OPTIONS if name not in CLI_ONLY]  # --maxfail is pytest's own
    text = re.sub(r"(?<![\w-])--(" + "|".join(map(re.escape, pytests)) + r")(?![\w-])", r"--rnn-\1", str(exc))
    return f"{program}: {text}"


def replay_command(check, target, device, dtype, seed, max_examples, kind=None, backend="default",
                   transform="eager", variant=None):
    """A command line that reruns exactly this check and finds the same counterexample (its
    options spelled here, where they are defined)."""
    parts = ["rnn-conformance", "--impl", target, "--checks", check, "--devices", device,
             "--dtypes", dtype, "--max-examples", str(max_examples), "--seed", str(seed)]
    if variant:
        parts[3:3] = ["--variant", variant]
    if backend != "default":
        parts += ["--backends", backend]
    if transform != "eager":
        parts += ["--transforms", transform]
    if kind:
        parts[3:3] = ["--kind", kind]
    return " ".join(shlex.quote(p) for p in parts)
