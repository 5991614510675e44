"""Turns decoded request values into Python values by shape, checking every model constraint.

One walk converts and validates: types, `required`, `min` and `max` (lengths, counts, ranges),
`enum` and `pattern` — the constraints botocore's client-side ParamValidator leaves to the server.
Problems are collected with their AWS-style path and phrased the way AWS phrases them:
``Value 'x' at 'participantDetails.displayName' failed to satisfy constraint: Member must ...``.

We do not subclass botocore's ParamValidator: it validates client-side Python values (datetimes,
bytes) with client-style messages, and would need every method overridden to speak like the service.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from parley.protocol.spec import Shape

Problems = list[str]
Converter = Callable[[Any, str, Problems], Any]

MAX_REPORTED = 10  # problems spelled out in a message; the rest are only counted
_MORE = "(more)"  # placeholder for a problem past MAX_REPORTED: counted, never formatted
_cache: dict[tuple[str, str, bool], Converter] = {}
log = logging.getLogger("parley.validate")


def compile_shape(namespace: str, shape: Shape, strict: bool) -> Converter:
    """A converter for `shape`, memoised per (namespace, shape name, strictness)."""
    key = (namespace, shape.name, strict)
    found = _cache.get(key)
    if found is not None:
        return found

    # Recursive shapes: register a trampoline before compiling the body.
    def trampoline(value: Any, path: str, problems: Problems) -> Any:
        return real(value, path, problems)

    _cache[key] = trampoline
    real = _build(namespace, shape, strict)
    _cache[key] = real
    return real


def problems_message(problems: Problems) -> str:
    noun = "error" if len(problems) == 1 else "errors"
    text = f"{len(problems)} validation {noun} detected: " + "; ".join(problems[:MAX_REPORTED])
    if len(problems) > MAX_REPORTED:
        text += f"; and {len(problems) - MAX_REPORTED} more"
    return text


def report(problems: Problems, make: Callable[[], str]) -> None:
    """Adds a problem; past MAX_REPORTED only counts it, so a huge bad list cannot make a huge message."""
    problems.append(make() if len(problems) < MAX_REPORTED else _MORE)


def member_path(parent: str, name: str) -> str:
    label = name[:1].lower() + name[1:]
    return f"{parent}.{label}" if parent else label


def show(value: Any) -> str:
    """How a rejected value is quoted in a message: short, never the whole of a huge string."""
    if value is None:
        return "null"
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str)
        except RecursionError:
            text = "[...]" if isinstance(value, list) else "{...}"
    if len(text) > 64:
        text = text[:61] + "..."
    if not text.isascii():  # an unpaired surrogate cannot be sent as UTF-8: show it escaped
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return f"'{text}'"


def fail(problems: Problems, value: Any, path: str, rule: str) -> None:
    report(problems, lambda: f"Value {show(value)} at '{path}' failed to satisfy constraint: Member must {rule}")


def _build(namespace: str, shape: Shape, strict: bool) -> Converter:
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return _document
        return _structure(namespace, shape, strict)
    if kind == "list":
        return _list(namespace, shape, strict)
    if kind == "map":
        return _map(namespace, shape, strict)
    builder = _SCALARS.get(kind)
    if builder is None:
        raise ValueError(f"unsupported shape type {kind} ({shape.name})")
    return builder(shape)


def _document(value: Any, path: str, problems: Problems) -> Any:
    return value


def _structure(namespace: str, shape: Shape, strict: bool) -> Converter:
    members = {name: compile_shape(namespace, m, strict) for name, m in shape.members.items()}
    return structure_converter(members, tuple(shape.required_members), bool(shape.metadata.get("union")), strict)


def compile_members(namespace: str, shapes: dict[str, Shape], required: tuple[str, ...], strict: bool) -> Converter:
    """A structure converter over a subset of an input shape's members (the body members of an operation)."""
    members = {name: compile_shape(namespace, s, strict) for name, s in shapes.items()}
    return structure_converter(members, required, False, strict)


def structure_converter(
    members: dict[str, Converter], required: tuple[str, ...], is_union: bool, strict: bool
) -> Converter:
    def convert(value: Any, path: str, problems: Problems) -> Any:
        if not isinstance(value, dict):
            fail(problems, value, path or "body", "be a structure (a JSON object)")
            return None
        out: dict[str, Any] = {}
        for name, raw in value.items():
            converter = members.get(name)
            if converter is None:
                if strict:
                    _unknown_member(problems, member_path(path, str(name)))
                continue
            if raw is None:
                continue
            out[name] = converter(raw, member_path(path, name), problems)
        for name in required:
            if name not in out:
                fail(problems, None, member_path(path, name), "not be null")
        if is_union and len(out) != 1:
            report(
                problems,
                lambda: f"Value at '{path}' failed to satisfy constraint: Member must have exactly one member set",
            )
        return out

    return convert


def _unknown_member(problems: Problems, path: str) -> None:
    report(problems, lambda: f"Unknown member {show(path)} is not allowed (--strict)")


def _count_bounds(shape: Shape) -> tuple[int | None, int | None]:
    return shape.metadata.get("min"), shape.metadata.get("max")


