"""Malformed requests over raw HTTP (http.client, no SDK to tidy them up) against a real Parley.

Every bad request gets a 4xx (or the 501 of an unimplemented operation) in the AWS error wire form:
a JSON body with `__type` and `message`, an `X-Amzn-ErrorType` header, an `x-amzn-RequestId` header,
and a message naming the field and the rule. Never a 500, never a traceback, and nothing stored is
lost or changed by them.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import RunningParley, Setup, account_key, client, make_instance, start_chat, start_parley

CREATE_PARTICIPANT = ("POST", "/contact/create-participant")
START_CHAT = ("PUT", "/contact/chat")
# The model's validation error per operation: InvalidParameterException when the operation lists it.
CP_INVALID = "InvalidRequestException"
CHAT_INVALID = "InvalidParameterException"
MAX_MESSAGE = 4096  # a message quotes short excerpts; it never echoes a huge value back


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


def send(
    url: str, method: str, path: str, body: bytes | None = None, key: str | None = None, timeout: float = 60
) -> Reply:
    """One request on its own connection, signed-looking so Parley scopes it to account `key`."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {
        "Content-Type": "application/json",
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={key or account_key()}/20260101/us-east-1/connect/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0"
        ),
    }
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
    finally:
        connection.close()


def assert_wire_error(reply: Reply, status: int, code: str, *fragments: str) -> str:
    """The AWS error wire form with this status and code; the message holds every fragment. Returns it."""
    assert reply.status != 500 and b"Traceback" not in reply.raw, reply.raw[:2000]
    assert reply.status == status, (reply.status, reply.raw[:2000])
    assert reply.headers.get("content-type") == "application/json"
    assert reply.headers.get("x-amzn-errortype") == code
    uuid.UUID(reply.headers["x-amzn-requestid"])
    body = reply.json()
    assert isinstance(body, dict), body
    assert body["__type"] == code
    message = body["message"]
    assert isinstance(message, str) and message
    assert body["Message"] == message
    assert len(message) <= MAX_MESSAGE, f"{len(message)}-character message: {message[:300]}..."
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# ------------------------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Target:
    """Real ids, so bad requests aim at stored things that must survive them."""

    instance_id: str
    flow_id: str
    contact_id: str


def participant(t: Target, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"InstanceId": t.instance_id, "ContactId": t.contact_id}
    body["ParticipantDetails"] = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot", **details}
    return body


def chat(t: Target, **members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "InstanceId": t.instance_id,
        "ContactFlowId": t.flow_id,
        "ParticipantDetails": {"DisplayName": "Customer"},
    }
    body.update(members)
    return body


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: Callable[[Target], str]
    body: Callable[[Target], bytes | None]
    status: int
    code: str
    fragments: tuple[str, ...]


def case(
    id: str,
    route: tuple[str, str] | tuple[str, Callable[[Target], str]],
    body: Callable[[Target], bytes | None],
    status: int,
    code: str,
    *fragments: str,
) -> Case:
    method, path = route
    return Case(id, method, path if callable(path) else _fixed(path), body, status, code, fragments)


def _fixed(path: str) -> Callable[[Target], str]:
    return lambda _t: path


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


