"""Transforms a row can run its target under: what production runs instead of the eager module.

``eager`` calls the target as it is.  ``compile`` and ``compile-inductor`` call it through
``torch.compile`` (AOTAutograd with torch's decompositions; the eager or the Inductor
backend), ``export`` through ``torch.export.export(...).run_decompositions().module()``,
``script`` through ``torch.jit.script`` (cells).  A transform is a row dimension like a CUDA
backend: every call of the target's forward in the row goes through it, and the row passes
only if the transformed code really ran (``call`` raises NotTransformed otherwise: a graph
break, an eager fallback, a module that does not export or script).

Compiled code is slow to make, so a transform may draw fewer examples (``examples``) and
smaller configurations (``max_unrolled``: torch's decompositions unroll the time loop of
every layer and direction, and the compile time grows with the steps unrolled); Dynamo's
cache reuses a graph across modules of one configuration within a row.  The compile
transforms compile with static shapes (``dynamic=False``): one graph per configuration, as a
model of fixed sizes gets in production; Dynamo's automatic dynamic shapes would recompile the
second configuration of a row with symbolic sizes, which took 1.8 times as long for the same
verdicts (the time loop is unrolled, so the steps stay static either way).  How each transform
makes its call, and Dynamo's settings, are ``reproduce.standalone``'s (TRANSFORM_CALLS,
DYNAMO_SETTINGS), which every standalone script carries too; torch, and that module, are
imported only when a row runs under a transform.
"""
import logging
import os
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..config import CELL_KINDS, LAYER_KINDS, OPERATION_KIND
from ..errors import NotTransformed, TransformedCallRaised, Unsupported, one_line

#: Kinds a compiled or exported module can be: the layers (and the seed models built on them)
#: and the cells; the packing utilities are functions of torch's, not a module to transform.
MODULE_KINDS = tuple(LAYER_KINDS) + tuple(CELL_KINDS)


@dataclass(frozen=True)
class Transform:
    """How a row calls the target's forward.

    what: what runs in place of the forward (for messages); kinds: the target kinds it applies
    to; unsupported: feature -> why the transformed module cannot take it; examples: the share
    of the profile's examples a row draws; max_unrolled: the most steps x layers x directions
    a drawn configuration has (None: as the check draws); call_timeout: seconds one call may
    take at least (compilation happens inside the first call); calls: ``calls(fn, args)``, the
    transformed call (None: fn(*args) as it is); dynamo: whether its rows run under Dynamo's
    settings; needs: why it cannot run on this machine, or None (called once per row)."""

    name: str
    what: str = "the forward"
    kinds: tuple = MODULE_KINDS
    unsupported: dict = field(default_factory=dict)
    examples: float = 1.0
    max_unrolled: int = None
    call_timeout: float = 0.0
    #: why the kinds it applies to are those
    kinds_note: str = "the packing utilities are torch's functions, not a module to transform"
    calls: object = None
    dynamo: bool = False
    needs: object = None

    @property
    def eager(self):
        return self.calls is None

    def not_applicable(self, kind):
        """Why a target of ``kind`` cannot run under this transform, or None."""
        if kind in self.kinds:
            return None
        return f"{self.name} applies to {', '.join(self.kinds)} targets, not {kind} ({self.kinds_note})"

    def missing(self):
        """Why this transform cannot run on this machine, or None."""
        return None if self.needs is None else self.needs()

    def max_examples(self, profile_count, explicit=None):
        """Examples per row: ``explicit`` (--max-examples) as given, else the profile's share."""
        return explicit if explicit is not None else max(1, round(profile_count * self.examples))

    def drawn(self, strategy):
        """A check's strategy as this transform draws it: within ``max_unrolled``."""
        return strategy if self.max_unrolled is None else strategy.filter(self.accepts)

    def accepts(self, case):
        """Whether a drawn case is within ``max_unrolled`` (every configuration in it)."""
        if isinstance(case, tuple):
            return all(self.accepts(part) for part in case)
        unrolled = (getattr(case, "steps", 0) or 0) * getattr(case, "num_layers", 1) * getattr(case, "directions", 1)
        return self.max_unrolled is None or unrolled <= self.max_unrolled

    @contextmanager
    def active(self):
        """A row under this transform: Dynamo's settings for the compile ones, and torch's own
        compile and export logs quiet unless TORCH_LOGS asks for them (a failed call is the
        row's failure, said once in its message, not a traceback in the run's output)."""
        if not self.dynamo:
            yield
            return
        import torch._dynamo
        import torch._logging
        from ..reproduce.standalone import DYNAMO_SETTINGS
        torch._dynamo.reset()  # a row's compiled graphs depend on its own examples only: its replay sees the same
        quiet = not os.environ.get("TORCH_LOGS")
        if quiet:
            torch._logging.set_logs(all=logging.CRITICAL)
        try:
            with torch._dynamo.config.patch(**DYNAMO_SETTINGS):
                yield
        finally:
            if quiet:
                torch._logging.set_logs()

    def call(self, fn, args):
        """fn(*args) transformed.  Raises NotTransformed when the transformed call fails where
        the eager call returns, or returns without transformed code having run; when both
        fail, the eager call's exception (the target rejects this input either way)."""
        if self.eager:
            return fn(*args)
        try:
            return self.calls(fn, args)
        except Unsupported:
            raise
        except NotTransformed as exc:
            failure = exc
        except Exception as exc:
            failure = TransformedCallRaised(f"{self.name}: {self.what} raised {one_line(exc)}, where the eager forward "
                                     f"returns")
        fn(*args)  # the target's own error when it rejects this input, eagerly too
        raise failure


