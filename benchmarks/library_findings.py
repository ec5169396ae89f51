"""What the suite finds in real RNN libraries, and a standalone reproducer per finding that exits 1
on the library and 0 on a fixed copy of it.  Needs the libraries (``pip install --no-deps
mingru-pytorch``, or ``tox -e libraries``); a library that is not installed is reported, not run.

For each adapter of ``examples/libraries/``: every check in float64 and float32 (seed 1), with
the rows passed, failed and unsupported and the wall time.  Then for each finding: the suite's
reproducer of its first failed row (``--reproducers``), run against the installed library and
against a copy of the library with the fix applied (a text patch of its source, put first on
PYTHONPATH).

    python benchmarks/library_findings.py [--seed 1]

(``pip install --no-deps mingru-pytorch ncps sru``.)

Last run: in the closing note of issue 27.
"""
import argparse
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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

TIMESPANS_FIX = [("timespans[:, t].squeeze()", "timespans[:, t].reshape(-1, 1)"),
                 ("timespans[t].squeeze()", "timespans[t].reshape(-1, 1)")]

SRU_FLOAT64_FIX = [("    if torch.is_grad_enabled():", "    if torch.is_grad_enabled() or U.dtype != torch.float32:")]
SRU_SIZE_FIX = [("        x = input if input.dim() == 2 else input.contiguous().view(-1, self.input_size)",
                 "        if input.size(-1) != self.input_size:\n"
                 "            raise ValueError(f'input has {input.size(-1)} features, expected {self.input_size}')\n"
                 "        x = input if input.dim() == 2 else input.contiguous().view(-1, self.input_size)")]

#: (library package, adapter, what the finding is, the check and dtype that show it, the fix:
#: (file in the package, [(old, new), ...]))
FINDINGS = [
    ("minGRU_pytorch", "examples.libraries.mingru_lib:MinGRUPytorch",
     "F.softplus turns linear above 20: log sigmoid(gate) off by up to 2e-9, seen in float64",
     "forward_matches_oracle", "float64", ("minGRU.py", SOFTPLUS_FIX)),
    ("minGRU_pytorch", "examples.libraries.mingru_lib:MinGRUPytorchAnyState",
     "the log-space path takes log(h0): a negative initial state gives NaN",
     "forward_matches_oracle", "float32", ("minGRU.py", SOFTPLUS_FIX + H0_FIX)),
    ("ncps", "examples.libraries.ncps_cfc:NcpsCfC",
     "per-sequence timespans broadcast along the units (timespans[:, t].squeeze() is (B,), not (B, 1)): an "
     "error for B != H > 1, silently wrong for B == H (ncps issue #83, open)",
     "forward_matches_oracle", "float64", ("torch/cfc.py", TIMESPANS_FIX)),
    ("sru", "examples.libraries.sru_lib:SRULibrary",
     "the no-grad CPU op refuses float64 ('expected scalar type Float but found Double'), which the autograd "
     "path computes", "forward_matches_oracle", "float64", ("ops.py", SRU_FLOAT64_FIX)),
    ("sru", "examples.libraries.sru_lib:SRULibrary",
     "the no-grad CPU op accepts an input of the wrong size (view(-1, input_size) reinterprets it) and returns a "
     "result; the autograd path refuses it", "invalid_input_rejected", "float32", ("modules.py", SRU_SIZE_FIX)),
]
ADAPTERS = {"minGRU_pytorch": ["examples.libraries.mingru_lib:MinGRUPytorch"],
            "ncps": ["examples.libraries.ncps_cfc:NcpsCfC"], "sru": ["examples.libraries.sru_lib:SRULibrary"]}


def suite(impl, dtypes, seed, folder, *extra):
    report = os.path.join(folder, f"r{time.monotonic_ns()}.json")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "conformance", "--impl", impl, "--devices", "cpu", "--dtypes", dtypes,
                    "--seed", str(seed), "--report", report, *extra], cwd=ROOT, capture_output=True, check=False)
    wall = time.perf_counter() - started
    with open(report) as handle:
        return json.load(handle)["checks"], wall


def fixed_copy(package, fix, folder):
    source = os.path.dirname(importlib.util.find_spec(package).origin)
    target = os.path.join(folder, "fixed", package)
    shutil.copytree(source, target)
    path = os.path.join(target, fix[0])
    with open(path) as handle:
        text = handle.read()
    for old, new in fix[1]:
        if old not in text:
            raise SystemExit(f"the fix no longer applies to {package}/{fix[0]}: {old[:40]!r} not found")
        text = text.replace(old, new)
    with open(path, "w") as handle:
        handle.write(text)
    return os.path.join(folder, "fixed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    unexpected = 0
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'adapter':48} {'passed':>6} {'failed':>6} {'unsup':>5} {'wall s':>6}")
        for package, adapters in ADAPTERS.items():
            if importlib.util.find_spec(package) is None:
                print(f"{package}: not installed")
                continue
            for impl in adapters:
                rows, wall = suite(impl, "float64,float32", args.seed, folder)
                count = lambda status: sum(r["status"] == status for r in rows)
                print(f"{impl:48} {count('passed'):>6} {count('failed'):>6} {count('unsupported'):>5} {wall:>6.1f}")
                for r in rows:
                    if r["status"] in ("failed", "error"):
                        print(f"    {r['status']} {r['check']} {r['dtype']}: {(r.get('message') or '').splitlines()[0][:150]}")
        print()
        for number, (package, impl, what, check, dtype, fix) in enumerate(FINDINGS, 1):
            if importlib.util.find_spec(package) is None:
                continue
            scripts = os.path.join(folder, f"scripts{number}")
            suite(impl, dtype, args.seed, folder, "--checks", check, "--reproducers", scripts)
            found = sorted(glob.glob(os.path.join(scripts, "*.py")))
            if not found:
                print(f"finding {number} ({what}): NOT REPRODUCED by {check} {dtype}")
                unexpected += 1
                continue
            on_library = subprocess.run([sys.executable, found[0]], cwd=folder, capture_output=True).returncode
            fixed = fixed_copy(package, fix, os.path.join(folder, f"copy{number}"))
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([fixed, ROOT]))
            on_fixed = subprocess.run([sys.executable, found[0]], cwd=folder, capture_output=True, env=env).returncode
            unexpected += (on_library, on_fixed) != (1, 0)
            print(f"finding {number}: {what}\n    {impl} {check} {dtype}: reproducer exits {on_library} on the "
                  f"library, {on_fixed} on the fixed copy")
    print(f"\n{'all as expected' if not unexpected else f'{unexpected} unexpected results'}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
