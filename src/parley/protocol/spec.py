"""The `connect` and `connectparticipant` service models, read from protocol/models/ (generated from botocore's
by protocol/generate_models.py when `make` installs, or at the first start without them, and checked against
botocore's by a test; they are not kept in git), so serving imports no botocore.

It turns each operation into an `OperationSpec`: where every input member lives on the wire, which member
is the idempotency token, which error a validation failure becomes. `Shape` answers what Parley reads of
botocore's shapes, computed as botocore computes it. Nothing here knows about chat.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import OperationModel, ServiceModel

API_VERSIONS: dict[str, str] = {"connect": "2017-08-08", "connectparticipant": "2018-09-07"}
MODELS = Path(__file__).with_name("models")

__all__ = [
    "API_VERSIONS",
    "Member",
    "OperationSpec",
    "Operations",
    "Shape",
    "load_operations",
    "service_model",
    "shape_named",
]

# The keys botocore copies from a shape's model (and a member reference's traits) into `serialization` and
# `metadata` (botocore.model.Shape.SERIALIZED_ATTRS / METADATA_ATTRS).
SERIALIZED = (
    "locationName",
    "queryName",
    "flattened",
    "location",
    "payload",
    "streaming",
    "timestampFormat",
    "xmlNamespace",
    "resultWrapper",
    "xmlAttribute",
    "eventstream",
    "event",
    "eventheader",
    "eventpayload",
    "jsonvalue",
    "hostLabel",
)
METADATA = (
    "required",
    "min",
    "max",
    "pattern",
    "sensitive",
    "enum",
    "idempotencyToken",
    "error",
    "exception",
    "endpointdiscoveryid",
    "retryable",
    "document",
    "union",
    "contextParam",
    "clientContextParams",
    "requiresLength",
)
SERIALIZED_KEYS, METADATA_KEYS = frozenset(SERIALIZED), frozenset(METADATA)


class Shape:
    """One shape as botocore resolves it (a member reference's traits merged over the named shape's model):
    name, type_name, serialization, metadata, members / required_members (structure), member (list),
    key and value (map), enum (string). Members are resolved on first use."""

    __slots__ = (
        "_key",
        "_member",
        "_members",
        "_model",
        "_shapes",
        "_value",
        "metadata",
        "name",
        "serialization",
        "type_name",
    )

    def __init__(self, name: str, model: dict[str, Any], shapes: Shapes) -> None:
        self.name = name
        self.type_name: str = model["type"]
        self._model = model
        self._shapes = shapes
        self.serialization = _picked(model, SERIALIZED, SERIALIZED_KEYS)
        if "locationName" in self.serialization:
            self.serialization["name"] = self.serialization.pop("locationName")
        self.metadata = _picked(model, METADATA, METADATA_KEYS)
        self._members: dict[str, Shape] | None = None
        self._member: Shape | None = None
        self._key: Shape | None = None
        self._value: Shape | None = None

    def __repr__(self) -> str:
        return f"<Shape({self.name})>"

    @property
    def required_members(self) -> list[str]:
        required: list[str] = self.metadata.get("required", [])
        return required

    @property
    def members(self) -> dict[str, Shape]:
        if self._members is None:
            refs = self._model.get("members", {})
            self._members = {name: self._shapes.resolve(ref) for name, ref in refs.items()}
        return self._members

    @property
    def member(self) -> Shape:
        if self._member is None:
            self._member = self._shapes.resolve(self._model["member"])
        return self._member

    @property
    def key(self) -> Shape:
        if self._key is None:
            self._key = self._shapes.resolve(self._model["key"])
        return self._key

    @property
    def value(self) -> Shape:
        if self._value is None:
            self._value = self._shapes.resolve(self._model["value"])
        return self._value

    @property
    def enum(self) -> list[str]:
        values: list[str] = self.metadata.get("enum", [])
        return values

    @property
    def is_document_type(self) -> bool:
        return bool(self.metadata.get("document", False))

    @property
    def is_tagged_union(self) -> bool:
        return bool(self.metadata.get("union", False))


def _picked(model: dict[str, Any], ordered: tuple[str, ...], wanted: frozenset[str]) -> dict[str, Any]:
    """`model`'s values for the keys in `wanted`, in botocore's order (most shapes have none: no loop then)."""
    if wanted.isdisjoint(model):
        return {}
    return {key: model[key] for key in ordered if key in model}


class Shapes:
    """One service's shapes by name; a reference with traits gets its own Shape, as in botocore."""

    def __init__(self, models: dict[str, dict[str, Any]]) -> None:
        self._models = models
        self._plain: dict[str, Shape] = {}

    def named(self, name: str) -> Shape:
        """The shape called `name`; KeyError when the model has none."""
        shape = self._plain.get(name)
        if shape is None:
            shape = self._plain[name] = Shape(name, self._models[name], self)
        return shape

    def resolve(self, ref: dict[str, Any]) -> Shape:
        if len(ref) == 1:
            return self.named(ref["shape"])
        name = ref["shape"]
        model = {**self._models[name], **{key: value for key, value in ref.items() if key != "shape"}}
        return Shape(name, model, self)


