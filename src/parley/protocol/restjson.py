"""The rest-json codec: requests in, responses and errors out, all driven by the model.

`parse_request` reads URI labels, query strings, headers and the JSON body by shape and validates
the lot (`validate`). `serialize_response` writes the output shape: timestamps as epoch seconds,
ISO8601Datetime strings as `yyyy-MM-ddTHH:mm:ss.SSSZ`, header members as headers, absent members
dropped. `serialize_error` writes the error wire form every SDK reads.
"""

from __future__ import annotations

import base64
import email.utils
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from parley.lazy import LazyModule
from parley.protocol.errors import ServiceError
from parley.protocol.spec import Member, OperationSpec, Shape
from parley.protocol.validate import (
    Converter,
    Problems,
    compile_members,
    compile_shape,
    fail,
    member_path,
    parse_timestamp,
    problems_message,
)

if TYPE_CHECKING:
    from parley.protocol import fastjson
else:
    fastjson = LazyModule("parley.protocol.fastjson", globals())  # msgspec, loaded by the first body

Serializer = Callable[[Any], Any]
Headers = list[tuple[bytes, bytes]]

MAX_BODY_BYTES = 8 * 1024 * 1024
# msgspec's JSON codec, 5-10x faster than the json module on these bodies, as a fast path only: whatever it
# refuses (NaN, 1e400, a lone surrogate, UTF-16, a BOM, malformed or too deep JSON) goes to the json module,
# which decides exactly as before and phrases the error (protocol/fastjson.py, loaded by the first body).


