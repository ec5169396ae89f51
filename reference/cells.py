"""One time step of each recurrent variant, written once, like torch's docs.

These functions are the only place the equations live: gate order (LSTM: i, f, g, o;
GRU: r, z, n), the GRU's reset placement, the LSTM's projection.  On float64 arrays they
compute the oracle's values; on ``reference.arithmetic.Num``s the same lines compute error
bounds beside the values, and record what backpropagation needs for the gradients and
their bounds.  To change how a variant computes, edit its function here: values, bounds,
gradients and gradient bounds all follow.

Every cell takes the input projection ``gx = W_ih x + b_ih`` already computed for the
step (the layer computes it for all steps at once), the previous state, and its other
weights as a ``StepWeights``: ``w.hidden`` is ``W_hh h + b_hh`` as an ``Affine`` (when
``weight_hh`` is a matrix), ``w.projection`` the LSTM's ``W_hr``, and every other parameter
by its kind (``w.weight_p``: a vector used elementwise, or an ``Affine`` for a matrix).

Each variant is one ``Variant`` record in ``VARIANTS``: what the layers and the suite need
to know about it is read from there, never from its name.  torch's four come first; then
the variants of ONNX's operators (``onnx_lstm``, ``onnx_gru``, ``onnx_rnn`` make any of
them; the named ones are in ``VARIANTS``).  A variant of your own is a ``Variant`` written
the same way in your package (see the README, "A variant of your own").
"""
import re
from dataclasses import dataclass
from types import MappingProxyType
from collections.abc import Mapping
from typing import Callable, Optional

import numpy as np

from .activations import activation, arguments, clamp
from .arithmetic import lerp, linear, monotone, relu, sigmoid, split, tanh


