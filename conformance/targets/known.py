"""Known differences: a hand-edited file of accepted failures, matched against a run's rows.

The file is INI (``configparser``: comments, no new dependency on any Python we support).
Each section is one entry, named by its header; every key but ``reason`` is optional and
narrows what the entry matches::

    [gru-bf16-gradients-on-cudnn]
    checks = gradients              # check names or families, comma-separated
    targets = torch.nn.GRU
    devices = cuda                  # cuda also matches cuda:N
    dtypes = bfloat16
    backends = cudnn-tf32
    transforms = compile            # eager, compile, compile-inductor, export, script
    torch = >=2.11, <2.15           # a PEP 440 range of torch.__version__
    symptoms = raises               # how the row failed: raises, deviates, other
    reason = cuDNN's bf16 GRU backward ... https://github.com/pytorch/pytorch/issues/NNN

A failed row that an entry matches becomes ``known`` (counted, not failing the run); a
passed row that an entry matches becomes ``stale`` (a warning, a failure with
``--strict-known``).  ``symptoms`` selects failed rows by how they failed, which stays true
where a message's wording changes between torch releases or machines (``raises``: the target,
or its transformed call, raised where torch returns; ``deviates``: a value outside its bound);
an entry with ``symptoms`` selects no passed row, so it never goes stale.  Imports neither torch nor Hypothesis.
"""
import configparser
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .backends import BACKENDS
from ..config import DTYPE_NAMES
from ..errors import SYMPTOMS, UsageError
from .transforms import TRANSFORMS

#: The keys an entry may have; ``reason`` is required.
KEYS = ("checks", "targets", "devices", "dtypes", "backends", "transforms", "symptoms", "torch", "reason")
#: The keys that hold lists of names (the others: a version range and the reason).
LISTS = tuple(key for key in KEYS if key not in ("torch", "reason"))


@dataclass(frozen=True)
class KnownDifference:
    """One entry: the rows it selects (an empty tuple selects all) and why they are accepted."""

    name: str
    reason: str
    checks: tuple = ()
    targets: tuple = ()
    devices: tuple = ()
    dtypes: tuple = ()
    backends: tuple = ()
    transforms: tuple = ()
    symptoms: tuple = ()
    torch: str = ""
    #: shipped with the suite (``BUILTIN``), not read from the user's file
    builtin: bool = False

    def matches(self, row, torch_version):
        """Whether this entry selects ``row`` (a CheckResult) on ``torch_version``."""
        return ((not self.checks or row.check in self.checks or row.family in self.checks)
                and (not self.targets or row.target in self.targets)
                and (not self.devices or row.device in self.devices or row.device.partition(":")[0] in self.devices)
                and (not self.dtypes or row.dtype in self.dtypes)
                and (not self.backends or row.backend in self.backends)
                and (not self.transforms or row.transform in self.transforms)
                and (not self.symptoms or getattr(row, "symptom", None) in self.symptoms)
                and (not self.torch or SpecifierSet(self.torch).contains(torch_version, prereleases=True)))


#: torch's own bugs that the default run finds, accepted for torch's own target only (a user's
#: implementation that has them fails), so that the run passes on torch and still says so; a
#: row one of them expects to fail that passes is ``stale``: torch fixed it, drop the entry.
#: ``tests/checks/test_torch_bugs.py`` records each bug outside the suite.
BUILTIN = (
    KnownDifference(
        "torch-pack-padded-accepts-too-long-lengths",
        "torch.nn.utils.rnn.pack_padded_sequence accepts a length longer than the padded input and returns a "
        "PackedSequence whose batch_sizes count rows its data does not hold (pytorch/pytorch#146744)",
        checks=("pack_padded_too_long_lengths_rejected",), targets=("torch.nn.utils.rnn",), builtin=True),
    KnownDifference(
        "torch-unpad-sequence-transposes-its-input",
        "torch.nn.utils.rnn.unpad_sequence(batch_first=False) transposes the caller's tensor in place "
        "(pytorch/pytorch#98499)",
        checks=("unpad_sequence_leaves_its_input_unchanged",), targets=("torch.nn.utils.rnn",), builtin=True),
    KnownDifference(
        "torch-rnn-decompositions-drop-no-units-between-layers",
        "torch's RNN decompositions, which torch.compile and torch.export run, never apply dropout between "
        "layers: torch/_decomp/decompositions.py _rnn_helper keeps it only when `num_layers < i - 1`, never true",
        checks=("dropout_one_zeroes_only_between_layers", "dropout_scales_kept_units", "dropout_drops_units_at_rate_p",
                "dropout_one_stops_gradients_below"),
        targets=("torch.nn.RNN", "torch.nn.GRU", "torch.nn.LSTM"), transforms=("compile", "compile-inductor", "export"),
        builtin=True),
    KnownDifference(
        "torch-compiled-cpu-lstm-training-crashes",
        "torch.compile of torch.nn.LSTM on the CPU in float32 or bfloat16 (the mkldnn_rnn_layer path) raises when "
        "it trains on data that does not require grad, where the eager LSTM trains (the exception differs by "
        "backend, release and CPU: an AssertionError of AOTAutograd, a TypeError of Inductor, oneDNN's refusal)",
        checks=("parameters_receive_gradients",), targets=("torch.nn.LSTM",), devices=("cpu",),
        dtypes=("float32", "bfloat16"), transforms=("compile", "compile-inductor"), builtin=True),
    KnownDifference(
        "torch-compiled-cpu-lstm-bfloat16-raises-without-onednn-kernel",
        "torch.compile of torch.nn.LSTM on the CPU in bfloat16 takes the mkldnn_rnn_layer path even on a CPU for "
        "which oneDNN has no bfloat16 LSTM kernel (no AVX512-BF16 or AMX), and the compiled forward raises ('could "
        "not create a primitive descriptor for the LSTM forward propagation primitive') where the eager LSTM "
        "returns; only rows that failed by raising are accepted, a wrong value still fails",
        targets=("torch.nn.LSTM",), devices=("cpu",), dtypes=("bfloat16",),
        transforms=("compile", "compile-inductor"), symptoms=("raises",), builtin=True),
    KnownDifference(
        "torch-compiled-cpu-lstm-accepts-empty-sequence",
        "torch.compile of torch.nn.LSTM on the CPU in float32 or bfloat16 (the mkldnn_rnn_layer path) returns, for "
        "a zero-length sequence, an h_n and c_n of uninitialized memory where the eager LSTM raises",
        checks=("invalid_input_rejected",), targets=("torch.nn.LSTM",), devices=("cpu",),
        dtypes=("float32", "bfloat16"), transforms=("compile", "compile-inductor"), builtin=True),
    KnownDifference(
        "torch-cpu-lstm-bfloat16-backward-wrong-past-1023-units",
        "torch.nn.LSTM on the CPU in bfloat16 (oneDNN's LSTM) returns a wrong gradient of its input and h0 (off by "
        "about their own size; c0 and the weights are right) when hidden_size is a multiple of 512 from 1024 on "
        "(1024, 1536, 2048; not 1023 or 1025), and a right one with torch.backends.mkldnn disabled; only rows that "
        "deviate are accepted",
        checks=("gradients_match_oracle",), targets=("torch.nn.LSTM",), devices=("cpu",), dtypes=("bfloat16",),
        symptoms=("deviates",), builtin=True),
)


