"""Hypothesis strategies for model-driven fuzzing: HTTP requests for an operation, built from its botocore shapes.

`requests(op, known)` draws one `WireRequest` for `op`:

- **valid-but-odd** (about a third): every member respects the model (types, required, min/max, enum,
  pattern) but takes edge values: empty and maximal strings, astral characters, bounds of ranges, empty
  collections, real ids of stored things (from `known`, keyed by member name) or random ones;
- **malformed**: a valid request with one thing broken at the wire level: a member of the JSON body deleted,
  retyped, replaced by a hostile value or given an unknown sibling; the whole body replaced by bytes that
  are not the structure; a path label, query parameter or header replaced by junk.

The request is written by botocore's own serializer, so the valid part is exactly what an SDK would send.
`Outcome.problems()` states what a response must satisfy: no 5xx, a JSON body, an error code the operation
declares or a common one (`UnknownOperationException` only when a path label was broken).
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from botocore.model import Shape
from botocore.serialize import create_serializer
from hypothesis import strategies as st

from parley.protocol.errors import COMMON_ERRORS
from parley.protocol.spec import OperationSpec
from tests.unit.protocol.regex_strings import UNIVERSE, draw, utf16_length
from tests.unit.protocol.shape_values import HEADER_ALPHABET

SERIALIZER = create_serializer("rest-json", include_validation=False)
ODD_TEXT = [*UNIVERSE, "\u0000", "\u200b", "\ufeff", "\u202e", '"', "\\", "/", "%", "\U0010ffff", "\ud7ff"]
MAX_DEPTH = 5  # nesting of structures and collections drawn in full
LONGEST_DRAWN = 64  # strings longer than this are drawn only at their maximum, built by repetition
# An error the operation may not declare but that is still the documented wire form of a request that
# never reached it (a broken path label). KNOWN_UNDECLARED lists known defects the oracle must let pass,
# by operation; it is empty: the last ones (IdempotencyException for a reused ClientToken, issue 12's
# defect 4, which bench/fuzz.py also found on CreateParticipant) are fixed.
ROUTING_ERRORS = frozenset({"UnknownOperationException"})
KNOWN_UNDECLARED: dict[str, frozenset[str]] = {}
HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    1e308,
    -0.0,
    0.5,
    "",
    " ",
    "x" * 5000,
    "\u0000",
    "\ud800",
    "arn:aws:connect:us-east-1:123456789012:instance/../../x",
    [],
    [None],
    {},
    {"": ""},
    {"__proto__": {"polluted": True}},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]
RAW_BODIES: list[bytes] = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"x"',
    b"1e999999",
    b"{}" * 3,
    b'{"a":1,"a":2}',
    b"\xff\xfe\x00{",
    b"[" * 5000 + b"]" * 5000,
    b'{"x":' * 3000 + b"1" + b"}" * 3000,
    b"\x00" * 64,
    b'{"\\ud800": "\\udfff"}',
]
JUNK_TEXT = ["", "%", "%zz", "%00", "..", "%2e%2e", "a/b", "%2F", "x" * 3000, "\u00e9", "null", "-1", "1e9", " "]


@dataclass(frozen=True)
class WireRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    kind: str  # "valid", "body", "raw-body", "label", "query", "header"


# ------------------------------------------------------------------------------------- valid-but-odd values


def _bounds(shape: Shape, default_low: int, default_high: int) -> tuple[int, int]:
    low = shape.metadata.get("min", default_low)
    high = shape.metadata.get("max", max(low, default_high))
    return int(low), int(high)


def _string(shape: Shape) -> st.SearchStrategy[str]:
    enum = shape.metadata.get("enum")
    if enum:
        return st.sampled_from(sorted(enum))
    low, high = _bounds(shape, 0, 32)
    location = shape.serialization.get("location")
    if location == "uri":
        low = max(low, 1)
    alphabet = HEADER_ALPHABET if location == "header" else ODD_TEXT
    pattern = shape.metadata.get("pattern")
    if pattern:
        return st.randoms(use_true_random=False).map(lambda rnd: _patterned(pattern, low, high, rnd, alphabet))
    drawn = st.text(alphabet, min_size=low, max_size=min(high, LONGEST_DRAWN))
    drawn = drawn.filter(lambda text: low <= utf16_length(text) <= high)
    return st.one_of(drawn, drawn, drawn, st.just("a" * high)) if high > LONGEST_DRAWN else drawn


def _patterned(pattern: str, low: int, high: int, rnd: random.Random, alphabet: list[str]) -> str:
    """A string the pattern accepts, else (a pattern too hard to satisfy) one of the right length."""
    return draw(pattern, low, min(high, 256), rnd) or "".join(rnd.choice(alphabet) for _ in range(max(low, 1)))


def values(shape: Shape, known: dict[str, list[Any]], name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    """Values the model accepts for `shape`, edges included; `known` real values by member name."""
    own = _values(shape, known, depth)
    if name in known:  # mostly real things, so requests get past the lookups into the operation
        real = st.sampled_from(known[name])
        return st.one_of(real, real, real, own)
    return own


def _values(shape: Shape, known: dict[str, list[Any]], depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        return structures(shape, known, depth + 1)
    if kind in ("list", "map") and depth > MAX_DEPTH and not shape.metadata.get("min"):
        return st.just([] if kind == "list" else {})
    if kind == "list":
        low, high = _bounds(shape, 0, 3)
        member = values(shape.member, known, depth=depth + 1)
        return st.lists(member, min_size=low, max_size=min(high, max(low, 3)))
    if kind == "map":
        low, high = _bounds(shape, 0, 3)
        keys, items = values(shape.key, known, depth=depth + 1), values(shape.value, known, depth=depth + 1)
        return st.dictionaries(keys, items, min_size=low, max_size=min(high, max(low, 3)))
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        low, high = _bounds(shape, -(2**31), 2**31 - 1)
        return st.integers(low, high)
    if kind in ("double", "float"):
        low, high = _bounds(shape, -(10**9), 10**9)
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=st.just(UTC))
    if kind == "blob":
        low, high = _bounds(shape, 0, 64)
        return st.binary(min_size=low, max_size=min(high, 64))
    raise TypeError(f"no strategy for shape type {kind}")


def structures(shape: Shape, known: dict[str, list[Any]], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    required = set(shape.required_members)
    deep = depth > MAX_DEPTH  # a recursive shape: below this, required members and empty collections only
    names = [n for n in shape.members if n in required or not deep]
    members = {name: values(shape.members[name], known, name, depth) for name in names}
    if shape.metadata.get("union"):
        return st.one_of(*(st.fixed_dictionaries({name: m}) for name, m in members.items()))
    return st.fixed_dictionaries(
        {n: s for n, s in members.items() if n in required},
        optional={n: s for n, s in members.items() if n not in required},
    )


# ------------------------------------------------------------------------------------------ on the wire


def serialize(op: OperationSpec, params: dict[str, Any], kind: str = "valid") -> WireRequest:
    """What an SDK sends for `params`: botocore's serializer, then the URL as botocore prepares it."""
    request = SERIALIZER.serialize_to_request(params, op.model)
    query = request["query_string"]
    query_text = urlencode(query, doseq=True, quote_via=quote) if isinstance(query, dict) else query
    target = request["url_path"] + (("&" if "?" in request["url_path"] else "?") + query_text if query_text else "")
    body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
    headers = {name.lower(): str(value) for name, value in request["headers"].items()}
    return WireRequest(request["method"], target, headers, body, kind)