CASES = [
    # --- not JSON at all
    case("not-json", CREATE_PARTICIPANT, lambda t: b"{not json", 400, CP_INVALID, "not valid JSON"),
    case(
        "truncated-json", CREATE_PARTICIPANT, lambda t: encode(participant(t))[:-3], 400, CP_INVALID, "not valid JSON"
    ),
    case("trailing-garbage", CREATE_PARTICIPANT, lambda t: encode(participant(t)) + b"}}", 400, CP_INVALID, "JSON"),
    case("xml-body", START_CHAT, lambda t: b"<StartChatContact/>", 400, CHAT_INVALID, "not valid JSON"),
    case(
        "invalid-utf8-bytes",
        CREATE_PARTICIPANT,
        lambda t: b'{"InstanceId": "\xff\xfe\xc3(", "ContactId": "x"}',
        400,
        CP_INVALID,
        "not valid JSON",
        "utf-8",
    ),
    case(
        "invalid-utf8-in-a-value",
        START_CHAT,
        lambda t: encode(chat(t)).replace(b'"Customer"', b'"Cust\xc0\xafomer"'),
        400,
        CHAT_INVALID,
        "not valid JSON",
    ),
    case(
        "unpaired-surrogate-escape",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t)).replace(b'"Bot"', b'"B\\ud800t"'),
        400,
        CP_INVALID,
        "participantDetails.displayName",
        "unpaired surrogate",
    ),
    case(
        "unpaired-surrogate-in-an-enum",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t)).replace(b'"CUSTOM_BOT"', b'"\\udfff"'),
        400,
        CP_INVALID,
        "participantDetails.participantRole",
    ),
    case(
        "nan-for-an-integer",
        START_CHAT,
        lambda t: encode(chat(t, ChatDurationInMinutes=float("nan"))),
        400,
        CHAT_INVALID,
        "chatDurationInMinutes",
        "integer",
    ),
    case(
        "infinity-for-an-integer",
        START_CHAT,
        lambda t: encode(chat(t, ChatDurationInMinutes=float("inf"))),
        400,
        CHAT_INVALID,
        "chatDurationInMinutes",
        "integer",
    ),
    case(
        "5000-digit-number",
        START_CHAT,
        lambda t: encode(chat(t)).replace(b"{", b'{"ChatDurationInMinutes": ' + b"9" * 5000 + b", ", 1),
        400,
        CHAT_INVALID,
        "not valid JSON",
    ),
    case(
        "4000-digit-number",
        START_CHAT,
        lambda t: encode(chat(t)).replace(b"{", b'{"ChatDurationInMinutes": ' + b"9" * 4000 + b", ", 1),
        400,
        CHAT_INVALID,
        "chatDurationInMinutes",
        "less than or equal to 10080",
    ),
    # --- JSON, but not an object
    case("array-body", CREATE_PARTICIPANT, lambda t: encode([participant(t)]), 400, CP_INVALID, "'body'", "structure"),
    case("number-body", CREATE_PARTICIPANT, lambda t: b"42", 400, CP_INVALID, "'body'", "structure"),
    case("string-body", START_CHAT, lambda t: b'"hello"', 400, CHAT_INVALID, "'body'", "structure"),
    case("null-body", START_CHAT, lambda t: b"null", 400, CHAT_INVALID, "'body'", "structure"),
    case("true-body", START_CHAT, lambda t: b"true", 400, CHAT_INVALID, "'body'", "structure"),
    # --- missing required members
    case(
        "empty-object",
        CREATE_PARTICIPANT,
        lambda t: b"{}",
        400,
        CP_INVALID,
        "'instanceId'",
        "'contactId'",
        "'participantDetails'",
        "not be null",
    ),
    case("no-body", START_CHAT, lambda t: None, 400, CHAT_INVALID, "'instanceId'", "'contactFlowId'", "not be null"),
    case(
        "null-member",
        CREATE_PARTICIPANT,
        lambda t: encode({**participant(t), "ContactId": None}),
        400,
        CP_INVALID,
        "'contactId'",
        "not be null",
    ),
    case(
        "nested-required-missing",
        START_CHAT,
        lambda t: encode(chat(t, ParticipantDetails={})),
        400,
        CHAT_INVALID,
        "participantDetails.displayName",
        "not be null",
    ),
    # --- wrong member types
    case(
        "number-for-a-string",
        CREATE_PARTICIPANT,
        lambda t: encode({**participant(t), "InstanceId": 12345}),
        400,
        CP_INVALID,
        "'12345'",
        "'instanceId'",
        "be of type string",
    ),
    case(
        "bool-for-a-string",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, DisplayName=True)),
        400,
        CP_INVALID,
        "participantDetails.displayName",
        "be of type string",
    ),
    case(
        "list-for-a-string",
        CREATE_PARTICIPANT,
        lambda t: encode({**participant(t), "ContactId": [t.contact_id]}),
        400,
        CP_INVALID,
        "'contactId'",
        "be of type string",
    ),
    case(
        "string-for-an-integer",
        START_CHAT,
        lambda t: encode(chat(t, ChatDurationInMinutes="60")),
        400,
        CHAT_INVALID,
        "'60'",
        "chatDurationInMinutes",
        "be of type integer",
    ),
    case(
        "float-for-an-integer",
        START_CHAT,
        lambda t: encode(chat(t, ChatDurationInMinutes=60.5)),
        400,
        CHAT_INVALID,
        "chatDurationInMinutes",
        "be of type integer",
    ),
    case(
        "bool-for-an-integer",
        START_CHAT,
        lambda t: encode(chat(t, ChatDurationInMinutes=True)),
        400,
        CHAT_INVALID,
        "chatDurationInMinutes",
        "be of type integer",
    ),
    case(
        "object-for-a-list",
        START_CHAT,
        lambda t: encode(chat(t, SupportedMessagingContentTypes={"0": "text/plain"})),
        400,
        CHAT_INVALID,
        "supportedMessagingContentTypes",
        "be a list",
    ),
    case(
        "string-for-a-list",
        START_CHAT,
        lambda t: encode(chat(t, SupportedMessagingContentTypes="text/plain")),
        400,
        CHAT_INVALID,
        "supportedMessagingContentTypes",
        "be a list",
    ),
    case(
        "list-for-a-structure",
        CREATE_PARTICIPANT,
        lambda t: encode({**participant(t), "ParticipantDetails": ["CUSTOM_BOT", "Bot"]}),
        400,
        CP_INVALID,
        "'participantDetails'",
        "structure",
    ),
    case(
        "list-for-a-map",
        START_CHAT,
        lambda t: encode(chat(t, Attributes=[["k", "v"]])),
        400,
        CHAT_INVALID,
        "'attributes'",
        "map",
    ),
    # --- nested wrong types
    case(
        "nested-number-for-a-string",
        START_CHAT,
        lambda t: encode(chat(t, InitialMessage={"ContentType": "text/plain", "Content": 7})),
        400,
        CHAT_INVALID,
        "initialMessage.content",
        "be of type string",
    ),
    case(
        "nested-map-value",
        START_CHAT,
        lambda t: encode(chat(t, Attributes={"ok": "v", "bad": {"x": 1}})),
        400,
        CHAT_INVALID,
        "attributes.bad",
        "be of type string",
    ),
    case(
        "list-item-of-wrong-type",
        START_CHAT,
        lambda t: encode(chat(t, SupportedMessagingContentTypes=["text/plain", 5])),
        400,
        CHAT_INVALID,
        "supportedMessagingContentTypes.2.member",
        "be of type string",
    ),
    case(
        "several-problems-at-once",
        CREATE_PARTICIPANT,
        lambda t: encode({"InstanceId": 1, "ContactId": False, "ParticipantDetails": {"DisplayName": 2}}),
        400,
        CP_INVALID,
        "3 validation errors detected",
        "'instanceId'",
        "'contactId'",
        "participantDetails.displayName",
    ),
    # --- sizes
    case(
        "100000-character-display-name",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, DisplayName="d" * 100_000)),
        400,
        CP_INVALID,
        "participantDetails.displayName",
        "length less than or equal to 256",
    ),
    case(
        "100000-character-instance-id",
        START_CHAT,
        lambda t: encode(chat(t, InstanceId="i" * 100_000)),
        400,
        CHAT_INVALID,
        "'instanceId'",
        "length less than or equal to",
    ),
    case(
        "empty-display-name",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, DisplayName="")),
        400,
        CP_INVALID,
        "participantDetails.displayName",
        "length greater than or equal to 1",
    ),
    case(
        "million-bad-list-items",
        START_CHAT,
        lambda t: encode(chat(t, SupportedMessagingContentTypes=[1] * 1_000_000)),
        400,
        CHAT_INVALID,
        "validation errors detected",
        "supportedMessagingContentTypes.1.member",
        "more",
    ),
    case(
        "10-mb-body",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, DisplayName="x" * (10 * 1024 * 1024))),
        400,
        CP_INVALID,
        "larger than",
    ),
    case(
        "20-mb-body",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, DisplayName="x" * (20 * 1024 * 1024))),
        400,
        CP_INVALID,
        "exceeds",
    ),
    # --- enums and other rules
    case(
        "bad-enum",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, ParticipantRole="ROBOT")),
        400,
        CP_INVALID,
        "'ROBOT'",
        "participantDetails.participantRole",
        "enum value set",
        "CUSTOM_BOT",
    ),
    case(
        "lower-case-enum",
        CREATE_PARTICIPANT,
        lambda t: encode(participant(t, ParticipantRole="custom_bot")),
        400,
        CP_INVALID,
        "participantDetails.participantRole",
        "enum value set",
    ),
    case(
        "nested-bad-enum",
        START_CHAT,
        lambda t: encode(chat(t, ParticipantConfiguration={"ResponseMode": "SOMETIMES"})),
        400,
        CHAT_INVALID,
        "'SOMETIMES'",
        "participantConfiguration.responseMode",
        "enum value set",
    ),
    case(
        "list-item-bad-enum",
        START_CHAT,
        lambda t: encode(chat(t, ConnectionTypes=["WEBSOCKET", "CARRIER_PIGEON"])),
        400,
        CHAT_INVALID,
        "CARRIER_PIGEON",
        "connectionTypes.2.member",
        "enum value set",
    ),
    case(
        "duration-out-of-range",
        START_CHAT,
        lambda t: encode(chat(t, ChatDurationInMinutes=10081)),
        400,
        CHAT_INVALID,
        "chatDurationInMinutes",
        "less than or equal to 10080",
    ),
    # --- nesting
    case("100000-levels-of-arrays", CREATE_PARTICIPANT, lambda t: _deep(100_000), 400, CP_INVALID, "nested too deeply"),
    case(
        "100000-levels-in-a-member",
        START_CHAT,
        lambda t: b'{"ParticipantDetails": ' + b'{"DisplayName": ' * 100_000 + b'"x"' + b"}" * 100_001,
        400,
        CHAT_INVALID,
        "nested too deeply",
    ),
    # --- query strings and labels
    case(
        "query-string-for-an-integer",
        ("GET", "/instance?maxResults=ten"),
        lambda t: None,
        400,
        "InvalidRequestException",
        "'ten'",
        "'maxResults'",
        "be of type integer",
    ),
    case(
        "query-integer-out-of-range",
        ("GET", "/instance?maxResults=11"),
        lambda t: None,
        400,
        "InvalidRequestException",
        "'maxResults'",
        "less than or equal to 10",
    ),
    case(
        "query-bad-enum",
        ("GET", lambda t: f"/contact-flows-summary/{t.instance_id}?contactFlowTypes=NOPE"),
        lambda t: None,
        400,
        "InvalidParameterException",
        "'NOPE'",
        "contactFlowTypes.1.member",
        "enum value set",
    ),
    case(
        "garbage-next-token",
        ("GET", "/instance?nextToken=%FF%00garbage"),
        lambda t: None,
        400,
        "InvalidRequestException",
        "NextToken",
    ),
    case(
        "invalid-utf8-in-a-label",
        ("GET", lambda t: f"/contacts/{t.instance_id}/%FF%FE%ED%A0%80"),
        lambda t: None,
        404,
        "ResourceNotFoundException",
    ),
    # --- routing
    case(
        "unknown-path",
        ("GET", "/no/such/thing"),
        lambda t: None,
        404,
        "UnknownOperationException",
        "GET /no/such/thing",
    ),
    case(
        "unknown-path-with-body",
        ("POST", "/contact/create-participant/extra"),
        lambda t: b"{not json",
        404,
        "UnknownOperationException",
        "POST /contact/create-participant/extra",
    ),
    case(
        "wrong-method-on-a-known-path",
        ("DELETE", "/contact/chat"),
        lambda t: encode(chat(t)),
        404,
        "UnknownOperationException",
        "DELETE /contact/chat",
    ),
    case(
        "get-on-a-post-path",
        ("GET", "/contact/create-participant"),
        lambda t: None,
        404,
        "UnknownOperationException",
        "GET /contact/create-participant",
    ),
    case(
        "unimplemented-operation",
        ("PUT", "/contact/task"),
        lambda t: encode({"InstanceId": t.instance_id}),
        501,
        "NotImplementedException",
        "StartTaskContact",
        "not implemented",
    ),
    case(
        "unimplemented-operation-with-bad-body",
        ("GET", lambda t: f"/users/{t.instance_id}/someone"),
        lambda t: b"{not json",
        501,
        "NotImplementedException",
        "DescribeUser",
    ),
]


