"""Loading a target of kind ``operation``: a function (or any callable) with the calling
convention of ``reference.operations``, ``op(q, k, v, <gates...>, scale=None,
initial_state=None, output_final_state=False, cu_seqlens=None, **options) -> (o,
final_state)``, that declares the record it computes (``rnn_conformance_variant`` or
``--variant``).  What its signature lacks (a keyword of ``ARGUMENTS``) makes the checks that
need it unsupported; a signature that cannot take the record's inputs is a usage error."""
import inspect

from reference.operations import ARGUMENTS
from reference.recurrences import operation_record

from .declarations import CHUNK_DECLARATION, OPERATION_CHUNK_SIZES, declare
from ..config import OPERATION_KIND
from ..errors import UsageError

#: The feature each keyword of the calling convention gives (``OPERATION_FEATURES``).
KEYWORD_FEATURES = {"cu_seqlens": "varlen", "initial_state": "initial_state", "chunk_size": "chunk_size",
                    "scale": "scale"}


def operation_target(target_class, impl, factory, kind, record_name, declared):
    """The Target of an operation: its record checked against its signature, its chunk sizes
    read, the keywords it lacks unsupported.  Raises UsageError with one line."""
    if kind not in (None, OPERATION_KIND):
        raise UsageError(f"--kind {kind} but {impl} declares the operation {record_name}: its kind is "
                         f"{OPERATION_KIND}")
    if not callable(factory):
        raise UsageError(f"--impl {impl} is a {type(factory).__name__}, not callable: an operation is called as "
                         f"op(q, k, v, ..., initial_state=..., cu_seqlens=...)")
    record = operation_record(record_name)
    target = declare(target_class(impl, OPERATION_KIND, factory, variant=record_name), declared)
    target.chunk_sizes = _chunk_sizes(impl, factory)
    if "scan_error" in target.declarations:  # an operation's scan error is its chunked form's
        target.declarations["scan_error"]["chunked"] = True
    target.unsupported.update(_lacking(impl, factory, record))
    return target


def _lacking(impl, factory, record):
    """{feature: why} for each keyword of the convention its signature does not take; UsageError
    when it cannot take the record's inputs by position."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no signature to read (a builtin): its calls will say
        return {}
    parameters = list(signature.parameters.values())
    options = {record.argument(key) for key in ARGUMENTS}
    positional = 0  # the inputs it takes: its positional parameters before the first option of the convention
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            positional = len(record.inputs)
            break
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.name in options:
            break
        positional += 1
    if positional < len(record.inputs):
        names = [spec.name for spec in record.inputs]
        raise UsageError(f"--impl {impl}{signature} takes {positional} inputs by position; its record "
                         f"{record.name} has {len(names)} ({', '.join(names)}): it lacks "
                         f"{', '.join(names[positional:])}")
    keywords = any(p.kind is p.VAR_KEYWORD for p in parameters)
    named = {p.name for p in parameters[len(record.inputs):]} | {p.name for p in parameters if p.kind is p.KEYWORD_ONLY}
    lacking = {}
    for key in ARGUMENTS:
        name = record.argument(key)
        if key in KEYWORD_FEATURES and not keywords and name not in named:
            lacking[KEYWORD_FEATURES[key]] = f"its signature {signature} has no {name}"
    if record.scale is None:
        lacking.pop("scale", None)
    return lacking


def _chunk_sizes(impl, factory):
    sizes = getattr(factory, CHUNK_DECLARATION, OPERATION_CHUNK_SIZES)
    if isinstance(sizes, int) or not sizes or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1
                                                      for s in sizes):
        raise UsageError(f"{impl}.{CHUNK_DECLARATION} = {sizes!r}: expected a tuple of chunk sizes >= 1")
    return tuple(sizes)