@functools.cache
def _description(service: str) -> dict[str, Any]:
    path = MODELS / f"{service}.json"
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        text = _generate(service, path)
    data: dict[str, Any] = json.loads(text)
    return data


def _generate(service: str, path: Path) -> bytes:
    """No generated file (a checkout before `make`, which writes them, or an install without them): build it
    from botocore's model now (about 150 ms, once) and keep it for the next start where the package directory
    is writable (written aside, then moved into place, so another process never reads half of it)."""
    from parley.protocol.generate_models import generated

    text = generated(service).encode()
    with contextlib.suppress(OSError):
        path.parent.mkdir(exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        aside.write_bytes(text)
        os.replace(aside, path)
    return text


@functools.cache
def _shapes(service: str) -> Shapes:
    return Shapes(_description(service)["shapes"])


def shape_named(service: str, name: str) -> Shape:
    """The model's shape called `name` (KeyError when there is none)."""
    return _shapes(service).named(name)


def service_description(service: str) -> dict[str, Any]:
    """botocore's JSON of the model (documentation included); imports botocore: for tests and the generator."""
    from parley.protocol import botocore_models

    return botocore_models.service_description(service)


def service_model(service: str) -> ServiceModel:
    """botocore's own ServiceModel; imports botocore: for tests and tools, never on the serving path."""
    from parley.protocol import botocore_models

    return botocore_models.service_model(service)


@dataclass(frozen=True, slots=True)
class Member:
    """One top-level input or output member and where it travels."""

    name: str
    wire_name: str
    shape: Shape
    location: str  # "body", "uri", "querystring", "header", "headers" or "statusCode"


_RESOLVED = frozenset(
    {"input_shape", "output_shape", "input_members", "output_members", "idempotency_member", "bearer_header"}
)


class OperationSpec:
    """One operation. Its route (method, uri), errors and validation error are read at once; its shapes and
    members when first asked for (resolving all 416 operations' members took ~20 ms of every start, and a
    server answers a handful). Read-only; compared by identity, as load_operations makes one per operation."""

    __slots__ = (
        "_raw",
        "bearer_header",  # the (lower-case) header carrying the caller's token, if any
        "error_codes",
        "idempotency_member",
        "input_members",
        "input_shape",
        "method",
        "name",
        "output_members",
        "output_shape",
        "service",
        "uri",
        "validation_error",
    )
    service: str
    name: str
    method: str
    uri: str
    input_shape: Shape | None
    output_shape: Shape | None
    input_members: tuple[Member, ...]
    output_members: tuple[Member, ...]
    idempotency_member: str | None
    validation_error: str
    error_codes: frozenset[str]
    bearer_header: str | None

    def __init__(self, service: str, name: str, raw: dict[str, Any]) -> None:
        codes = frozenset(ref["shape"] for ref in raw.get("errors", ()))
        for attribute, value in (
            ("_raw", raw),
            ("service", service),
            ("name", name),
            ("method", raw["http"]["method"]),
            ("uri", raw["http"]["requestUri"]),
            ("validation_error", _validation_error(codes, service)),
            ("error_codes", codes),
        ):
            object.__setattr__(self, attribute, value)

    def __getattr__(self, attribute: str) -> Any:
        """Only reached for a slot not yet set: the shapes and members, resolved together on first use."""
        if attribute not in _RESOLVED:
            raise AttributeError(f"'OperationSpec' object has no attribute {attribute!r}")
        self._resolve()
        return object.__getattribute__(self, attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        raise AttributeError(f"OperationSpec is read-only: cannot set {attribute!r}")

    def __repr__(self) -> str:
        return f"<OperationSpec({self.service}.{self.name})>"

    def _resolve(self) -> None:
        raw, shapes = self._raw, _shapes(self.service)
        input_shape = shapes.resolve(raw["input"]) if "input" in raw else None
        output_shape = shapes.resolve(raw["output"]) if "output" in raw else None
        input_members = _members(input_shape)
        for attribute, value in (
            ("input_shape", input_shape),
            ("output_shape", output_shape),
            ("input_members", input_members),
            ("output_members", _members(output_shape)),
            ("idempotency_member", _idempotency_member(input_shape)),
            ("bearer_header", _bearer_header(input_members)),
        ):
            object.__setattr__(self, attribute, value)

    @property
    def qualified_name(self) -> str:
        return f"{self.service}.{self.name}"

    @property
    def model(self) -> OperationModel:
        """botocore's OperationModel (imports botocore): for tests that serialize with botocore."""
        return service_model(self.service).operation_model(self.name)

    def members_at(self, location: str) -> tuple[Member, ...]:
        return tuple(m for m in self.input_members if m.location == location)


def _members(shape: Shape | None) -> tuple[Member, ...]:
    if shape is None:
        return ()
    out = []
    for name, member in shape.members.items():
        location = member.serialization.get("location", "body")
        wire_name = member.serialization.get("name", name)
        out.append(Member(name, wire_name, member, location))
    return tuple(out)


def _validation_error(codes: frozenset[str], service: str) -> str:
    # connect-api.md §2: InvalidParameterException if the operation lists it, else InvalidRequestException.
    if service == "connectparticipant":
        return "ValidationException"
    return "InvalidParameterException" if "InvalidParameterException" in codes else "InvalidRequestException"


def _idempotency_member(shape: Shape | None) -> str | None:
    if shape is None:
        return None
    for name, member in shape.members.items():
        if member.metadata.get("idempotencyToken"):
            return str(name)
    return None


BEARER = "x-amz-bearer"


def _bearer_header(members: tuple[Member, ...]) -> str | None:
    """The Participant Service authorises by token in `X-Amz-Bearer` (participant-api.md §2)."""
    return BEARER if any(m.location == "header" and m.wire_name.lower() == BEARER for m in members) else None


@functools.cache
def load_operations(service: str) -> dict[str, OperationSpec]:
    """Every operation of `service`, keyed by operation name."""
    return {name: OperationSpec(service, name, raw) for name, raw in _description(service)["operations"].items()}


class Operations(Mapping[str, dict[str, OperationSpec]]):
    """Both services' operations by service, each service's model read when first asked for: Connect's is
    632 KB of JSON, which a server that answers only the Participant Service (or only its health) never
    needs to parse."""

    def __getitem__(self, service: str) -> dict[str, OperationSpec]:
        if service not in API_VERSIONS:
            raise KeyError(service)
        return load_operations(service)

    def __iter__(self) -> Iterator[str]:
        return iter(API_VERSIONS)

    def __len__(self) -> int:
        return len(API_VERSIONS)


def error_shape(service: str, code: str) -> Shape | None:
    """The model's error shape called `code`, or None when the model has no such shape."""
    try:
        shape = shape_named(service, code)
    except KeyError:
        return None
    return shape if shape.metadata.get("exception") else None