# ------------------------------------------------------------------------------------------- fixtures


@dataclass
class Account:
    url: str
    key: str
    connect: Any
    target: Target

    def send(self, method: str, path: str, body: bytes | None = None) -> Reply:
        return send(self.url, method, path, body, key=self.key)


def new_account(url: str) -> Account:
    key = account_key()
    connect = client("connect", url, key)
    setup = make_instance(connect)
    contact_id = start_chat(connect, setup)["ContactId"]
    return Account(url, key, connect, Target(setup.instance_id, setup.flow_id, contact_id))


@pytest.fixture
def account(parley: RunningParley) -> Account:
    return new_account(parley.url)


@pytest.fixture
def private() -> Iterator[RunningParley]:
    """A Parley of the test's own, so its whole log can be searched for tracebacks."""
    running = start_parley("--quota-active-chats", "0")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def strict() -> Iterator[RunningParley]:
    running = start_parley("--strict")
    yield running
    running.stop()


SERVER_FAILURE = re.compile(r"Traceback|Exception in ASGI| ERROR \S+ (?!501 )5\d\d ")


def tracebacks(running: RunningParley) -> list[str]:
    """Log lines of a server-side failure (a 501 for an unimplemented operation is expected, not one)."""
    time.sleep(0.2)  # the log is drained by a thread
    return [line for line in list(running.lines) if SERVER_FAILURE.search(line)]


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in CASES])
def test_malformed_request_gets_a_wire_error(account: Account, c: Case) -> None:
    reply = account.send(c.method, c.path(account.target), c.body(account.target))
    assert_wire_error(reply, c.status, c.code, *c.fragments)