def rnn_tanh_cell(gx, h, w):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh).  gx (B, H), h (B, H) -> (h',)."""
    return (tanh(gx + linear(h, w.hidden)),)


def rnn_relu_cell(gx, h, w):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh).  gx (B, H), h (B, H) -> (h',)."""
    return (relu(gx + linear(h, w.hidden)),)


def gru_cell(gx, h, w):
    """torch.nn.GRU, with the reset gate applied after the hidden matmul:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)
        z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    gx (B, 3H), h (B, H) -> (h',).
    """
    x_rz, x_n = split(gx, 2, 1)
    h_rz, h_n = split(linear(h, w.hidden), 2, 1)
    r, z = split(sigmoid(x_rz + h_rz), 1, 1)
    n = tanh(x_n + r * h_n)
    return (lerp(n, h, z),)


def lstm_cell(gx, h, c, w):
    """torch.nn.LSTM:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c'),  then h' = W_hr h' when the layer has a projection

    gx (B, 4H), h (B, P) with P = proj_size or H, c (B, H) -> (h', c').
    """
    i_f, g, o = split(gx + linear(h, w.hidden), 2, 1, 1)
    i, f = split(sigmoid(i_f), 1, 1)
    g, o = tanh(g), sigmoid(o)
    c_next = f * c + i * g
    h_next = o * tanh(c_next)
    if w.projection is not None:
        h_next = linear(h_next, w.projection)
    return h_next, c_next


# --- ONNX's variants ---------------------------------------------------------------------------
# Weights keep torch's gate order (LSTM i, f, g, o; GRU r, z, n): a layer written like torch's
# with one of ONNX's options differs from it in that option only.  Adapters to ONNX reorder.

def _clipped(clip):
    """ONNX's cell clip: every gate's input clamped to [-clip, clip] before its activation."""
    if clip is None:
        return lambda a: a
    bound = clamp(-clip, clip)
    return lambda a: monotone(a, bound)


def _onnx_lstm_step(f, g, h, clip, peepholes, input_forget):
    """ONNX's LSTM (https://onnx.ai/onnx/operators/onnx__LSTM.html), in torch's gate order:

        i = f(W_ii x + b_ii + W_hi h + b_hi + p_i * c)     (p_*: peepholes, when the layer has them)
        f' = f(W_if x + b_if + W_hf h + b_hf + p_f * c)    (1 - i with input_forget: no f rows)
        g' = g(W_ig x + b_ig + W_hg h + b_hg)
        c' = f' * c + i * g'
        o = f(W_io x + b_io + W_ho h + b_ho + p_o * c')
        h' = o * h(c')

    with each gate's input clamped to [-clip, clip] first when clip is set.  weight_p holds
    (p_i, p_f, p_o)."""
    cut = _clipped(clip)

    def onnx_lstm_cell(gx, h_prev, c, w):
        gates = gx + linear(h_prev, w.hidden)
        if input_forget:
            i, g_in, o = split(gates, 1, 1, 1)
            f_in = None
        else:
            i, f_in, g_in, o = split(gates, 1, 1, 1, 1)
        if peepholes:
            p_i, p_f, p_o = split(w.weight_p, 1, 1, 1)
            i = i + p_i * c
            f_in = None if input_forget else f_in + p_f * c
        i = f(cut(i))
        forget = 1.0 - i if input_forget else f(cut(f_in))
        c_next = forget * c + i * g(cut(g_in))
        if peepholes:
            o = o + p_o * c_next
        return f(cut(o)) * h(c_next), c_next

    return onnx_lstm_cell


def _onnx_gru_step(f, g, clip, linear_before_reset):
    """ONNX's GRU (https://onnx.ai/onnx/operators/onnx__GRU.html), in torch's gate order:

        r = f(W_ir x + b_ir + W_hr h + b_hr)      z = f(W_iz x + b_iz + W_hz h + b_hz)
        n = g(W_in x + b_in + r * (W_hn h + b_hn))        linear_before_reset (torch's GRU)
        n = g(W_in x + b_in + W_hn (r * h) + b_hn)        otherwise (Keras' reset_after=False)
        h' = (1 - z) * n + z * h
    """
    cut = _clipped(clip)

    def onnx_gru_cell(gx, h, w):
        x_r, x_z, x_n = split(gx, 1, 1, 1)
        if linear_before_reset:
            h_r, h_z, h_n = split(linear(h, w.hidden), 1, 1, 1)
            r, z = f(cut(x_r + h_r)), f(cut(x_z + h_z))
            n = g(cut(x_n + r * h_n))
        else:
            hidden_rz, hidden_n = w.hidden.blocks(2, 1)
            h_r, h_z = split(linear(h, hidden_rz), 1, 1)
            r, z = f(cut(x_r + h_r)), f(cut(x_z + h_z))
            n = g(cut(x_n + linear(r * h, hidden_n)))
        return (lerp(n, h, z),)

    return onnx_gru_cell


def _onnx_rnn_step(f, clip):
    """ONNX's RNN: h' = f(W_ih x + b_ih + W_hh h + b_hh), the input clamped first when clip is set."""
    cut = _clipped(clip)

    def onnx_rnn_cell(gx, h, w):
        return (f(cut(gx + linear(h, w.hidden))),)

    return onnx_rnn_cell


def _activations(names, alpha, beta, count):
    """ONNX's activation list: each name takes its alpha and beta from the flat lists in turn."""
    if len(names) != count:
        raise ValueError(f"activations={names!r}: expected {count} names")
    alpha, beta, made = list(alpha), list(beta), []
    for name in names:
        takes_alpha, takes_beta = arguments(name)
        a = alpha.pop(0) if takes_alpha and alpha else None
        b = beta.pop(0) if takes_beta and beta else None
        made.append(activation(name, a, b))
    if alpha or beta:
        raise ValueError(f"activation_alpha/beta have {len(alpha)}/{len(beta)} values no activation takes")
    return tuple(made)


@dataclass(frozen=True)
class Onnx:
    """What ONNX's operator needs to compute a variant (for adapters): op ('LSTM', 'GRU' or
    'RNN'), its attributes, and whether it has peepholes (input P)."""

    op: str
    activations: tuple
    clip: Optional[float] = None
    input_forget: bool = False
    linear_before_reset: bool = True
    peepholes: bool = False


def onnx_lstm(name, activations=("Sigmoid", "Tanh", "Tanh"), alpha=(), beta=(), clip=None, peepholes=False,
              input_forget=False):
    """The Variant of ONNX's LSTM with these attributes (and input P with ``peepholes``),
    named ``name``; ``input_forget`` couples the forget gate to the input gate (f = 1 - i), so
    the weights have three gate blocks, i, g, o."""
    acts = _activations(activations, alpha, beta, 3)
    parameters = torch_parameters(3 if input_forget else 4) + ((("weight_p", ("3H",)),) if peepholes else ())
    return Variant(name, 3 if input_forget else 4, ("h", "c"), _onnx_lstm_step(*acts, clip, peepholes, input_forget),
                   parameters=parameters,
                   onnx=Onnx("LSTM", acts, clip, input_forget=input_forget, peepholes=peepholes))


def onnx_gru(name, activations=("Sigmoid", "Tanh"), alpha=(), beta=(), clip=None, linear_before_reset=True):
    """The Variant of ONNX's GRU with these attributes, named ``name``."""
    acts = _activations(activations, alpha, beta, 2)
    return Variant(name, 3, ("h",), _onnx_gru_step(*acts, clip, linear_before_reset),
                   onnx=Onnx("GRU", acts, clip, linear_before_reset=linear_before_reset))


def onnx_rnn(name, activations=("Tanh",), alpha=(), beta=(), clip=None):
    """The Variant of ONNX's RNN with these attributes, named ``name``."""
    acts = _activations(activations, alpha, beta, 1)
    return Variant(name, 1, ("h",), _onnx_rnn_step(acts[0], clip), onnx=Onnx("RNN", acts, clip),
                   unbounded=acts[0].name not in ("Tanh", "Sigmoid", "Softsign", "HardSigmoid", "ScaledTanh"))


# --- the record ------------------------------------------------------------------------------------

_SIZE = re.compile(r"([1-9][0-9]*)?([A-Z])|([1-9][0-9]*)")
#: The sizes every variant has: the layer's input (I), hidden (H) and output (P: proj_size, else H).
BUILTIN_SIZES = ("I", "H", "P")
#: The domains a state may be declared in (``Variant.domains``): what initial states the suite
#: draws, and what the oracle accepts as ``hx``.
DOMAINS = ("real", "positive", "nonnegative")
_KIND = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def torch_parameters(gates, projection=False):
    """torch's parameters of one direction of one layer, in ``state_dict`` order."""
    rows = "H" if gates == 1 else f"{gates}H"
    return ((("weight_ih", (rows, "I")), ("weight_hh", (rows, "P")), ("bias_ih", (rows,)), ("bias_hh", (rows,)))
            + ((("weight_hr", ("P", "H")),) if projection else ()))


@dataclass(frozen=True)
class Variant:
    """One recurrent variant, as the oracle runs it.

    name: its mode (torch's ``mode`` string for torch's); gates: the gate blocks stacked in
    ``weight_ih`` (``(gates * H, I)`` unless ``parameters`` says otherwise); states: the names of
    its state, the first the one it outputs (``("h",)``; ``("h", "c")``; sLSTM's ``("h", "c",
    "n", "m")``: a state of several is a tuple, and so is ``hx``); step: its cell, ``step(gx,
    *state, w)`` -> new state (``w`` a StepWeights; ``gx`` is ``W_ih x + b_ih``); projection:
    whether its layer may project h (``weight_hr``, ``proj_size``).  A state named ``h`` has the
    output size P (proj_size or H), any other the hidden size H.

    parameters: ``(kind, shape)`` of one direction of one layer, in ``state_dict`` order; a
    shape's sizes are ``I`` (the layer's input size: the first layer's input, or the layer
    below's output), ``H``, ``P`` (proj_size, else H), a size named in ``sizes``, or a multiple
    such as ``3H``.  ``weight_ih`` (rows, I) comes first; kinds named ``bias_*`` are absent
    without bias, ``weight_hr`` without a projection.  Default: torch's.
    unbounded: its state may grow without bound (ReLU): the suite draws smaller weights.
    onnx: how ONNX's operator computes it, when it can (None otherwise).

    What the recurrences published lately need besides:

    sizes: ``((letter, keyword), ...)``: sizes beyond I, H, P (CfC's backbone width ``U``),
        which the suite draws and passes to the constructor by ``keyword``; the oracle reads
        them from the weights.
    frozen: kinds that are not trained (a wiring mask): the suite loads them and leaves them
        out of the gradient checks; the oracle still computes with them.
    elementwise: kinds of two axes used elementwise (LTC's (H, H) synapse parameters): the
        step reads them as arrays, not as ``Affine``s.
    reads_input: the step reads the layer's raw input at its step as ``w.x`` (SRU's highway);
        its gradient flows back to the input.
    side_inputs: ``((name, domain), ...)``: values per step and sequence that ``forward``
        takes by keyword ``name`` ((T, B), (B, T) batch-first, or (T,) unbatched) and the step
        reads as ``w.<name>``, shaped (B, 1): CfC's ``timespans``.  The suite draws them in
        ``domain``; they are constants (no gradient is compared for them).
    domains: ``{state: domain}`` (``DOMAINS``; others are real): a log-space minGRU's h is
        positive, sLSTM's n too.  The suite draws initial states there, and the oracle
        refuses an ``hx`` outside it.
    """

    name: str
    gates: int
    states: tuple
    step: Callable
    projection: bool = False
    parameters: tuple = None
    unbounded: bool = False
    onnx: Optional[Onnx] = None
    sizes: tuple = ()
    frozen: tuple = ()
    elementwise: tuple = ()
    reads_input: bool = False
    side_inputs: tuple = ()
    domains: tuple = ()

    def __post_init__(self):
        if isinstance(self.domains, Mapping):  # written as a dict; kept as pairs, so the record hashes
            object.__setattr__(self, "domains", tuple(self.domains.items()))
        if isinstance(self.parameters, tuple) and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], tuple)
                                                      for p in self.parameters):
            fixed = tuple((kind, tuple(str(s) if isinstance(s, int) and not isinstance(s, bool) else s for s in shape))
                          for kind, shape in self.parameters)  # a fixed size may be written 1 or "1"
            object.__setattr__(self, "parameters", fixed)
        if self.parameters is None:
            object.__setattr__(self, "parameters", torch_parameters(self.gates, self.projection))
        problem = self._problem()
        if problem:
            raise ValueError(f"Variant {self.name!r}: {problem}")
        object.__setattr__(self, "kinds", tuple(kind for kind, _ in self.parameters))
        object.__setattr__(self, "bias_kinds", tuple(kind for kind in self.kinds if kind.startswith("bias_")))
        object.__setattr__(self, "_shapes", {})

    def _problem(self):
        """What is wrong with this description, in words, or None."""
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in " ()"):
            return "name must be a non-empty string without spaces or parentheses"
        if not (isinstance(self.gates, int) and self.gates >= 1):
            return f"gates={self.gates!r}: expected an int >= 1"
        if not (isinstance(self.states, tuple) and self.states and self.states[0] == "h"
                and all(isinstance(s, str) and s.isidentifier() for s in self.states)
                and len(set(self.states)) == len(self.states)):
            return (f"states={self.states!r}: expected a tuple of distinct names, the first 'h' (h is what the layer "
                    f"outputs at every step and returns as h_n; a recurrence whose output is its only state names "
                    f"it h; one whose output is computed from its states returns it as h and keeps them after)")
        if not callable(self.step):
            return f"step={self.step!r} is not callable"
        try:
            kinds = [kind for kind, _ in self.parameters]
            shapes = [tuple(shape) for _, shape in self.parameters]
        except (TypeError, ValueError):
            return f"parameters={self.parameters!r}: expected ((kind, shape), ...)"
        problem = self._extension_problem()
        if problem:
            return problem
        letters = BUILTIN_SIZES + tuple(letter for letter, _ in self.sizes)
        rows = "H" if self.gates == 1 else f"{self.gates}H"
        if not kinds or kinds[0] != "weight_ih" or len(shapes[0]) != 2 or shapes[0][1] != "I" or (
                shapes[0][0] != rows and _SIZE.fullmatch(str(shapes[0][0])) and _SIZE.fullmatch(shapes[0][0])[2] == "H"):
            return (f"parameters must start with ('weight_ih', ({rows!r}, 'I')): its gates stacked over the input "
                    f"(or rows of a size of its own, as CfC's backbone ('U', 'I'))")
        for kind, shape in zip(kinds, shapes):
            if not isinstance(kind, str) or not _KIND.fullmatch(kind) or re.search(r"_l[0-9]+$|_reverse$", kind):
                return f"parameter kind {kind!r}: expected a lower-case name like 'weight_p' (no _l0, no _reverse)"
            if not 1 <= len(shape) <= 2 or not all(isinstance(s, str) and _SIZE.fullmatch(s)
                                                   and _SIZE.fullmatch(s)[2] in letters + (None,) for s in shape):
                return (f"parameter {kind} has shape {shape!r}: expected one or two sizes among "
                        f"{', '.join(map(repr, letters))}, a multiple such as '3H', or a fixed size such as 1")
        if len(set(kinds)) != len(kinds):
            return f"parameters name a kind twice: {kinds}"
        if ("weight_hr" in kinds) != self.projection:
            return "a variant has weight_hr exactly when projection=True"
        for letter, _ in self.sizes:
            if not any(_SIZE.fullmatch(s)[2] == letter for shape in shapes for s in shape):
                return f"size {letter!r} is named in sizes but no parameter's shape has it: the oracle reads it there"
        for label, named in (("frozen", self.frozen), ("elementwise", self.elementwise)):
            unknown = [kind for kind in named if kind not in kinds]
            if unknown:
                return f"{label}={named!r} names {unknown}, which are not among its parameters"
        return None

    def _extension_problem(self):
        """What is wrong with the fields beyond torch's (sizes, side inputs, domains), or None."""
        try:
            sizes = [(letter, keyword) for letter, keyword in self.sizes]
            sides = [(name, domain) for name, domain in self.side_inputs]
        except (TypeError, ValueError):
            return "sizes and side_inputs must be ((name, value), ...) pairs"
        for letter, keyword in sizes:
            if not (isinstance(letter, str) and len(letter) == 1 and letter.isupper() and letter not in BUILTIN_SIZES):
                return f"size {letter!r}: expected one capital letter other than I, H and P"
            if not (isinstance(keyword, str) and keyword.isidentifier()):
                return f"size {letter!r} passed by keyword {keyword!r}: expected an identifier"
        for name, domain in sides:
            if not (isinstance(name, str) and name.isidentifier()) or name in ("x", "hidden", "projection"):
                return f"side input {name!r}: expected an identifier other than x, hidden and projection"
            if domain not in DOMAINS:
                return f"side input {name} has domain {domain!r}: expected one of {', '.join(DOMAINS)}"
        try:
            domains = dict(self.domains)
        except (TypeError, ValueError):
            domains = None
        if domains is None or any(state not in self.states or domain not in DOMAINS for state, domain in domains.items()):
            return f"domains={self.domains!r}: expected {{state: domain}}, a state of {self.states}, a domain of " \
                   f"{', '.join(DOMAINS)}"
        return None

    #: The kinds of its parameters, in ``state_dict`` order, and those of its biases (set from
    #: ``parameters``).
    kinds = bias_kinds = ()

    @property
    def paired(self):
        """Whether its state is a tuple (h, c) rather than h alone."""
        return len(self.states) > 1

    @property
    def initial_state(self):
        """How ``hx`` is written for it: 'h0' or '(h0, c0)'."""
        names = [f"{state}0" for state in self.states]
        return f"({', '.join(names)})" if self.paired else names[0]

    def shapes(self, input_size, hidden_size, proj_size=0, bias=True, sizes=None):
        """kind -> shape of one direction of one layer whose input has ``input_size``; ``sizes``
        gives the named ones ({letter: value}) (read only: kept per sizes, the layers ask often)."""
        named = tuple(sorted((sizes or {}).items()))
        key = (input_size, hidden_size, proj_size, bias, named)
        if key not in self._shapes:
            values = {"I": input_size, "H": hidden_size, "P": proj_size or hidden_size, **dict(named)}
            missing = [letter for letter, _ in self.sizes if letter not in values]
            if missing:
                raise ValueError(f"variant {self.name}: its shapes need the sizes {missing}")

            def size(spec):
                multiple, letter, fixed = _SIZE.fullmatch(spec).groups()
                return int(fixed) if fixed else int(multiple or 1) * values[letter]
            self._shapes[key] = {kind: tuple(size(s) for s in shape) for kind, shape in self.parameters
                                 if (bias or not kind.startswith("bias_")) and (proj_size or kind != "weight_hr")}
        return MappingProxyType(self._shapes[key])

    def read_sizes(self, weights, suffix="_l0"):
        """{letter: value} of the sizes beyond I, H, P, read from one direction of one layer's
        weights (``weights`` keyed like a state dict); ValueError where they disagree."""
        found = {}
        for kind, shape in self.parameters:
            if kind + suffix not in weights:
                continue
            for spec, got in zip(shape, np.shape(weights[kind + suffix])):
                multiple, letter, _ = _SIZE.fullmatch(spec).groups()
                if letter in BUILTIN_SIZES or letter is None:
                    continue
                value, remainder = divmod(got, int(multiple or 1))
                if remainder or found.setdefault(letter, value) != value or value < 1:
                    raise ValueError(f"{kind + suffix} has shape {np.shape(weights[kind + suffix])}: its size {letter} "
                                     f"disagrees with the other parameters' ({found.get(letter)})")
        return found

    def hidden_from(self, weights, suffix="_l0"):
        """The hidden size H read from the first parameter whose shape has it."""
        for kind, shape in self.parameters:
            for spec, got in zip(shape, np.shape(weights.get(kind + suffix, ()))):
                multiple, letter, _ = _SIZE.fullmatch(spec).groups()
                if letter == "H":
                    if got % int(multiple or 1):
                        raise ValueError(f"{kind + suffix} has {got} rows: not a multiple of {multiple} for mode "
                                         f"{self.name}")
                    return got // int(multiple or 1)
        raise ValueError(f"variant {self.name}: no parameter's shape has the hidden size H")

    def domain(self, state):
        """The domain of ``state`` ('real' unless ``domains`` says otherwise)."""
        return dict(self.domains).get(state, "real")

    def check_domain(self, state, value):
        """ValueError if ``value`` (an initial state) lies outside its state's domain."""
        domain = self.domain(state)
        outside = (np.asarray(value) <= 0.0) if domain == "positive" else (
            np.asarray(value) < 0.0) if domain == "nonnegative" else None
        if outside is not None and outside.any():
            raise ValueError(f"{state}0 must be {domain} for variant {self.name} (its domain): "
                             f"{int(outside.sum())} values are not")