def _json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON document where a value sits."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_json_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_json_paths(item, (*prefix, index)))
    return found


def _mutated(document: Any, path: tuple[Any, ...], action: str, hostile: Any) -> Any:
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "sibling" and isinstance(parent, dict):
        parent[f"Unknown{last}"] = hostile
    else:
        parent[last] = hostile
    return document


@st.composite
def _broken_body(draw_: st.DrawFn, valid: WireRequest) -> WireRequest:
    document = json.loads(valid.body) if valid.body else {}
    paths = _json_paths(document)
    hostile = draw_(st.sampled_from(HOSTILE))
    if not paths:
        document = {"Unknown": hostile} if draw_(st.booleans()) else hostile
    else:
        path = draw_(st.sampled_from(paths))
        document = _mutated(document, path, draw_(st.sampled_from(["delete", "replace", "sibling"])), hostile)
    body = json.dumps(document).encode()
    return WireRequest(valid.method, valid.target, {**valid.headers, "content-type": "application/json"}, body, "body")


def _replace_label(op: OperationSpec, valid: WireRequest, junk: str) -> WireRequest:
    path, sep, query = valid.target.partition("?")
    segments = path.split("/")
    fixed = {i for i, part in enumerate(op.uri.split("?")[0].split("/")) if "{" not in part}
    labels = [i for i in range(len(segments)) if i not in fixed]
    index = labels[len(junk) % len(labels)]
    segments[index] = junk
    return WireRequest(valid.method, "/".join(segments) + sep + query, valid.headers, valid.body, "label")