def test_huge_rejected_value_is_quoted_briefly(account: Account) -> None:
    reply = account.send(*CREATE_PARTICIPANT, encode(participant(account.target, DisplayName="q" * 100_000)))
    message = assert_wire_error(reply, 400, CP_INVALID, "participantDetails.displayName")
    assert re.search(r"Value 'q{20,64}\.\.\.' at 'participantDetails.displayName'", message), message


def test_deep_nesting_near_the_interpreter_limit(account: Account) -> None:
    """Depths around the recursion limit: decoding may succeed and quoting the value must not then fail."""
    for depth in range(900, 1050, 5):
        wrapped = b'{"InstanceId": "i", "ContactId": "c", "ParticipantDetails": ' + _deep(depth) + b"}"
        reply = account.send(*CREATE_PARTICIPANT, wrapped)
        assert_wire_error(reply, 400, CP_INVALID)
        message = reply.json()["message"]
        assert "participantDetails" in message or "nested too deeply" in message, (depth, message)


def test_bad_requests_lose_and_change_nothing(private: RunningParley) -> None:
    account = new_account(private.url)
    connect, target = account.connect, account.target
    instance_before = connect.describe_instance(InstanceId=target.instance_id)["Instance"]
    flow_before = connect.describe_contact_flow(InstanceId=target.instance_id, ContactFlowId=target.flow_id)
    contact_before = connect.describe_contact(InstanceId=target.instance_id, ContactId=target.contact_id)["Contact"]
    instances_before = connect.list_instances()["InstanceSummaryList"]

    for c in CASES:
        reply = account.send(c.method, c.path(target), c.body(target))
        assert_wire_error(reply, c.status, c.code, *c.fragments)

    assert connect.describe_instance(InstanceId=target.instance_id)["Instance"] == instance_before
    flow_after = connect.describe_contact_flow(InstanceId=target.instance_id, ContactFlowId=target.flow_id)
    assert flow_after["ContactFlow"] == flow_before["ContactFlow"]
    contact_after = connect.describe_contact(InstanceId=target.instance_id, ContactId=target.contact_id)["Contact"]
    assert contact_after == contact_before
    assert "DisconnectTimestamp" not in contact_after
    assert connect.list_instances()["InstanceSummaryList"] == instances_before

    # No bad CreateParticipant slipped a custom bot in: the chat's one slot is still free, and the chat works.
    bot = connect.create_participant(
        InstanceId=target.instance_id,
        ContactId=target.contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )
    assert bot["ParticipantCredentials"]["ParticipantToken"]
    assert start_chat(connect, Setup(target.instance_id, target.flow_id))["ContactId"] != target.contact_id

    assert private.process.poll() is None, "the server is still running"
    assert tracebacks(private) == []


