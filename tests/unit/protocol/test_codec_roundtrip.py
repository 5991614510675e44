"""The rest-json codec round-trips against botocore itself, for every operation and error of both models.

botocore is the oracle on both sides of the wire:

- requests: botocore's client serializer writes a generated input; Parley's router must pick the same
  operation and `parse_request` (validating) must give back exactly that input;
- responses: `serialize_response` writes a generated output; botocore's response parser must read back
  exactly that output, and every JSON value must have the wire type the model's shape demands;
- errors: `serialize_error` writes each modelled error; botocore must read its code, message, HTTP
  status and members.

Inputs are generated from the shapes (see `shape_values.py`), seeded by the operation's name, in
several variants so that every member is set in at least one of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.model import Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from parley.protocol.errors import ServiceError, modelled
from parley.protocol.restjson import parse_request, serialize_error, serialize_response
from parley.protocol.routing import Router
from parley.protocol.spec import OperationSpec, load_operations, service_model
from parley.protocol.validate import show
from tests.unit.protocol.shape_values import FULL, MIXED, REQUIRED, ShapeValues, members_set, reachable_members

SERVICES = ("connect", "connectparticipant")
OPERATIONS = [op for service in SERVICES for op in load_operations(service).values()]
WITH_OUTPUT = [op for op in OPERATIONS if op.output_shape is not None]
ERRORS = [(service, shape) for service in SERVICES for shape in service_model(service).error_shapes]
ROUTER = Router(OPERATIONS)
SERIALIZER = create_serializer("rest-json", include_validation=False)
PARSER = create_parser("rest-json")
MAX_FULL_VARIANTS = 30


def qualified(op: OperationSpec) -> str:
    return op.qualified_name


def variants(seed: str, shape: Shape | None, covered: set[tuple[str, str]], **options: Any) -> Iterator[Any]:
    """(generator, value) pairs for `shape`: FULL until one sets no union member the earlier ones did
    not, then REQUIRED and MIXED. Adds every member a value sets to `covered`.
    """
    unions_set: set[tuple[str, str]] = set()
    chosen = [ShapeValues(seed, FULL, 0, unions_set=unions_set, **options)]
    while chosen:
        values = chosen.pop()
        before = len(unions_set)
        value = values.structure(shape) if shape is not None else {}
        if shape is not None:
            members_set(shape, value, covered)
        yield values, value
        if values.mode == FULL and len(unions_set) > before and values.variant + 1 < MAX_FULL_VARIANTS:
            chosen.append(ShapeValues(seed, FULL, values.variant + 1, unions_set=unions_set, **options))
        elif values.mode == FULL:
            chosen = [ShapeValues(seed, MIXED, **options), ShapeValues(seed, REQUIRED, **options)]


def assert_every_member_set(shape: Shape | None, covered: set[tuple[str, str]]) -> None:
    """The generated variants together set every member the shape can reach (the claim of this file)."""
    assert reachable_members(shape) - covered == set()


def comparable(value: Any) -> Any:
    """Timestamps as whole epoch milliseconds, whatever their timezone; containers recursively."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"naive datetime {value!r}"
        return ("timestamp-ms", round(value.timestamp() * 1000))
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- requests