def iso_ms(moment: datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss.SSSZ`, always UTC, always three fraction digits (chatjs compares these as strings)."""
    moment = moment.astimezone(UTC)
    if moment.year >= 1000:  # isoformat, half strftime's cost: `…T10:00:00.123456+00:00`, or `…T10:00:00+00:00`
        text = moment.isoformat()
        return text[:23] + "Z" if moment.microsecond else text[:19] + ".000Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"  # %Y unpadded, as ever


def epoch_seconds(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


# ---------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class _InputCodec:
    body: Converter | None
    scalars: tuple[tuple[Member, Converter], ...]
    required_scalars: tuple[Member, ...]


_input_codecs: dict[tuple[str, str, bool], _InputCodec] = {}


def _input_codec(op: OperationSpec, strict: bool) -> _InputCodec:
    key = (op.service, op.name, strict)
    codec = _input_codecs.get(key)
    if codec is None:
        codec = _compile_input(op, strict)
        _input_codecs[key] = codec
    return codec


def _compile_input(op: OperationSpec, strict: bool) -> _InputCodec:
    required = set(op.input_shape.required_members) if op.input_shape is not None else set()
    body_members = {m.name: m.shape for m in op.input_members if m.location == "body"}
    body = None
    if body_members:
        body_required = tuple(n for n in body_members if n in required)
        body = compile_members(op.service, body_members, body_required, strict)
    scalars = tuple((m, compile_shape(op.service, m.shape, strict)) for m in op.input_members if m.location != "body")
    required_scalars = tuple(m for m, _ in scalars if m.name in required)
    return _InputCodec(body, scalars, required_scalars)


def _from_text(shape: Shape, text: str) -> Any:
    """A query-string, header or label value converted to its shape's type (the validator checks it)."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "timestamp":
        return parse_timestamp(text) or _http_date(text) or text
    return text


def _http_date(text: str) -> datetime | None:
    """An RFC 822 date (`Tue, 02 Jan 2024 10:00:00 GMT`): how SDKs send a header timestamp by default."""
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _scalar_value(
    member: Member,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> Any:
    if member.location == "uri":
        label = labels.get(member.wire_name)
        return None if label is None else _from_text(member.shape, label)
    if member.location == "querystring":
        if member.shape.type_name == "map":
            return {k: v[0] for k, v in query.items()}
        values = query.get(member.wire_name)
        if not values:
            return None
        if member.shape.type_name == "list":
            return [_from_text(member.shape.member, v) for v in values]
        return _from_text(member.shape, values[0])
    if member.location == "header":
        text = headers.get(member.wire_name.lower())
        return None if text is None else _from_text(member.shape, text)
    if member.location == "headers":
        prefix = member.wire_name.lower()
        return {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)} or None
    return None


def _decode_body(op: OperationSpec, body: bytes, problems: Problems) -> Any:
    if not body.strip():
        return {}
    if len(body) > MAX_BODY_BYTES:
        problems.append(f"The request body is larger than {MAX_BODY_BYTES} bytes")
        return {}
    try:
        return fastjson.decode(body)
    except Exception:  # the json module below decides, and says why
        pass
    try:
        return json.loads(body)
    except RecursionError:
        problems.append("The request body is nested too deeply to decode")
        return {}
    except ValueError as exc:
        problems.append(f"The request body is not valid JSON: {exc}")
        return {}


def parse_request(
    op: OperationSpec,
    labels: Mapping[str, str],
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    strict: bool = False,
    validation_error: str | None = None,
) -> dict[str, Any]:
    """The operation's input as a dict keyed by the model's member names; raises on any violation.

    `validation_error` replaces the model's choice of error code (PARLEY_VALIDATION_ERROR).
    """
    codec = _input_codec(op, strict)
    problems: Problems = []
    params: dict[str, Any] = {}
    if codec.body is not None:
        decoded = _decode_body(op, body, problems)
        if not problems:
            try:
                params = codec.body(decoded, "", problems) or {}
            except RecursionError:  # a recursive shape nested deeper than the interpreter's stack
                problems.append("The request body is nested too deeply")
    elif strict and body.strip() not in (b"", b"{}"):
        problems.append(f"{op.name} takes no request body")
    if codec.scalars:
        query = parse_qs(query_string, keep_blank_values=True) if query_string else {}
        for member, convert in codec.scalars:
            raw = _scalar_value(member, labels, query, headers)
            if raw is not None:
                params[member.name] = convert(raw, member_path("", member.name), problems)
        for member in codec.required_scalars:
            if params.get(member.name) is None:
                fail(problems, None, member_path("", member.name), "not be null")
    if problems:
        raise ServiceError(validation_error or op.validation_error, 400, problems_message(problems))
    return params


# --------------------------------------------------------------------------------------------- responses

_output_serializers: dict[tuple[str, str], Serializer] = {}


def compile_output(namespace: str, shape: Shape) -> Serializer:
    key = (namespace, shape.name)
    found = _output_serializers.get(key)
    if found is not None:
        return found

    def trampoline(value: Any) -> Any:
        return real(value)

    _output_serializers[key] = trampoline
    real = _build_output(namespace, shape)
    _output_serializers[key] = real
    return real


def _build_output(namespace: str, shape: Shape) -> Serializer:
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return _identity
        members = tuple((n, compile_output(namespace, m)) for n, m in shape.members.items())
        return lambda value: _serialize_structure(members, value)
    if kind == "list":
        item = compile_output(namespace, shape.member)
        return lambda value: [item(v) for v in value]
    if kind == "map":
        val = compile_output(namespace, shape.value)
        return lambda value: {str(k): val(v) for k, v in value.items()}
    if kind == "timestamp":
        # A `timestampFormat: iso8601` trait is how the SDKs parse it: JS v3 rejects a number there.
        iso = shape.serialization.get("timestampFormat") == "iso8601"
        return _serialize_string if iso else _serialize_timestamp
    if kind == "blob":
        return _serialize_blob
    if kind == "string":
        return _serialize_string
    return _identity


def _serialize_structure(members: tuple[tuple[str, Serializer], ...], value: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, serialize in members:
        v = value.get(name)
        if v is not None:
            out[name] = serialize(v)
    return out


def _identity(value: Any) -> Any:
    return value


def _serialize_timestamp(value: Any) -> Any:
    return epoch_seconds(value) if isinstance(value, datetime) else value


def _serialize_string(value: Any) -> Any:
    return iso_ms(value) if isinstance(value, datetime) else value


def _serialize_blob(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes | bytearray) else value


def _header_text(value: Any) -> str:
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class _OutputPlan:
    body: tuple[tuple[str, Serializer], ...]  # body members and their compiled serializers
    headers: tuple[tuple[str, bytes], ...]  # header members and their wire names
    status: str | None  # the member that is the HTTP status, if any


_output_plans: dict[tuple[str, str], _OutputPlan] = {}


def _output_plan(op: OperationSpec) -> _OutputPlan:
    """Where each output member goes and how it is written, worked out once per operation."""
    key = (op.service, op.name)
    plan = _output_plans.get(key)
    if plan is None:
        members = op.output_members
        body = tuple((m.name, compile_output(op.service, m.shape)) for m in members if m.location == "body")
        headers = tuple((m.name, m.wire_name.encode()) for m in members if m.location == "header")
        status = next((m.name for m in members if m.location == "statusCode"), None)
        plan = _output_plans[key] = _OutputPlan(body, headers, status)
    return plan


def serialize_response(op: OperationSpec, output: Mapping[str, Any]) -> tuple[int, Headers, bytes]:
    """Status, extra headers and JSON body for a successful call."""
    plan = _output_plan(op)
    body = _serialize_structure(plan.body, output)
    headers: Headers = []
    for name, wire in plan.headers:
        value = output.get(name)
        if value is not None:
            headers.append((wire, _header_text(value).encode()))
    code = output.get(plan.status) if plan.status is not None else None
    return (200 if code is None else int(code)), headers, json_bytes(body)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON. The json module writes what msgspec refuses: an unpaired surrogate (backslashreplace
    writes it as its JSON escape) or a value of no JSON type. The two write the same bytes, but for the
    exponent of a float of 1e16 or more (`1e+16` against `1e16`, the same number)."""
    try:
        return fastjson.encode(value)
    except Exception:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def serialize_error(error: ServiceError) -> tuple[int, Headers, bytes]:
    """`X-Amzn-ErrorType` plus a body with `__type`, both message spellings and the shape's members."""
    body: dict[str, Any] = {"__type": error.code, "message": error.message, "Message": error.message}
    body.update(error.members)
    return error.status, [(b"x-amzn-errortype", error.code.encode())], json_bytes(body)