# ----------------------------------------------------------------------------------- unknown members


def test_unknown_members_are_ignored_by_default(account: Account) -> None:
    body = participant(account.target, FavouriteColour="teal")
    body["ClientToken"] = str(uuid.uuid4())
    body["SomethingNew"] = {"nested": [1, 2, 3]}
    reply = account.send(*CREATE_PARTICIPANT, encode(body))
    assert reply.status == 200, reply.raw
    uuid.UUID(reply.headers["x-amzn-requestid"])
    created = reply.json()
    assert created["ParticipantId"]
    assert created["ParticipantCredentials"]["ParticipantToken"]

    started = account.send(*START_CHAT, encode(chat(account.target, Extra=True, InitialMessage=None)))
    assert started.status == 200, started.raw
    assert started.json()["ContactId"]


def test_unknown_members_are_refused_under_strict(strict: RunningParley) -> None:
    account = new_account(strict.url)  # boto3 never sends unknown members, so setup works under --strict
    top = account.send(*CREATE_PARTICIPANT, encode({**participant(account.target), "SomethingNew": 1}))
    assert_wire_error(top, 400, CP_INVALID, "'somethingNew'", "Unknown member", "--strict")

    nested = account.send(*START_CHAT, encode(chat(account.target, ParticipantDetails={"DisplayName": "C", "Age": 3})))
    assert_wire_error(nested, 400, CHAT_INVALID, "'participantDetails.age'", "Unknown member")

    # The same requests without the stranger succeed on the strict server.
    assert account.send(*CREATE_PARTICIPANT, encode(participant(account.target))).status == 200
    assert account.send(*START_CHAT, encode(chat(account.target))).status == 200