@dataclass
class StepWeights:
    """What a step reads besides its input projection and state: ``hidden`` (``W_hh h +
    b_hh`` as an Affine, when weight_hh is a matrix), ``projection`` (``W_hr``, or None), and
    every other parameter as an attribute named by its kind (a vector, or an Affine for a
    matrix); an absent bias reads 0.0."""

    hidden: object = None
    projection: object = None

    def __getattr__(self, kind):
        if kind.startswith("bias_"):
            return 0.0
        raise AttributeError(f"the step reads w.{kind}, which is not a parameter of its variant")


#: Every variant the oracle runs, by mode: torch's, then ONNX's.
VARIANTS = {variant.name: variant for variant in (
    Variant("RNN_TANH", gates=1, states=("h",), step=rnn_tanh_cell),
    Variant("RNN_RELU", gates=1, states=("h",), step=rnn_relu_cell, unbounded=True),
    Variant("GRU", gates=3, states=("h",), step=gru_cell),
    Variant("LSTM", gates=4, states=("h", "c"), step=lstm_cell, projection=True),
    onnx_lstm("LSTM_PEEPHOLE", peepholes=True),
    onnx_lstm("LSTM_COUPLED", input_forget=True),
    onnx_lstm("LSTM_CLIP", clip=1.0),
    onnx_lstm("LSTM_HARD_SIGMOID", activations=("HardSigmoid", "Tanh", "Tanh")),
    onnx_gru("GRU_RESET_BEFORE", linear_before_reset=False),
)}
#: torch's own variants (torch.nn.RNN, GRU and LSTM compute exactly these).
TORCH_MODES = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM")