@st.composite
def _broken_wire(draw_: st.DrawFn, op: OperationSpec, valid: WireRequest) -> WireRequest:
    choices = ["raw-body", "query"]
    if "{" in op.uri:
        choices.append("label")
    if op.bearer_header:
        choices.append("header")
    kind = draw_(st.sampled_from(choices))
    junk = draw_(st.sampled_from(JUNK_TEXT))
    if kind == "raw-body":
        return WireRequest(valid.method, valid.target, valid.headers, draw_(st.sampled_from(RAW_BODIES)), kind)
    if kind == "label":
        return _replace_label(op, valid, quote(junk, safe="%/") if draw_(st.booleans()) else quote(junk, safe=""))
    if kind == "header":
        assert op.bearer_header is not None
        headers = {**valid.headers, op.bearer_header: junk.encode("ascii", "replace").decode()}
        if not junk:
            headers.pop(op.bearer_header)
        return WireRequest(valid.method, valid.target, headers, valid.body, kind)
    name = draw_(st.sampled_from(["maxResults", "nextToken", "contactFlowTypes", "tagKeys", "clientToken", "x"]))
    separator = "&" if "?" in valid.target else "?"
    return WireRequest(
        valid.method, f"{valid.target}{separator}{name}={quote(junk, safe='')}", valid.headers, valid.body, kind
    )


def requests(op: OperationSpec, known: dict[str, list[Any]]) -> st.SearchStrategy[WireRequest]:
    """Requests for `op`: valid-but-odd, or valid with one part broken (build once, draw many)."""
    params = structures(op.input_shape, known) if op.input_shape is not None else st.just({})
    return params.flatmap(lambda drawn: _variants(op, serialize(op, drawn)))


def _variants(op: OperationSpec, valid: WireRequest) -> st.SearchStrategy[WireRequest]:
    broken = [_broken_wire(op, valid)]
    if valid.body.startswith(b"{"):
        broken.append(_broken_body(valid))
    return st.one_of(st.just(valid), *broken)


# -------------------------------------------------------------------------------------------- the oracle


@dataclass
class Outcome:
    op: OperationSpec
    request: WireRequest
    status: int
    headers: dict[str, str]
    body: bytes
    notes: list[str] = field(default_factory=list)

    def allowed_errors(self) -> frozenset[str]:
        allowed = self.op.error_codes | frozenset(COMMON_ERRORS) | KNOWN_UNDECLARED.get(self.op.name, frozenset())
        return allowed | ROUTING_ERRORS if self.request.kind == "label" else allowed

    def problems(self) -> list[str]:
        """Why this answer breaks the wire contract; empty when it does not."""
        problems = []
        if self.status >= 500:
            problems.append(f"status {self.status}")
        if self.headers.get("content-type") != "application/json":
            problems.append(f"content-type {self.headers.get('content-type')!r}")
        try:
            document = json.loads(self.body) if self.body else {}
        except ValueError:
            return [*problems, f"body is not JSON: {self.body[:200]!r}"]
        if self.status >= 400:
            code = self.headers.get("x-amzn-errortype")
            if not isinstance(document, dict) or document.get("__type") != code or not document.get("message"):
                problems.append(f"error body is not the wire form: {self.body[:200]!r}")
            if code not in self.allowed_errors():
                problems.append(f"{code} is neither declared by {self.op.name} nor a common error")
        return problems

    def describe(self) -> str:
        request = self.request
        body = base64.b64encode(request.body[:300]).decode() if request.body else ""
        return (
            f"{self.op.qualified_name} [{request.kind}] {request.method} {request.target[:300]} "
            f"headers={request.headers} body(b64)={body} -> {self.status} {self.body[:300]!r}: {self.problems()}"
        )