# ----------------------------------------------------------------------------------- property-style

SWAPS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    1.5,
    "",
    "x" * 300,
    "\u00e9\u4e2d\U0001f600",
    "lone \udc00 surrogate",
    [],
    [1, "a"],
    {},
    {"a": 1},
    [[[[[]]]]],
]
NOISE = b'{}[]",:0123456789-.eE+ntrufalsx\\\xff\xc3\x00 \t\n'


def _leaves(value: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (the root included)."""
    found = [trail]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _leaves(v, (*trail, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _leaves(v, (*trail, i))
    return found


def _swap(value: Any, trail: tuple[Any, ...], replacement: Any) -> Any:
    if not trail:
        return replacement
    head, rest = trail[0], trail[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _swap(value[head], rest, replacement)
    return copy


def mutate(rng: random.Random, body: dict[str, Any]) -> bytes:
    value: Any = body
    for _ in range(rng.randint(0, 3)):  # type swaps
        value = _swap(value, rng.choice(_leaves(value)), rng.choice(SWAPS))
    data = bytearray(json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"))
    for _ in range(rng.randint(0, 4)):  # character deletions and insertions
        where = rng.randrange(len(data) + 1)
        if rng.random() < 0.5 and where < len(data):
            del data[where : where + rng.randint(1, 3)]
        else:
            byte = rng.choice(NOISE) if rng.random() < 0.8 else rng.randrange(256)
            data[where:where] = bytes([byte])
    return bytes(data)


def test_randomly_mutated_bodies_never_get_a_5xx(private: RunningParley) -> None:
    rng = random.Random(1234)
    account = new_account(private.url)
    extra = chat(
        account.target,
        Attributes={"k": "v"},
        InitialMessage={"ContentType": "text/plain", "Content": "hi"},
        ChatDurationInMinutes=60,
        SupportedMessagingContentTypes=["text/plain", "text/markdown"],
        ConnectionTypes=["WEBSOCKET"],
        ParticipantConfiguration={"ResponseMode": "COMPLETE"},
    )
    seeds = [
        (CREATE_PARTICIPANT, participant(account.target)),
        (CREATE_PARTICIPANT, {**participant(account.target), "ClientToken": "t-1"}),
        (START_CHAT, chat(account.target)),
        (START_CHAT, extra),
    ]
    statuses: dict[int, int] = {}
    for n in range(300):
        (method, path), body = rng.choice(seeds)
        data = mutate(rng, body)
        reply = account.send(method, path, data)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        assert reply.status < 500, (n, data[:500], reply.raw[:1000])
        assert "x-amzn-requestid" in reply.headers
        if reply.status >= 400:
            assert_wire_error(reply, reply.status, reply.headers.get("x-amzn-errortype", "?"))
    assert sum(v for k, v in statuses.items() if k >= 400) > 100, statuses  # the mutations did bite
    assert private.process.poll() is None
    assert tracebacks(private) == []