def _check_count(value: Any, n: int, path: str, low: int | None, high: int | None, problems: Problems) -> None:
    if low is not None and n < low:
        fail(problems, value, path, f"have length greater than or equal to {low}")
    if high is not None and n > high:
        fail(problems, value, path, f"have length less than or equal to {high}")


def _list(namespace: str, shape: Shape, strict: bool) -> Converter:
    item = compile_shape(namespace, shape.member, strict)
    low, high = _count_bounds(shape)

    def convert(value: Any, path: str, problems: Problems) -> Any:
        if not isinstance(value, list):
            fail(problems, value, path, "be a list (a JSON array)")
            return None
        _check_count(value, len(value), path, low, high, problems)
        return [item(v, f"{path}.{i + 1}.member", problems) for i, v in enumerate(value)]

    return convert


def _map(namespace: str, shape: Shape, strict: bool) -> Converter:
    key = compile_shape(namespace, shape.key, strict)
    val = compile_shape(namespace, shape.value, strict)
    low, high = _count_bounds(shape)

    def convert(value: Any, path: str, problems: Problems) -> Any:
        if not isinstance(value, dict):
            fail(problems, value, path, "be a map (a JSON object)")
            return None
        _check_count(value, len(value), path, low, high, problems)
        out: dict[Any, Any] = {}
        for k, v in value.items():
            converted = key(k, f"{path}.key", problems)
            if v is None:
                fail(problems, None, f"{path}.{k}", "not be null")
                continue
            out[converted] = val(v, f"{path}.{k}", problems)
        return out

    return convert


def _compile_pattern(shape: Shape) -> Any:
    pattern = shape.metadata.get("pattern")
    if not pattern:
        return None
    import regex  # ~15 ms of imports: loaded by the first pattern compiled, not at start-up

    try:
        return regex.compile(pattern)
    except regex.error as exc:
        log.warning("pattern of %s is not enforced: the regex engine refuses %r (%s)", shape.name, pattern, exc)
        return None


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _is_unicode(text: str) -> bool:
    """False for a string holding an unpaired surrogate (JSON allows `"\\ud800"`; UTF-8 cannot carry it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string(shape: Shape) -> Converter:
    low, high = _count_bounds(shape)
    enum = frozenset(shape.metadata.get("enum") or ())
    enum_text = "[" + ", ".join(shape.metadata.get("enum") or ()) + "]"
    pattern = _compile_pattern(shape)
    pattern_text = shape.metadata.get("pattern")

    def convert(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, datetime):  # an ISO8601Datetime string member parsed from a header
            return value
        if not isinstance(value, str):
            fail(problems, value, path, "be of type string")
            return None
        if not _is_unicode(value):
            fail(problems, value, path, "be valid Unicode text (it holds an unpaired surrogate)")
            return None
        if low is not None or high is not None:
            _check_count(value, _utf16_length(value), path, low, high, problems)
        if enum and value not in enum:
            fail(problems, value, path, f"satisfy enum value set: {enum_text}")
        elif pattern is not None and pattern.fullmatch(value) is None:
            fail(problems, value, path, f"satisfy regular expression pattern: {pattern_text}")
        return value

    return convert


def _ranged(shape: Shape, accept: Callable[[Any], bool], type_name: str) -> Converter:
    low, high = _count_bounds(shape)

    def convert(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool) or not accept(value):
            fail(problems, value, path, f"be of type {type_name}")
            return None
        if low is not None and value < low:
            fail(problems, value, path, f"have value greater than or equal to {low}")
        if high is not None and value > high:
            fail(problems, value, path, f"have value less than or equal to {high}")
        return value

    return convert


def _integer(shape: Shape) -> Converter:
    return _ranged(shape, lambda v: isinstance(v, int), "integer")


def _float(shape: Shape) -> Converter:
    return _ranged(shape, lambda v: isinstance(v, int | float) and math.isfinite(v), "number")


def _boolean(shape: Shape) -> Converter:
    def convert(value: Any, path: str, problems: Problems) -> Any:
        if not isinstance(value, bool):
            fail(problems, value, path, "be of type boolean")
            return None
        return value

    return convert


def parse_timestamp(value: Any) -> datetime | None:
    """Epoch seconds (number) or an ISO-8601 string, as rest-json clients send them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return parse_timestamp(float(value)) if _is_number(value) else None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _timestamp(shape: Shape) -> Converter:
    def convert(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, datetime):
            return value
        parsed = parse_timestamp(value)
        if parsed is None:
            fail(problems, value, path, "be a timestamp (epoch seconds or ISO-8601)")
        return parsed

    return convert


def _blob(shape: Shape) -> Converter:
    low, high = _count_bounds(shape)

    def convert(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bytes):
            return value
        if not isinstance(value, str):
            fail(problems, value, path, "be base64-encoded binary data")
            return None
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            fail(problems, value, path, "be base64-encoded binary data")
            return None
        _check_count(value, len(data), path, low, high, problems)
        return data

    return convert


_SCALARS: dict[str, Callable[[Shape], Converter]] = {
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": _float,
    "double": _float,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": _blob,
}