def variant(mode):
    """The Variant of ``mode``: a name in VARIANTS, or ``package.module:NAME`` naming a
    Variant of your own; ValueError saying what is wrong otherwise."""
    return record_named(mode, VARIANTS, Variant, "mode", "variant")


def record_named(name, table, record_class, argument, what):
    """The ``record_class`` instance ``name`` names: itself, a key of ``table``, or
    ``package.module:NAME``; ValueError naming ``argument`` otherwise."""
    if isinstance(name, record_class):
        return name
    if name in table:
        return table[name]
    if isinstance(name, str) and ":" in name:
        return _imported(name, record_class, what)
    raise ValueError(f"{argument}={name!r}: expected one of {', '.join(table)}, or package.module:NAME naming a "
                     f"reference.{record_class.__name__} of your own")


def _imported(path, record_class=None, what="variant"):
    """The ``record_class`` instance (a Variant by default) that ``package.module:NAME`` names;
    ValueError saying what is wrong otherwise."""
    record_class = record_class or Variant
    import importlib
    import os
    import sys
    module_name, _, attr = path.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module failing to import is their description's fault
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"{what} {path}: importing {module_name!r} raised {type(exc).__name__}: {detail}") from None
    found = getattr(module, attr, None)
    if not isinstance(found, record_class):
        got = "nothing" if found is None else f"a {type(found).__name__}"
        raise ValueError(f"{what} {path}: {module_name}.{attr} is {got}, not a reference.{record_class.__name__}")
    return found
