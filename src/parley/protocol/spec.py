"""Loads the `connect` and `connectparticipant` service models through botocore's Loader.

This is the only module that imports botocore.model. It turns each operation into an
`OperationSpec`: where every input member lives on the wire, which member is the
idempotency token, which error a validation failure becomes. Nothing here knows about chat.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from dataclasses import dataclass
from typing import Any

from botocore.loaders import JSONFileLoader, Loader
from botocore.model import OperationModel, ServiceModel, Shape

API_VERSIONS: dict[str, str] = {"connect": "2017-08-08", "connectparticipant": "2018-09-07"}

__all__ = ["API_VERSIONS", "Member", "OperationSpec", "Shape", "load_operations", "service_model"]


@dataclass(frozen=True, slots=True)
class Member:
    """One top-level input or output member and where it travels."""

    name: str
    wire_name: str
    shape: Shape
    location: str  # "body", "uri", "querystring", "header", "headers" or "statusCode"


@dataclass(frozen=True, slots=True)
class OperationSpec:
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
    model: OperationModel
    bearer_header: str | None = None  # the (lower-case) header carrying the caller's token, if any

    @property
    def qualified_name(self) -> str:
        return f"{self.service}.{self.name}"

    def members_at(self, location: str) -> tuple[Member, ...]:
        return tuple(m for m in self.input_members if m.location == location)


class PlainJSONFileLoader(JSONFileLoader):  # type: ignore[misc]
    """botocore's file loader parses into OrderedDicts, about 2.5x slower than plain dicts, which keep
    their order too: this halves the cost of loading the models at startup (bench/startup.py)."""

    OPENERS = ((".json", open), (".json.gz", gzip.open))

    def load_file(self, file_path: str) -> Any:
        for extension, opener in self.OPENERS:
            if os.path.isfile(file_path + extension):
                with opener(file_path + extension, "rb") as stream:
                    return json.loads(stream.read())
        return None


@functools.cache
def _loader() -> Loader:
    """One Loader for both services: it lists botocore's data directories once, not once per service."""
    return Loader(file_loader=PlainJSONFileLoader())


@functools.cache
def service_description(service: str) -> dict[str, Any]:
    """The model's JSON as botocore's Loader finds it (search paths, sdk-extras), at the pinned API version."""
    data: dict[str, Any] = _loader().load_service_model(service, "service-2", api_version=API_VERSIONS[service])
    return data


@functools.cache
def service_model(service: str) -> ServiceModel:
    """The botocore ServiceModel for one of the two services, at the pinned API version."""
    return ServiceModel(service_description(service), service_name=service)


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


def _operation(service: str, model: ServiceModel, name: str) -> OperationSpec:
    op = model.operation_model(name)
    # The error shapes' names, read from the JSON: resolving `op.error_shapes` costs 30 ms at startup.
    codes = frozenset(ref["shape"] for ref in service_description(service)["operations"][name].get("errors", ()))
    return OperationSpec(
        service=service,
        name=name,
        method=op.http["method"],
        uri=op.http["requestUri"],
        input_shape=op.input_shape,
        output_shape=op.output_shape,
        input_members=_members(op.input_shape),
        output_members=_members(op.output_shape),
        idempotency_member=_idempotency_member(op.input_shape),
        validation_error=_validation_error(codes, service),
        error_codes=codes,
        model=op,
        bearer_header=_bearer_header(_members(op.input_shape)),
    )


@functools.cache
def load_operations(service: str) -> dict[str, OperationSpec]:
    """Every operation of `service`, keyed by operation name."""
    model = service_model(service)
    return {name: _operation(service, model, name) for name in model.operation_names}


def error_shape(service: str, code: str) -> Any:
    """The model's error shape called `code`, or None when the model has no such shape."""
    model = service_model(service)
    try:
        shape = model.shape_for(code)
    except Exception:  # botocore raises NoShapeFoundError
        return None
    return shape if shape.metadata.get("exception") else None