def send(op: OperationSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Serialize `params` as boto3 would, route the raw path and parse it the way the HTTP edge does."""
    request = SERIALIZER.serialize_to_request(params, op.model)
    match = ROUTER.match(request["method"], request["url_path"])
    assert match is not None, f"{request['method']} {request['url_path']} is not routed"
    assert match.operation is op, f"routed to {match.operation.qualified_name}"
    query = request["query_string"]
    query_string = urlencode(query, doseq=True) if isinstance(query, dict) else query
    headers = {name.lower(): value for name, value in request["headers"].items()}
    body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
    return parse_request(op, match.labels, query_string, headers, body)


def on_the_wire(op: OperationSpec, params: dict[str, Any]) -> dict[str, Any]:
    """`params` as far as rest-json can carry them.

    A header timestamp travels as an RFC 822 date (whole seconds) and an empty list bound to the
    query string sends nothing; everything else must come back exactly.
    """
    expected = dict(params)
    for member in op.input_members:
        value = expected.get(member.name)
        if member.location == "header" and isinstance(value, datetime):
            expected[member.name] = value.replace(microsecond=0)
        elif member.location == "querystring" and value == []:
            del expected[member.name]
    return expected


def test_botocore_serializer_leaves_idempotency_tokens_to_the_client() -> None:
    # boto3 fills ClientToken in a before-parameter-build handler, not in the serializer, so the
    # round trip below sees exactly the generated tokens (or none).
    op = load_operations("connect")["StartChatContact"]
    assert op.idempotency_member == "ClientToken"
    params = {"InstanceId": "i", "ContactFlowId": "f", "ParticipantDetails": {"DisplayName": "d"}}
    assert "ClientToken" not in json.loads(SERIALIZER.serialize_to_request(params, op.model)["body"])
    assert "ClientToken" not in send(op, params)


@pytest.mark.parametrize("op", OPERATIONS, ids=qualified)
def test_request_from_botocore_parses_back_to_the_input(op: OperationSpec) -> None:
    """Validated round trip; then, if the model has patterns no generated string satisfies, those too.

    Such members are left out of the validated round trip wherever they are optional. Set, they must
    fail the parse alone, each quoted with the value botocore sent: the value crossed the wire
    unchanged and nothing else about the request was wrong.
    """
    covered: set[tuple[str, str]] = set()
    avoided = False
    for values, params in variants(op.qualified_name, op.input_shape, covered, avoid_unsatisfiable=True):
        assert_round_trip(op, params, values)
        avoided = avoided or bool(values.avoided)
    if avoided:
        for values, params in variants(op.qualified_name, op.input_shape, covered):
            assert_round_trip(op, params, values)
    assert_every_member_set(op.input_shape, covered)


def assert_round_trip(op: OperationSpec, params: dict[str, Any], values: ShapeValues) -> None:
    if values.unsatisfied:
        assert_only_pattern_problems(op, params, values.unsatisfied)
    else:
        assert comparable(send(op, params)) == comparable(on_the_wire(op, params)), values.mode


def assert_only_pattern_problems(
    op: OperationSpec, params: dict[str, Any], unsatisfied: list[tuple[str, str, str]]
) -> None:
    with pytest.raises(ServiceError) as raised:
        send(op, params)
    assert raised.value.code == op.validation_error
    noun = "error" if len(unsatisfied) == 1 else "errors"
    assert raised.value.message.startswith(f"{len(unsatisfied)} validation {noun} detected: ")
    for path, value, pattern in unsatisfied:
        problem = f"Value {show(value)} at '{path}' failed to satisfy constraint: Member must satisfy "
        assert problem + f"regular expression pattern: {pattern}" in raised.value.message


# --------------------------------------------------------------------------------------------- responses


@pytest.mark.parametrize("op", WITH_OUTPUT, ids=qualified)
def test_response_is_read_back_by_botocore(op: OperationSpec) -> None:
    shape = op.model.output_shape
    covered: set[tuple[str, str]] = set()
    for values, output in variants(op.qualified_name, shape, covered):
        status, headers, body = serialize_response(op, output)
        response = {
            "status_code": status,
            "headers": {name.decode(): value.decode() for name, value in headers},
            "body": body,
        }
        parsed = PARSER.parse(response, shape)
        assert parsed.pop("ResponseMetadata")["HTTPStatusCode"] == status == 200
        assert comparable(parsed) == comparable(output), values.mode
        assert_wire_form(shape, json.loads(body), "body")
    assert_every_member_set(shape, covered)


def assert_wire_form(shape: Shape, value: Any, path: str) -> None:
    """Each JSON value has the type the rest-json protocol gives its shape (botocore's parser is lenient)."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        wire_names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for name, item in value.items():
            assert name in wire_names, f"{path}: unknown member {name}"
            assert_wire_form(wire_names[name], item, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            assert_wire_form(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert_wire_form(shape.value, item, f"{path}[{key}]")
    elif kind == "timestamp":
        assert_timestamp_form(shape, value, path)
    else:
        assert isinstance(value, _SCALAR_TYPES[kind]) and not (isinstance(value, bool) and kind != "boolean"), (
            f"{path}: {kind} sent as {value!r}"
        )


_SCALAR_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "blob": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
}


def assert_timestamp_form(shape: Shape, value: Any, path: str) -> None:
    """Epoch seconds unless the shape says `timestampFormat: iso8601` (SDKs such as JS v3 parse by the trait)."""
    if shape.serialization.get("timestampFormat") == "iso8601":
        assert isinstance(value, str), f"{path}: iso8601 timestamp sent as {value!r}"
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{path}: epoch sent as {value!r}"


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(("service", "shape"), ERRORS, ids=[f"{s}.{shape.name}" for s, shape in ERRORS])
def test_error_is_read_back_by_botocore(service: str, shape: Shape) -> None:
    status_code = shape.metadata["error"]["httpStatusCode"]
    covered: set[tuple[str, str]] = set()
    for values, generated in variants(f"{service}.{shape.name}", shape, covered):
        members = {k: v for k, v in generated.items() if k != "Message"}
        status, headers, body = serialize_error(modelled(service, shape.name, "generated message", **members))
        response = {
            "status_code": status,
            "headers": {name.decode(): value.decode() for name, value in headers},
            "body": body,
        }
        parsed = PARSER.parse(response, None)
        assert parsed["Error"]["Code"] == shape.name
        assert parsed["Error"]["Message"] == "generated message"
        assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status == status_code
        # What the client adds to the error once it knows the code (`_add_modeled_error_fields`).
        expected = dict(members, Message="generated message") if "Message" in shape.members else members
        assert comparable(PARSER.parse(response, shape)) == comparable(expected), values.mode
    assert_every_member_set(shape, covered)