def c_compiler():
    """The C++ compiler Inductor would use, or None."""
    candidates = [os.environ["CXX"]] if os.environ.get("CXX") else ["g++", "c++", "clang++"]
    return next((found for found in map(shutil.which, candidates) if found), None)


def _needs_c_compiler():
    if c_compiler():
        return None
    return "compile-inductor: no C++ compiler found (Inductor compiles C++ on the CPU; set CXX or install g++)"


# --- The transformed calls ------------------------------------------------------------------

#: Runs of compiled graphs in this process: the proof that a compiled call ran compiled code.
_COMPILED_RUNS = [0]
_BACKENDS = {}


def _counting_backend(name):
    """The Dynamo backend of ``name`` (one object per process, so that Dynamo's cache is
    reused across calls), counting each run of a graph it compiled."""
    if name not in _BACKENDS:
        if name == "compile":
            from torch._dynamo.backends.debugging import aot_eager as compiler
        else:
            from torch._inductor.compile_fx import compile_fx as compiler

        def backend(graph, example_inputs):
            compiled = compiler(graph, example_inputs)

            def run(*args):
                _COMPILED_RUNS[0] += 1
                return compiled(*args)

            run._boxed_call = getattr(compiled, "_boxed_call", False)
            return run

        _BACKENDS[name] = backend
    return _BACKENDS[name]


def _compiled(name):
    def call(fn, args):
        from ..reproduce.standalone import transformed
        before = _COMPILED_RUNS[0]
        result = transformed(name, fn, backend=_counting_backend(name))(*args)
        if _COMPILED_RUNS[0] == before:
            raise NotTransformed(f"{name}: no compiled graph ran for this call: Dynamo ran the forward eagerly "
                                 f"(torch.compile skipped it)")
        return result
    return call


def _exported(fn, args):
    import torch
    from ..reproduce.standalone import transformed
    if not isinstance(fn, torch.nn.Module):
        raise Unsupported("export: only a module can be exported (this call is a function of it)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformed("export", fn)(*args)


def _scripted(fn, args):
    import torch
    from ..reproduce.standalone import transformed
    if not isinstance(fn, torch.nn.Module):
        raise Unsupported("script: a target with its own parameter names is differentiated through "
                          "torch.func.functional_call, which TorchScript cannot run")
    with warnings.catch_warnings():
        for deprecated in (DeprecationWarning, FutureWarning):  # torch.jit.script is deprecated (2.15: a
            warnings.simplefilter("ignore", deprecated)          # FutureWarning); still shipped
        scripted = transformed("script", fn)
    return scripted(*args)


#: What torch.compile cannot take in one graph: a packed sequence's batch sizes are data, and
#: torch's decomposition of a packed RNN guards on them ("Could not guard on data-dependent
#: expression"), so fullgraph=True refuses it (without fullgraph it runs eagerly).
COMPILED_UNSUPPORTED = {"packed": "torch.compile cannot capture a packed sequence's RNN in one graph (its batch "
                                  "sizes are data: a data-dependent guard)"}

#: Every transform by name, in the order rows and reports list them; how each but eager makes
#: its call is ``standalone.TRANSFORM_CALLS``'s, which a test holds to the same names.
TRANSFORMS = {
    "eager": Transform("eager", kinds=MODULE_KINDS + ("packing_utils", OPERATION_KIND)),
    # torch.compile(fullgraph=True, dynamic=False), aot_eager backend, RNNs allowed: Dynamo, AOTAutograd and
    # torch's decompositions, forward and backward, training and eval
    "compile": Transform("compile", "the compiled forward", unsupported=COMPILED_UNSUPPORTED, examples=0.2,
                         max_unrolled=12, calls=_compiled("compile"), dynamo=True),
    # the same with the Inductor backend: generated C++ on the CPU, Triton on CUDA
    "compile-inductor": Transform("compile-inductor", "the compiled forward", unsupported=COMPILED_UNSUPPORTED,
                                  examples=0.12, max_unrolled=6, call_timeout=600.0,
                                  calls=_compiled("compile-inductor"), dynamo=True, needs=_needs_c_compiler),
    # torch.export.export(...).run_decompositions().module(), in eval and training mode, forward only
    "export": Transform("export", "the exported program", examples=0.2, max_unrolled=12, unsupported={
        "packed": "torch.export cannot take a PackedSequence",
        "backward": "an exported program is checked forward only (gradients: under compile)"}, calls=_exported,
        dynamo=True),
    "script": Transform("script", "the scripted module", kinds=("rnn_cell", "gru_cell", "lstm_cell"),
                        kinds_note="a scripted nn.LSTM/GRU/RNN cannot be called from Python, only its overloads",
                        calls=_scripted),
}