def load(path, check_names, families):
    """The entries of the file at ``path`` (a file of comments only has none); a UsageError of
    one line naming the entry and the key for anything wrong (the names a key may hold are
    validated: a typo would otherwise make an entry that silently matches nothing)."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"),
                                       default_section="\0no defaults")
    try:
        with open(path) as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise UsageError(f"--known-differences {path}: {exc.strerror}") from None
    except configparser.Error as exc:
        raise UsageError(f"--known-differences {path}: not an INI file of entries: "
                         f"{' '.join(str(exc).split())}") from None
    allowed = {"checks": set(check_names) | set(families), "devices": None, "dtypes": set(DTYPE_NAMES),
               "backends": set(BACKENDS), "transforms": set(TRANSFORMS), "symptoms": set(SYMPTOMS)}
    return [_entry(path, name, dict(parser[name]), allowed) for name in parser.sections()]


def _entry(path, name, values, allowed):
    where = f"--known-differences {path}: entry [{name}]"
    unknown = [key for key in values if key not in KEYS]
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r} (expected {', '.join(KEYS)})")
    reason = " ".join(values.get("reason", "").split())
    if not reason:
        raise UsageError(f"{where}: needs a reason (why the difference is accepted; a link is welcome)")
    fields = {}
    for key in LISTS:
        if key not in values:
            continue
        items = tuple(v.strip() for v in values[key].split(",") if v.strip())
        if not items:
            raise UsageError(f"{where}: {key} is empty (leave the key out to match every {key[:-1]})")
        bad = [v for v in items if (key == "devices" and not _is_device(v))
               or (allowed.get(key) is not None and v not in allowed[key])]
        if bad:
            expected = {"devices": "cpu, cuda, cuda:N", "checks": "see --list for check names and families"}.get(
                key) or ", ".join(sorted(allowed[key]))
            raise UsageError(f"{where}: {key} has unknown {bad[0]!r} (expected {expected})")
        fields[key] = items
    if "torch" in values:
        try:
            SpecifierSet(values["torch"])
        except InvalidSpecifier:
            raise UsageError(f"{where}: torch {values['torch']!r} is not a version range "
                             f"(e.g. >=2.11, <2.15)") from None
        fields["torch"] = values["torch"].strip()
    return KnownDifference(name, reason, **fields)


def _is_device(value):
    kind, _, index = value.partition(":")
    return value == "cpu" or (kind == "cuda" and (not index or index.isdigit()))


def classify(result, entries, torch_version):
    """Marks ``result`` ``known`` (failed) or ``stale`` (passed) when the first matching entry
    selects it, recording the entry; other statuses are left as they are (an ``error`` is the
    suite's own bug, never an accepted difference)."""
    entry = next((e for e in entries if e.matches(result, torch_version)), None)
    if entry is None:
        return result
    result.known = entry.name
    if result.status == "failed":
        result.status = "known"
        result.reason = f"known difference [{entry.name}]: {entry.reason}"
    elif result.status == "passed":
        result.status = "stale"
        result.reason = f"known difference [{entry.name}] no longer happens: remove or narrow the entry"
    return result


def unmatched(entries, results):
    """The names of the user's entries that selected no row of the run (a built-in entry
    selects no row of most runs)."""
    used = {r.known for r in results if getattr(r, "known", None)}
    return [e.name for e in entries if e.name not in used and not e.builtin]
