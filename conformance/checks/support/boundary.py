"""The one boundary between the suite and a target: every call into it (construct, load weights,
forward, backward) goes through ``Context``, and every forward result is validated here against
torch's contract for the input it was given before any check or the oracle reads it.
"""
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import torch
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from reference.cells import variant

from ...reproduce import hooks
from ...reproduce.claims import assert_structure
from ...targets import watch
from .data import as_numpy, side_inputs, to_torch
from ...errors import (CheckFailure, HookError, NotTransformed, TargetCrashed, TargetHung, TransformedCallRaised,
                       Unsupported, one_line)
from ...targets.loading import load_weights
from .tolerances import precision_for
from ...targets.transforms import TRANSFORMS

#: Seconds one example may spend inside the target before it counts as hung.
DEFAULT_TIMEOUT = 60.0


@contextmanager
def time_limit(seconds):
    """Raises TargetHung in the main thread after ``seconds`` (no limit elsewhere).  Python
    code only: a native call that never returns is killed from outside by the supervisor."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TargetHung(f"the target did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Context:
    """What a check body needs: the target, where and how to run it, the tolerance model."""

    target: object
    device: str
    dtype: torch.dtype
    timeout: float = DEFAULT_TIMEOUT
    config: object = None
    #: the transform every forward call goes through (``transforms``), and how many calls
    #: returned having run transformed code
    transform: object = TRANSFORMS["eager"]
    transformed: int = 0

    @property
    def precision(self):
        return precision_for(self.device, self.dtype, self.target.activation_error, self.target.scan_error)

    def construct(self, config):
        """The target module for config on the device and dtype (Unsupported if refused)."""
        arguments = self.target.constructor_arguments(config)
        try:
            module = self.call("the constructor", self.target.build, config, self.device, self.dtype)
        except TargetCrashed:
            hooks.constructed(*arguments, self.device, self.dtype)
            raise
        hooks.constructed(*arguments, self.device, self.dtype, result=module)
        return module

    def build(self, config, weights, train=False):
        """The target module for config holding ``weights`` rounded to the dtype, in eval mode
        (training mode with ``train``: cuDNN runs backward only there); returns (module, the
        rounded weights as float64 numpy, which the oracle uses)."""
        module = self.construct(config)
        return module, self.load(module, weights, load_weights, train)

    def load(self, module, weights, loader, train=False):
        """Loads float64 ``weights`` rounded to the dtype with ``loader(module, tensors)``, sets
        eval (or training) mode, and returns the rounded weights as float64 numpy."""
        tensors = {k: torch.as_tensor(v).to(device=self.device, dtype=self.dtype) for k, v in weights.items()}
        hooks.loading(module, tensors, train, loader)
        self.call("load_state_dict", loader, module, tensors)
        self.call("train" if train else "eval", module.train, train)
        hooks.parameters(module)
        return {k: t.to("cpu", torch.float64).numpy() for k, t in tensors.items()}

    def call(self, what, fn, *args, grad=False):
        """fn(*args) inside the time limit, watched by the supervisor, recording autograd only
        with ``grad``; an exception (sys.exit included) becomes a TargetCrashed failure, except
        Unsupported (a constructor's refusal)."""
        if fn is torch.autograd.backward:
            hooks.backward(*args)
        try:
            with watch.calling(what), time_limit(self.timeout), torch.set_grad_enabled(grad), hooks.paused():
                return fn(*args)
        except Unsupported:
            raise
        except (HookError, NotTransformed) as exc:
            raise CheckFailure(self.config, str(exc),
                               symptom="raises" if isinstance(exc, TransformedCallRaised) else None) from None
        except SystemExit as exc:
            raise TargetCrashed(self.config, f"the target crashed: {what} called sys.exit({exc.code!r}) "
                                             f"(exit code {exc.code!r})") from None
        except KeyboardInterrupt:
            if not watch.supervised():  # a user's Ctrl-C in a run without workers
                raise
            raise TargetCrashed(self.config, f"{what} raised KeyboardInterrupt") from None
        except Exception as exc:
            raise TargetCrashed(self.config, f"{what} raised {one_line(exc)}", detail=exc) from exc

    def invoke(self, fn, *args, grad=False):
        """The target's forward ``fn(*args)`` (a module, or a function of one) under the row's
        transform, as ``call`` runs it; a transformed call that did not run transformed code
        fails the example."""
        try:
            result = self.call("forward", self.transform.call, fn, args, grad=grad)
        except TargetCrashed:
            hooks.invoked(fn, args, grad, self.transform)
            raise
        hooks.invoked(fn, args, grad, self.transform, result=result)
        self.transformed += 1
        return result

    def raises(self, what, fn, *args):
        """Whether fn(*args) raised an exception (inside the time limit, watched)."""
        return self._raised(self.call, what, fn, *args)

    def rejects(self, fn, *args):
        """Whether the forward fn(*args) raised an exception (as ``invoke`` runs it)."""
        hooks.refused(fn, args)
        with hooks.paused():
            return self._raised(self.invoke, fn, *args)

    # --- calls a row's script makes too: made here, and recorded for it (``reproduce.hooks``) ---

    def utility(self, name, fn, args, kwargs, grad=False):
        """The target's utility ``name``, ``fn(*args, **kwargs)``, as ``call`` runs it."""
        try:
            result = self.call(name, lambda: fn(*args, **kwargs), grad=grad)
        except TargetCrashed:
            hooks.utility(name, args, kwargs, grad)
            raise
        hooks.utility(name, args, kwargs, grad, result=result)
        return result

    def utility_refusal(self, name, fn, args, kwargs):
        """(whether the target's utility ``name`` refused ``fn(*args, **kwargs)`` by raising, what it
        returned otherwise): a call that must raise, which the script makes expecting it to."""
        hooks.utility_refuses(name, args, kwargs)
        try:
            with hooks.paused():
                return False, self.call(name, lambda: fn(*args, **kwargs))
        except TargetCrashed:
            return True, None

    def snapshot(self, args):
        """What the arguments of a call are before it: the list of sequences' items (None when
        the first argument is not a list), and each tensor's (itself, shape, strides, a copy of
        its values), which the script takes before its own call too."""
        listed = list(args[0]) if isinstance(args[0], list) else None
        if listed is not None:
            hooks.listed(args[0], result=listed)
        tensors = _tensors_in(args)
        hooks.layouts(tensors)
        return listed, [(t, tuple(t.shape), t.stride(), t.detach().clone()) for t in tensors]

    def packed_input(self, packed_class, data, batch_sizes, *indices):
        """A PackedSequence of the target's class (``packed_class``) holding these fields."""
        packed = self.call("PackedSequence", packed_class, data, batch_sizes, *indices)
        hooks.packed_input((data, batch_sizes, *indices), result=packed)
        return packed

    def seeded(self, seed):
        """Seeds torch's generator (dropout's masks), as the script does."""
        torch.manual_seed(seed)
        hooks.seeded(seed)

    def torch_module(self, cls, name, args, options, state):
        """torch's own module ``cls(*args, **options)`` (the other side of a relation, named
        ``name`` in the script) on the row's device and dtype, holding ``state``."""
        with hooks.paused():
            module = cls(*args, **options).to(device=self.device, dtype=self.dtype)
            module.load_state_dict(state)
        hooks.torch_module(module, name, args, options, self.device, self.dtype, state)
        return module

    def seed_model(self, cls, sizes, constructor, options):
        """A seed model ``cls(*sizes, constructor)`` built on the target (``constructor``: its
        recurrent layer's) on the row's device and dtype; the script builds it from its own copy
        of ``conformance.models`` with the target's ``options``."""
        model = self.call(f"{cls.__name__}(...)", cls, *sizes, constructor).to(device=self.device, dtype=self.dtype)
        hooks.model(model, cls.__name__, sizes, options, self.device, self.dtype)
        return model

    @staticmethod
    def _raised(call, *args):
        try:
            call(*args)
        except TargetCrashed:
            return True
        return False

    def forward(self, module, config, given, hx=None, grad=False, side=None):
        """module(given[, hx]) validated against torch's contract for ``given``: (output, h_n, c_n).
        A variant's side inputs go by keyword, padded in batch order for packed input too:
        ``side``, or those of ``given`` (``data.side_inputs``)."""
        args = (given,) if hx is None else (given, hx)
        side = self.side_inputs(config, given) if side is None else _cut(side, config, given)
        result = self.invoke(partial(module, **side) if side else module, *args, grad=grad)
        hooks.holds(self.config, assert_structure, result, given, torch_shapes(config, given), self.dtype,
                          self.device)
        output, state = result
        return Forward(output, *(state if len(config.state_names) > 1 else (state,)))

    def side_inputs(self, config, given):
        """{keyword: tensor} of the variant's side inputs for the input ``given``."""
        if not variant(config.mode).side_inputs:
            return {}
        if isinstance(given, PackedSequence):
            with hooks.paused():
                given = pad_packed_sequence(given, batch_first=config.batch_first)[0]
        return {name: to_torch(values, self.dtype, self.device)
                for name, values in side_inputs(config, as_numpy(given), self.dtype).items()}


def _tensors_in(args):
    """The tensors among ``args``, in lists and tuples too, in order."""
    found = []
    for arg in args:
        if torch.is_tensor(arg):
            found.append(arg)
        elif isinstance(arg, (list, tuple)):
            found.extend(_tensors_in(arg))
    return found


def _cut(side, config, given):
    """Side inputs cut to the steps of ``given`` (a packed input's longest sequence)."""
    if not isinstance(given, PackedSequence):
        return side
    steps = len(given.batch_sizes)
    return {name: values[:, :steps] if config.batch_first else values[:steps] for name, values in side.items()}


class Forward(tuple):
    """A forward result that passed the boundary: (output, h_n, c_n, further states...): output
    (a PackedSequence for packed input), then the final states in the variant's order; c_n is
    None for a variant of one state (h), and sLSTM's n_n and m_n follow its c_n."""

    def __new__(cls, output, h_n, c_n=None, *more):
        return super().__new__(cls, (output, h_n, c_n) + tuple(more))

    output = property(lambda self: self[0])
    h_n = property(lambda self: self[1])
    c_n = property(lambda self: self[2])
    #: the states after c_n (none but for a variant of more than two)
    more = property(lambda self: tuple(self[3:]))

    @property
    def output_data(self):
        return self.output.data if isinstance(self.output, PackedSequence) else self.output

    def padded(self, config, total_length):
        """The output as a padded tensor of ``total_length`` steps in config's layout."""
        if not isinstance(self.output, PackedSequence):
            return self.output
        return pad_packed_sequence(self.output, batch_first=config.batch_first, total_length=total_length)[0]


def torch_shapes(config, given):
    """What torch returns for module ``config`` given ``given`` (a tensor (T, B, I), (B, T, I) or
    (T, I), or a PackedSequence): name -> shape of output (the packed data for packed input),
    h_n and c_n."""
    if isinstance(given, PackedSequence):
        lead, out_rows = (int(given.batch_sizes[0]) if len(given.batch_sizes) else 0,), tuple(given.data.shape[:1])
    else:
        lead, out_rows = (() if given.dim() == 2 else (given.shape[0 if config.batch_first else 1],)), tuple(given.shape[:-1])
    layers = (config.num_layers * config.directions,)
    shapes = {"output": out_rows + (config.directions * config.out_size,), "h_n": layers + lead + (config.out_size,)}
    for name in config.state_names[1:]:
        shapes[name] = layers + lead + (config.hidden_size,)
    return shapes
