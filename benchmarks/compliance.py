"""The compliance table: the recurrent implementations people run, each checked by the suite through
an adapter that runs the library's own code, with every finding confirmed outside the suite.

    python benchmarks/compliance.py                      # the whole table: docs/compliance.md and .html
    python benchmarks/compliance.py --quick --out DIR    # the part CI runs (few rows, few examples)

For each implementation installed here (``tox -e libraries`` installs them; one that is not is said,
not run): the suite on the CPU in each dtype and transform of its row, then the rows counted
passed / failed / known / unsupported / thin (passed on fewer examples than asked).  Each failed row
is explained by a finding or listed as unexplained (a suite bug or a finding not yet written: the
table exits 1).  Each finding is then shown three ways, from a folder without the checkout:

* confirmed: a few lines of torch that import nothing of the suite
  (``examples/libraries/findings/<key>.py``) exit 1 on the library and 0 on a copy of it with the
  finding's fix (the copy is made from the library installed here, the fix kept beside the finding);
* reproduced: the suite's standalone reproducer of the finding's row exits 1 on the library and 0 on
  the patched copy (the reproducer and the adapter copied alone into an empty folder);
* with the rows it explains, told once (one library bug fails many checks).

The table exits 0 when every finding behaves so and no failed row is unexplained.
"""
import argparse
import dataclasses
import html
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINDINGS_FOLDER = os.path.join("examples", "libraries", "findings")
STATUSES = ("passed", "failed", "known", "unsupported", "thin")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One implementation: its name in the table, the module that must import (None: torch's own),
    the distribution whose version is shown, the suite's --impl, and the dtypes and transforms of its
    rows.  ``quick``: in the part CI runs."""
    name: str
    package: str
    distribution: str
    impl: str
    dtypes: tuple = ("float64", "float32")
    transforms: tuple = ("eager",)
    quick: bool = False
    note: str = ""
    options: tuple = ()  # more of the suite's options for its rows (its reproducers' too)


@dataclasses.dataclass(frozen=True)
class Finding:
    """A deviation of a library, confirmed outside the suite.  ``explains``: (impl pattern, message
    pattern), the failed rows it accounts for; ``row``: (impl, check, dtype) of the row whose
    reproducer is run; ``fix``: (file in the package, [(old, new), ...]) for the patched copy."""
    key: str
    package: str
    distribution: str
    title: str
    why: str
    explains: tuple
    row: tuple
    fix: tuple
    quick: bool = False


def _adapter(module, name):
    return f"examples.libraries.{module}:{name}"


TORCH = "torch"
#: A relative length truncates to a step less only for some lengths of sequences over 21 steps: 100
#: examples a row draw enough of them (25 did in 1 seed of 6).
SPEECHBRAIN_LENGTHS = ("--max-examples", "100")
ENTRIES = [
    Entry("torch.nn.LSTM", TORCH, TORCH, "torch.nn.LSTM", transforms=("eager", "compile"), quick=True),
    Entry("torch.nn.GRU", TORCH, TORCH, "torch.nn.GRU", transforms=("eager", "compile")),
    Entry("torch.nn.RNN", TORCH, TORCH, "torch.nn.RNN", transforms=("eager", "compile")),
    Entry("onnxruntime LSTM (ONNX's peepholes)", "onnxruntime", "onnxruntime", "examples.onnx_rnn:PeepholeLSTM",
          dtypes=("float32",), note="no float64 kernels, no backward"),
    Entry("mingru-pytorch minGRU (h positive)", "minGRU_pytorch", "mingru-pytorch", _adapter("mingru_lib", "MinGRUPytorch")),
    Entry("mingru-pytorch minGRU (h real)", "minGRU_pytorch", "mingru-pytorch",
          _adapter("mingru_lib", "MinGRUPytorchAnyState")),
    Entry("ncps CfC", "ncps", "ncps", _adapter("ncps_cfc", "NcpsCfC")),
    Entry("sru SRU", "sru", "sru", _adapter("sru_lib", "SRULibrary")),
    Entry("brevitas QuantLSTM (quantizers off)", "brevitas", "brevitas", _adapter("brevitas_rnn", "QuantLSTM")),
    Entry("brevitas QuantRNN (quantizers off)", "brevitas", "brevitas", _adapter("brevitas_rnn", "QuantRNN")),
    Entry("speechbrain QuasiRNN", "speechbrain", "speechbrain", _adapter("speechbrain_rnn", "QuasiRNN"), quick=True),
    Entry("speechbrain LSTM (torch's, relative lengths)", "speechbrain", "speechbrain",
          _adapter("speechbrain_rnn", "LSTM"), options=SPEECHBRAIN_LENGTHS),
    Entry("speechbrain GRU (torch's, relative lengths)", "speechbrain", "speechbrain",
          _adapter("speechbrain_rnn", "GRU"), options=SPEECHBRAIN_LENGTHS),
    Entry("speechbrain LiGRU (layer norm)", "speechbrain", "speechbrain", _adapter("speechbrain_rnn", "LiGRU")),
    Entry("speechbrain SLiGRU (layer norm in the recurrence)", "speechbrain", "speechbrain",
          _adapter("speechbrain_rnn", "SLiGRU")),
    Entry("xlstm sLSTM cell (vanilla)", "xlstm", "xlstm", _adapter("xlstm_slstm", "XlstmSLSTM")),
    Entry("xlstm mLSTM step", "xlstm", "xlstm", _adapter("xlstm_mlstm", "mlstm")),
    Entry("mambapy selective scan (pscan)", "mambapy", "mambapy", _adapter("mambapy_scan", "selective_scan")),
    Entry("transformers Qwen3-Next gated delta rule, recurrent", "transformers", "transformers",
          _adapter("transformers_fallbacks", "recurrent_gated_delta_rule")),
    Entry("transformers Qwen3-Next gated delta rule, chunked", "transformers", "transformers",
          _adapter("transformers_fallbacks", "chunk_gated_delta_rule")),
    Entry("fla-core naive gated delta rule", "fla", "fla-core", _adapter("fla_naive", "gated_delta_rule")),
    Entry("fla-core naive gated delta rule, chunked", "fla", "fla-core", _adapter("fla_naive", "gated_delta_rule_chunked")),
    Entry("fla-core naive GLA", "fla", "fla-core", _adapter("fla_naive", "gla"), quick=True),
    Entry("fla-core naive linear attention", "fla", "fla-core", _adapter("fla_naive", "linear_attention")),
    Entry("fla-core naive simple GLA (RetNet)", "fla", "fla-core", _adapter("fla_naive", "retnet")),
]

SOFTPLUS_FIX = [("F.softplus(gate)", "torch.logaddexp(torch.zeros_like(gate), gate)"),
                ("F.softplus(-gate)", "torch.logaddexp(torch.zeros_like(gate), -gate)"),
                ("F.softplus(-x)", "torch.logaddexp(torch.zeros_like(x), -x)")]
H0_FIX = [("""            if exists(prev_hidden):
                log_values = torch.cat((prev_hidden.log(), log_values), dim = 1)
                log_coeffs = F.pad(log_coeffs, (0, 0, 1, 0))

            out = heinsen_associative_scan_log(log_coeffs, log_values)
""", """            out = heinsen_associative_scan_log(log_coeffs, log_values)
            if exists(prev_hidden):
                out = out + prev_hidden * log_coeffs.cumsum(dim = 1).exp()
""")]
BREVITAS_CHECK = """def _check_stack_input(stack, inp, *states):
    if inp.dim() != 3:
        raise ValueError(f"Expected 3-D input, got {inp.dim()}-D input")
    first = stack.layers[0][0]
    batch = inp.size(0) if first.cell.batch_first else inp.size(1)
    expected = (len(stack.layers) * len(stack.layers[0]), batch, first.hidden_size)
    for state in states:
        if state is not None and tuple(state.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {tuple(state.shape)}")


class QuantRNN(QuantRecurrentStackBase):
"""
MINGRU = _adapter("mingru_lib", "MinGRUPytorch")
FLA = r"examples\.libraries\.fla_naive:"

FINDINGS = [
    Finding("mingru_negative_h0", "minGRU_pytorch", "mingru-pytorch",
            "the log-space path takes log(h0): a negative initial state gives NaN",
            "minGRU's recurrence allows any real state (the sequential path computes it); a state carried from "
            "another model, or a fine-tuned one, silently turns the output into NaN",
            (re.escape(MINGRU) + "AnyState$", r"\bnan\b|non-finite"), (MINGRU + "AnyState", "forward_matches_oracle", "float32"),
            ("minGRU.py", SOFTPLUS_FIX + H0_FIX)),
    Finding("mingru_softplus", "minGRU_pytorch", "mingru-pytorch",
            "F.softplus turns linear above 20: the parallel path's log sigmoid(k) is off by up to 2e-9 in float64",
            "float64 results a million roundoffs off wherever a gate saturates; a float64 comparison of a kernel "
            "against this code fails for the reference's error", (re.escape(MINGRU) + "(AnyState)?$", r"worst element"),
            (MINGRU, "forward_matches_oracle", "float64"), ("minGRU.py", SOFTPLUS_FIX)),
    Finding("ncps_timespans", "ncps", "ncps",
            "per-sequence timespans broadcast along the units (timespans[:, t].squeeze() is (B,), not (B, 1)): an "
            "error where B != units, silently wrong where B == units (ncps issue #83, open)",
            "irregularly sampled sequences are CfC's purpose; with a batch as wide as the layer each sequence "
            "gets another's time steps, with no error", (re.escape(_adapter("ncps_cfc", "NcpsCfC")) + "$", r"."),
            (_adapter("ncps_cfc", "NcpsCfC"), "forward_matches_oracle", "float64"),
            ("torch/cfc.py", [("timespans[:, t].squeeze()", "timespans[:, t].reshape(-1, 1)"),
                              ("timespans[t].squeeze()", "timespans[t].reshape(-1, 1)")])),
    Finding("sru_float64", "sru", "sru",
            "the no-grad CPU op refuses float64 ('expected scalar type Float but found Double'), which the autograd "
            "path computes", "a float64 model trains and cannot be evaluated under torch.no_grad()",
            (re.escape(_adapter("sru_lib", "SRULibrary")) + "$", r"expected scalar type Float but found Double"),
            (_adapter("sru_lib", "SRULibrary"), "forward_matches_oracle", "float64"),
            ("ops.py", [("    if torch.is_grad_enabled():",
                         "    if torch.is_grad_enabled() or U.dtype != torch.float32:")])),
    Finding("sru_input_size", "sru", "sru",
            "the no-grad CPU op accepts an input of the wrong width (view(-1, input_size) reinterprets it) and "
            "returns a result; the autograd path refuses it",
            "a feature-size mistake goes unnoticed at inference: the model returns numbers from a reinterpreted "
            "input", (re.escape(_adapter("sru_lib", "SRULibrary")) + "$", r"accepted wrong input size"),
            (_adapter("sru_lib", "SRULibrary"), "invalid_input_rejected", "float32"),
            ("modules.py", [("        x = input if input.dim() == 2 else input.contiguous().view(-1, self.input_size)",
                             "        if input.size(-1) != self.input_size:\n"
                             "            raise ValueError(f'input has {input.size(-1)} features, expected "
                             "{self.input_size}')\n"
                             "        x = input if input.dim() == 2 else input.contiguous().view(-1, self.input_size)")])),
    Finding("brevitas_state_index", "brevitas", "brevitas",
            "QuantRNN and QuantLSTM read layer l's initial state at hx[2 * l + d], as if every stack had two "
            "directions: two or more one-directional layers given h0 raise IndexError",
            "a stacked one-directional quantized RNN cannot be given a state: streaming inference (carrying h_n into "
            "the next call) crashes, and with three layers a layer would read another's state",
            (r"examples\.libraries\.brevitas_rnn:", r"IndexError: index \d+ is out of bounds"),
            (_adapter("brevitas_rnn", "QuantRNN"), "forward_matches_oracle", "float64"),
            ("nn/quant_rnn.py", [("hx[2 * l + d]", "hx[len(layer) * l + d]"),
                                 ("cx[2 * l + d]", "cx[len(layer) * l + d]")])),
    Finding("brevitas_input_validation", "brevitas", "brevitas",
            "QuantRNN and QuantLSTM check no input shape: h0 of the wrong batch size (broadcast), c0 of the wrong "
            "hidden size and a 4-D input are computed on",
            "a shape mistake in a quantized model's inputs returns numbers where torch's layers raise",
            (r"examples\.libraries\.brevitas_rnn:", r"accepted .* and returned a result"),
            (_adapter("brevitas_rnn", "QuantRNN"), "invalid_input_rejected", "float64"),
            ("nn/quant_rnn.py", [("class QuantRNN(QuantRecurrentStackBase):\n", BREVITAS_CHECK),
                                 ("    def forward(self, inp, hx=None):\n",
                                  "    def forward(self, inp, hx=None):\n        _check_stack_input(self, inp, hx)\n"),
                                 ("    def forward(self, inp, hx=None, cx=None):\n",
                                  "    def forward(self, inp, hx=None, cx=None):\n"
                                  "        _check_stack_input(self, inp, hx, cx)\n")])),
    Finding("speechbrain_relative_lengths", "speechbrain", "speechbrain",
            "relative lengths (wav_lens) turn back into steps as lengths * x.size(1), which torch truncates to an "
            "integer: in float32 117 / 150 * 150 is 116.99999 and the sequence loses its last step (1 / 61: 0 steps, "
            "an error)",
            "every speechbrain recipe passes relative lengths to its RNN encoders: for 193 of the 5,050 (length, "
            "padded length) pairs up to 100 steps a sequence is silently cut by a step, and its final state is "
            "another step's",
            (r"examples\.libraries\.speechbrain_rnn:(LSTM|GRU)$", r"Length of all samples has to be greater|"
                                                                   r"worst element"),
            (_adapter("speechbrain_rnn", "LSTM"), "pack_padded_unsorted_matches_oracle", "float64"),
            ("nnet/RNN.py", [("    lengths = (lengths * inputs.size(1)).cpu()\n",
                              "    lengths = torch.round(lengths * inputs.size(1)).cpu()\n")])),
    Finding("quasirnn_final_state", "speechbrain", "speechbrain",
            "QuasiRNNLayer returns c[-1, :, :] of a batch-first tensor: the last sequence's cell state at every step "
            "(T, H), not every sequence's final state (B, H)",
            "the state QuasiRNN returns cannot carry a stream on (wrong shape, or, where B == T, another sequence's "
            "states), and every stacked layer's state is wrong the same way",
            (re.escape(_adapter("speechbrain_rnn", "QuasiRNN")) + "$", r"c_n has shape"),
            (_adapter("speechbrain_rnn", "QuasiRNN"), "forward_matches_oracle", "float64"),
            ("nnet/RNN.py", [("        return h, c[-1, :, :]\n", "        return h, c[:, -1, :]\n")]), quick=True),
    Finding("fla_float64", "fla", "fla-core",
            "the pure-torch references compute in float32 whatever the input's dtype (and return float32 states)",
            "they are the readable definition kernels are tested against; in float64, where gradcheck and tight "
            "comparisons run, they are only float32-accurate (4e-7 off)",
            (FLA, r"is torch\.float32|float64 inputs computed in float32"), (_adapter("fla_naive", "gla"),
                                                                             "operation_matches_oracle", "float64"),
            ("ops/gla/naive.py", [(".transpose(1, 2).float(), (q, k, v, gk))",
                                   ".transpose(1, 2).to(torch.promote_types(x.dtype, torch.float32)), (q, k, v, gk))"),
                                  ("q.new_zeros(B, H, K, V, dtype=torch.float32)", "q.new_zeros(B, H, K, V)"),
                                  ("h += initial_state.float()", "h += initial_state.to(h.dtype)")]), quick=True),
    Finding("transformers_float64", "transformers", "transformers",
            "the pure-torch gated delta rule Qwen3-Next falls back to casts its inputs to float32 and returns a "
            "float32 state, whatever the input's dtype",
            "every user without the CUDA kernels runs it; a float64 model (gradcheck, numerical debugging) is silently "
            "float32-accurate (9e-8 off) and its cache changes dtype between calls",
            (r"examples\.libraries\.transformers_fallbacks:", r"is torch\.float32|float64 inputs computed in float32"),
            (_adapter("transformers_fallbacks", "recurrent_gated_delta_rule"), "operation_matches_oracle", "float64"),
            ("models/qwen3_next/modeling_qwen3_next.py",
             [("x.transpose(1, 2).to(torch.float32, memory_format=torch.contiguous_format)",
               "x.transpose(1, 2).to(torch.promote_types(x.dtype, torch.float32), "
               "memory_format=torch.contiguous_format)")])),
]

#: What the record cannot say yet, so that no row of the table claims it: (what, where seen, why).
NOT_EXPRESSIBLE = [
    ("complex-valued diagonal states", "LRU, S5 (s5-pytorch)",
     "the oracle's numbers and bounds are real; a complex state needs complex primitives and bounds on modulus"),
    ("the causal conv1d before Mamba's scan", "mambapy, transformers' Mamba slow path",
     "it mixes neighbouring tokens before the recurrence: a record's input is per token"),
    ("one parameter set for both directions", "speechbrain's QuasiRNN, LiGRU and SLiGRU (bidirectional)",
     "a bidirectional record has a weight set per direction; these rows are declared unsupported"),
    ("a branch on the whole batch", "xlstm's vanilla sLSTM (torch.all(n == 0))",
     "a record's step is per sequence; the library's batch-wide condition makes one sequence's state depend on "
     "its neighbours"),
]


def version_of(entry):
    try:
        return importlib.metadata.version(entry.distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def installed(package):
    return package == TORCH or importlib.util.find_spec(package) is not None


def suite(impl, dtypes, transforms, seed, folder, examples=None, *extra, timeout=3600):
    """The suite's rows for ``impl`` (from its JSON report) and the wall time."""
    report = os.path.join(folder, f"report-{time.monotonic_ns()}.json")
    command = [sys.executable, "-m", "conformance", "--impl", impl, "--devices", "cpu", "--dtypes", ",".join(dtypes),
               "--transforms", ",".join(transforms), "--seed", str(seed), "--report", report, *extra]
    if examples:
        command += ["--max-examples", str(examples)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - started
    if not os.path.exists(report):
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"the suite wrote no report for {impl} (exit {done.returncode}): {tail[0]}")
    with open(report) as handle:
        return json.load(handle)["checks"], wall


def patched_copy(finding, folder):
    """A copy of the installed package with the finding's fix applied: a folder to put first on
    PYTHONPATH."""
    spec = importlib.util.find_spec(finding.package)
    source = spec.submodule_search_locations[0]
    target = os.path.join(folder, finding.package)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    path = os.path.join(target, finding.fix[0])
    with open(path) as handle:
        text = handle.read()
    for old, new in finding.fix[1]:
        if old not in text:
            raise RuntimeError(f"the fix of {finding.key} no longer applies to {finding.package}/{finding.fix[0]}: "
                               f"{old.strip()[:50]!r} not found")
        text = text.replace(old, new)
    with open(path, "w") as handle:
        handle.write(text)
    return folder


def _environment(pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def run_alone(script, folder, pythonpath=None):
    """(exit code, last line printed) of ``script`` run in ``folder`` (not the checkout)."""
    done = subprocess.run([sys.executable, script], cwd=folder, capture_output=True, text=True,
                          env=_environment(pythonpath), timeout=600, check=False)
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, (said[-1] if said else "")


def reproducer_alone(finding, seed, folder):
    """The suite's standalone reproducer of the finding's row, copied with the adapter's module alone
    into an empty folder, its way back to the checkout (RUN_FROM, SEARCH_PATH) removed."""
    impl, check, dtype = finding.row
    scripts = os.path.join(folder, "scripts")
    options = next((e.options for e in ENTRIES if e.impl == impl), ())
    suite(impl, (dtype,), ("eager",), seed, folder, None, "--checks", check, "--reproducers", scripts, *options)
    found = sorted(f for f in os.listdir(scripts) if f.endswith(".py")) if os.path.isdir(scripts) else []
    if not found:
        return None
    alone = os.path.join(folder, "alone")
    module = impl.partition(":")[0]
    parts = module.split(".")
    for depth in range(1, len(parts)):
        package = os.path.join(alone, *parts[:depth])
        os.makedirs(package, exist_ok=True)
        open(os.path.join(package, "__init__.py"), "a").close()
    shutil.copy(os.path.join(ROOT, *parts[:-1], parts[-1] + ".py"), os.path.join(alone, *parts[:-1]))
    with open(os.path.join(scripts, found[0])) as handle:
        text = handle.read()
    text = re.sub(r"^RUN_FROM = .*$", "RUN_FROM = None", text, flags=re.M)
    text = re.sub(r"^SEARCH_PATH = .*$", "SEARCH_PATH = []", text, flags=re.M)
    script = os.path.join(alone, "reproducer.py")
    with open(script, "w") as handle:
        handle.write(text)
    return script


def said(row):
    """What went wrong in a failed row, in one line."""
    for line in (row.get("message") or "").splitlines():
        if line.startswith(("  worst element: ", "  what went wrong: ")):
            return line.split(": ", 1)[1]
    return (row.get("message") or row.get("reason") or "").strip().splitlines()[0] if (row.get("message") or
                                                                                       row.get("reason")) else ""


def classify(row):
    if row["status"] == "passed" and row.get("thin"):
        return "thin"
    return row["status"]


def explaining(findings, row):
    for finding in findings:
        impl_pattern, message_pattern = finding.explains
        if re.match(impl_pattern, row["target"]) and re.search(message_pattern, row.get("message") or "", re.I):
            return finding
    return None


def run_table(entries, findings, seed, examples, say=print):
    """The rows of ``entries``, each failed row explained by one of FINDINGS or not, and ``findings``
    confirmed and reproduced."""
    started = time.perf_counter()
    rows, absent, explained, unexplained = [], [], {f.key: [] for f in FINDINGS}, []
    with tempfile.TemporaryDirectory() as folder:
        for entry in entries:
            if not installed(entry.package):
                absent.append(entry)
                say(f"{entry.name}: not installed ({entry.distribution})")
                continue
            try:
                checked, wall = suite(entry.impl, entry.dtypes, entry.transforms, seed, folder,
                                      examples if "--max-examples" not in entry.options else None, *entry.options)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                say(f"{entry.name}: {exc}")
                unexplained.append({"target": entry.impl, "check": "(the run)", "dtype": "", "transform": "",
                                    "status": "error", "message": str(exc)})
                continue
            for transform in entry.transforms:
                for dtype in entry.dtypes:
                    mine = [r for r in checked if r["dtype"] == dtype and r.get("transform", "eager") == transform]
                    counts = {s: sum(classify(r) == s for r in mine) for s in STATUSES}
                    keys = set()
                    for r in mine:
                        if r["status"] not in ("failed", "error"):
                            continue
                        finding = explaining(FINDINGS, r) if r["status"] == "failed" else None
                        if finding is None:
                            unexplained.append(r)
                        else:
                            explained[finding.key].append(r)
                            keys.add(finding.key)
                    rows.append(dict(entry=entry, version=version_of(entry), transform=transform, dtype=dtype,
                                     counts=counts, findings=sorted(keys), wall=wall / (len(entry.transforms) *
                                                                                       len(entry.dtypes))))
            say(f"{entry.name:44} {version_of(entry):>10} {wall:7.1f} s  "
                + ", ".join(f"{s} {sum(r['counts'][s] for r in rows if r['entry'] is entry)}" for s in STATUSES))
        shown = []
        for finding in findings:
            if not installed(finding.package):
                continue
            work = os.path.join(folder, finding.key)
            os.makedirs(work)
            patched = patched_copy(finding, os.path.join(work, "patched"))
            empty = os.path.join(work, "empty")
            os.makedirs(empty)
            confirm = os.path.join(ROOT, FINDINGS_FOLDER, finding.key + ".py")
            confirmed = (run_alone(confirm, empty), run_alone(confirm, empty, patched))
            script = reproducer_alone(finding, seed, work)
            reproduced = None if script is None else (run_alone(script, os.path.dirname(script)),
                                                      run_alone(script, os.path.dirname(script), patched))
            shown.append(dict(finding=finding, version=importlib.metadata.version(finding.distribution),
                              confirmed=confirmed, reproduced=reproduced, rows=explained[finding.key]))
    return dict(rows=rows, absent=absent, findings=shown, unexplained=unexplained, seed=seed, examples=examples,
                wall=time.perf_counter() - started)


def finding_ok(shown):
    exits = lambda pair: None if pair is None else tuple(code for code, _ in pair)
    return exits(shown["confirmed"]) == (1, 0) and exits(shown["reproduced"]) == (1, 0)


def _environment_line(table):
    import torch
    return (f"torch {torch.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, CPU; seed "
            f"{table['seed']}, {table['examples'] or 'the default profile’s'} examples per row; "
            f"{table['wall']:.0f} s in all")


def _rows_by_check(rows):
    checks = {}
    for r in rows:
        checks.setdefault(r["check"], []).append(f"{r['dtype']}" + (f" {r['transform']}" if r.get("transform", "eager")
                                                                    != "eager" else ""))
    return "; ".join(f"{check} ({', '.join(dict.fromkeys(where))})" for check, where in checks.items())


def markdown(table, command):
    lines = ["# Compliance table", "",
             f"Generated by `{command}`: do not edit by hand. "
             f"{_environment_line(table)}.", "",
             "Each implementation runs through an adapter that calls the library's own code "
             "(`examples/libraries/`). *thin*: passed on fewer examples than asked. A failed row is either explained "
             "by a finding below or listed under *Unexplained*.", "",
             "| implementation | version | transform | dtype | passed | failed | known | unsupported | thin | "
             "findings | s (its share of the run) |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in table["rows"]:
        c = r["counts"]
        lines.append(f"| {r['entry'].name} | {r['version']} | {r['transform']} | {r['dtype']} | {c['passed']} | "
                     f"{c['failed']} | {c['known']} | {c['unsupported']} | {c['thin']} | "
                     f"{', '.join(r['findings']) or '-'} | {r['wall']:.0f} |")
    for entry in table["absent"]:
        lines.append(f"| {entry.name} | not installed | | | | | | | | | |")
    lines += ["", "## Findings", ""]
    for shown in table["findings"]:
        f = shown["finding"]
        (lib_code, lib_said), (fix_code, fix_said) = shown["confirmed"]
        reproduced = shown["reproduced"]
        lines += [f"### {f.key}: {f.distribution} {shown['version']}", "", f"**{f.title}.** {f.why}.", "",
                  f"- confirmed outside the suite (`{FINDINGS_FOLDER}/{f.key}.py`, torch and the library only): exits "
                  f"{lib_code} on the library ({lib_said}), {fix_code} on the patched copy ({fix_said})",
                  ("- the suite's reproducer of " + " ".join(f.row[1:]) + ", run alone in an empty folder: "
                   + (f"exits {reproduced[0][0]} on the library, {reproduced[1][0]} on the patched copy"
                      if reproduced else "NOT WRITTEN (the row did not fail)")),
                  f"- the fix (`{f.package}/{f.fix[0]}`): " + "; ".join(
                      f"`{old.strip().splitlines()[0][:70]}` -> `{new.strip().splitlines()[0][:70]}`"
                      for old, new in f.fix[1]),
                  f"- explains {len(shown['rows'])} failed rows: {_rows_by_check(shown['rows']) or 'none in this run'}",
                  f"- {'as expected' if finding_ok(shown) else 'NOT AS EXPECTED'}", ""]
    lines += ["## Unexplained failures", ""]
    lines += [f"- {r['target']} {r['check']} {r['dtype']}: {said(r)[:200]}" for r in table["unexplained"]] or ["None."]
    lines += ["", "## What the record cannot say yet", "", "| what | seen in | why |", "| --- | --- | --- |"]
    lines += [f"| {what} | {where} | {why} |" for what, where, why in NOT_EXPRESSIBLE]
    return "\n".join(lines) + "\n"


def to_html(text):
    """The markdown this module writes (headings, tables, lists, paragraphs, code spans) as a page."""
    out, table = [], False
    inline = lambda s: re.sub(r"(?<![*\w])\*([^*]+)\*(?!\*)", r"<i>\1</i>", re.sub(
        r"\*\*(.+?)\*\*", r"<b>\1</b>", re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(s, quote=False))))
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue
            tag = "th" if not table else "td"
            out.append(("<table>" if not table else "") + "<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>"
                                                                            for c in cells) + "</tr>")
            table = True
            continue
        if table:
            out.append("</table>")
            table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    if table:
        out.append("</table>")
    style = ("body{font-family:sans-serif;max-width:75em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}code{background:#f4f4f4}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>rnn-conformance: compliance table</title>"
            f"<style>{style}</style></head><body>" + "\n".join(out) + "</body></html>\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the part CI runs: few rows, 10 examples each")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"), help="folder for compliance.md and .html")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-examples", type=int, default=None, help="examples per row (default: the profile's)")
    args = parser.parse_args(argv)
    entries = [e for e in ENTRIES if e.quick or not args.quick]
    if args.quick:  # eager, in the first dtype of each row: the findings' rows, in a minute or two
        entries = [dataclasses.replace(e, dtypes=e.dtypes[:1], transforms=("eager",)) for e in entries]
    findings = [f for f in FINDINGS if f.quick or not args.quick]
    examples = args.max_examples or (10 if args.quick else None)
    table = run_table(entries, findings, args.seed, examples)
    command = "python benchmarks/compliance.py" + (" --quick" if args.quick else "")
    text = markdown(table, command)
    os.makedirs(args.out, exist_ok=True)
    for name, content in (("compliance.md", text), ("compliance.html", to_html(text))):
        with open(os.path.join(args.out, name), "w") as handle:
            handle.write(content)
    print()
    for shown in table["findings"]:
        f = shown["finding"]
        print(f"finding {f.key} ({f.distribution} {shown['version']}): {f.title}\n"
              f"    confirmed {tuple(c for c, _ in shown['confirmed'])}, reproduced "
              f"{tuple(c for c, _ in shown['reproduced']) if shown['reproduced'] else 'not written'} "
              f"(library, patched); explains {len(shown['rows'])} rows: {_rows_by_check(shown['rows'])[:300]}")
    for r in table["unexplained"]:
        print(f"UNEXPLAINED {r['target']} {r['check']} {r['dtype']}: {said(r)[:200]}")
    bad = [s["finding"].key for s in table["findings"] if not finding_ok(s)]
    print(f"\n{len(table['rows'])} rows, {len(table['findings'])} findings, {len(table['unexplained'])} unexplained "
          f"failures, {table['wall']:.0f} s; written to {args.out}/compliance.md and .html"
          + (f"; NOT AS EXPECTED: {', '.join(bad)}" if bad else ""))
    return 1 if bad or table["unexplained"] else 0


if __name__ == "__main__":
    sys.exit(main())
