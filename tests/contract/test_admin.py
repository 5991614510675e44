"""The admin API over real HTTP: state dumps and resets, the request log, fault rules, with boto3 as the client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed

from tests.conftest import RunningParley, account_key, client, key_of, make_instance, start_chat, start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import Socket, add_bot, join, new_chat, participant_client


@pytest.fixture(scope="module")
def server() -> Iterator[RunningParley]:
    """A server of its own: these tests reset state and add faults that match every request."""
    running = start_parley("--quota-active-chats", "0")
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_faults_left(server: RunningParley) -> Iterator[None]:
    yield
    ok(server.url, "DELETE", "faults")


def connect_in(url: str, key: str, region: str = "us-east-1", **config: Any) -> Any:
    retries = config.pop("retries", {"total_max_attempts": 1})  # no retries: every fault is seen
    return boto3.client(
        "connect",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key="test",
        config=Config(retries=retries, **config),
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def close_code(socket: Socket, timeout: float = 5.0) -> int:
    """Reads until the server closes the socket; its close code."""
    with pytest.raises(ConnectionClosed) as excinfo:
        while True:
            socket.ws.recv(timeout=timeout)
    assert excinfo.value.rcvd is not None
    return excinfo.value.rcvd.code


def instance_ids(url: str, **query: str) -> set[str]:
    path = "state?" + "&".join(f"{k}={v}" for k, v in query.items())
    return {i["id"] for i in ok(url, "GET", path)["instances"]}


# -- health --------------------------------------------------------------------------------------------
def test_health_and_ready(server: RunningParley) -> None:
    assert ok(server.url, "GET", "health")["status"] == "ok"
    assert ok(server.url, "GET", "ready") == {"ready": True}


# -- state ---------------------------------------------------------------------------------------------
def test_state_shows_what_boto3_created_and_never_a_token(server: RunningParley) -> None:
    chat = new_chat(server)
    bot, bot_party = add_bot(chat)
    assert bot_party is not None
    chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="hello")
    account = key_of(chat.connect)

    state = ok(server.url, "GET", f"state?account={account}")
    [instance] = state["instances"]
    assert instance["id"] == chat.setup.instance_id and instance["account"] == account
    assert instance["region"] == "us-east-1" and instance["status"] == "ACTIVE"
    assert chat.setup.flow_id in {f["id"] for f in instance["flows"]}
    [contact] = state["contacts"]
    assert contact["id"] == chat.contact_id and contact["channel"] == "CHAT" and contact["endedAt"] is None
    assert contact["sockets"] == 0  # nobody has subscribed a WebSocket
    roles = {p["id"]: p["role"] for p in contact["participants"]}
    assert roles == {chat.started["ParticipantId"]: "CUSTOMER", bot["ParticipantId"]: "CUSTOM_BOT"}
    said = [i for i in contact["transcript"] if i["type"] == "MESSAGE"]
    assert [(i["content"], i["participantId"]) for i in said] == [("hello", chat.started["ParticipantId"])]
    assert contact["initiatedAt"].endswith("Z")

    text = json.dumps(state)
    for token in (
        chat.started["ParticipantToken"],
        chat.customer.connection_token,
        bot["ParticipantCredentials"]["ParticipantToken"],
        bot_party.connection_token,
    ):
        assert token not in text


def test_state_filters_by_instance_and_contact(server: RunningParley) -> None:
    connect = client("connect", server.url)
    first, second = make_instance(connect), make_instance(connect)
    kept = start_chat(connect, first)["ContactId"]
    start_chat(connect, first)
    other = start_chat(connect, second)["ContactId"]
    account = key_of(connect)

    assert instance_ids(server.url, account=account) == {first.instance_id, second.instance_id}
    by_instance = ok(server.url, "GET", f"state?instance={second.instance_id}")
    assert [c["id"] for c in by_instance["contacts"]] == [other]
    by_contact = ok(server.url, "GET", f"state?contact={kept}")
    assert [c["id"] for c in by_contact["contacts"]] == [kept]
    assert [i["id"] for i in by_contact["instances"]] == [first.instance_id]
    assert ok(server.url, "GET", "state?account=000000000000") == {"instances": [], "contacts": []}


# -- reset ---------------------------------------------------------------------------------------------
def test_reset_of_one_instance_leaves_the_other_intact(server: RunningParley) -> None:
    connect = client("connect", server.url)
    gone, kept = make_instance(connect), make_instance(connect)
    doomed, survivor = start_chat(connect, gone), start_chat(connect, kept)
    cp = participant_client(server.url)
    doomed_party = join(cp, doomed["ParticipantToken"], doomed["ParticipantId"])
    survivor_party = join(cp, survivor["ParticipantToken"], survivor["ParticipantId"])
    socket = Socket(doomed_party.websocket_url or "")

    removed = ok(server.url, "POST", "reset", {"instance": gone.instance_id})["removed"]
    assert removed["instances"] == 1 and removed["contacts"] == 1 and removed["participants"] == 1
    assert close_code(socket) == 1000  # the removed chat's socket is closed

    with pytest.raises(ClientError) as excinfo:
        connect.describe_instance(InstanceId=gone.instance_id)
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:  # its participants' tokens stop resolving
        cp.send_message(ConnectionToken=doomed_party.connection_token, ContentType="text/plain", Content="x")
    assert error_of(excinfo) == ("AccessDeniedException", 403)

    assert connect.describe_contact(InstanceId=kept.instance_id, ContactId=survivor["ContactId"])["Contact"]
    assert cp.send_message(ConnectionToken=survivor_party.connection_token, ContentType="text/plain", Content="ok")
    assert instance_ids(server.url, account=key_of(connect)) == {kept.instance_id}


def test_reset_of_one_account_and_region_leaves_the_others_intact(server: RunningParley) -> None:
    key, other_key = account_key(), account_key()
    here, there = connect_in(server.url, key), connect_in(server.url, key, "eu-west-1")
    neighbour = connect_in(server.url, other_key)
    setups = {name: make_instance(c) for name, c in (("here", here), ("there", there), ("neighbour", neighbour))}

    ok(server.url, "POST", f"reset?account={key}&region=us-east-1")

    assert instance_ids(server.url, account=key) == {setups["there"].instance_id}
    assert instance_ids(server.url, account=other_key) == {setups["neighbour"].instance_id}
    assert there.describe_instance(InstanceId=setups["there"].instance_id)["Instance"]["Id"]
    assert neighbour.describe_instance(InstanceId=setups["neighbour"].instance_id)["Instance"]["Id"]
    assert here.list_instances()["InstanceSummaryList"] == []


def test_reset_of_everything_forgets_client_tokens_and_frees_names(server: RunningParley) -> None:
    connect = client("connect", server.url)
    details = {
        "IdentityManagementType": "CONNECT_MANAGED",
        "InstanceAlias": "same-alias",
        "InboundCallsEnabled": True,
        "OutboundCallsEnabled": True,
        "ClientToken": "one-token",
    }
    first = connect.create_instance(**details)["Id"]
    assert connect.create_instance(**details)["Id"] == first  # a retry replays
    chat = new_chat(server)

    removed = ok(server.url, "POST", "reset")["removed"]
    assert removed["idempotencyRecords"] >= 1 and removed["instances"] >= 2
    assert ok(server.url, "GET", "state") == {"instances": [], "contacts": []}
    again = connect.create_instance(**details)["Id"]  # the alias is free and the token forgotten
    assert again != first
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="x")
    assert error_of(excinfo) == ("AccessDeniedException", 403)


def test_reset_is_durable_and_keeps_the_secret(tmp_path: Path) -> None:
    first = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", first.url)
        gone, kept = make_instance(connect), make_instance(connect)
        start_chat(connect, gone)
        survivor = start_chat(connect, kept)
        party = join(participant_client(first.url), survivor["ParticipantToken"], survivor["ParticipantId"], False)
        assert ok(first.url, "POST", "reset", {"instance": gone.instance_id})["removed"]["contacts"] == 1
    finally:
        first.stop()
    second = start_parley("--data-dir", str(tmp_path))
    try:
        state = ok(second.url, "GET", f"state?account={key_of(connect)}")
        assert [i["id"] for i in state["instances"]] == [kept.instance_id]
        assert [c["id"] for c in state["contacts"]] == [survivor["ContactId"]]
        cp = participant_client(second.url)
        assert cp.send_message(ConnectionToken=party.connection_token, ContentType="text/plain", Content="still")
    finally:
        second.stop()


# -- the request log -----------------------------------------------------------------------------------
def test_requests_show_operations_statuses_and_no_token_values(server: RunningParley) -> None:
    ok(server.url, "DELETE", "requests")
    connect = client("connect", server.url)
    setup = make_instance(connect)
    started = start_chat(connect, setup)
    cp = participant_client(server.url)
    out = cp.create_participant_connection(
        ParticipantToken=started["ParticipantToken"], Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"]
    )
    token = out["ConnectionCredentials"]["ConnectionToken"]
    cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="logged")
    with pytest.raises(ClientError):
        connect.describe_contact(InstanceId=setup.instance_id, ContactId="00000000-0000-4000-8000-000000000000")

    log = ok(server.url, "GET", "requests")
    seen = [(r["service"], r["operation"], r["status"]) for r in log["requests"]]
    assert ("connect", "StartChatContact", 200) in seen
    assert ("connectparticipant", "CreateParticipantConnection", 200) in seen
    assert ("connectparticipant", "SendMessage", 200) in seen
    failed = log["requests"][-1]
    assert (failed["operation"], failed["status"], failed["error"]) == (
        "DescribeContact",
        404,
        "ResourceNotFoundException",
    )
    assert failed["latencyMs"] >= 0 and failed["requestId"] and failed["time"].endswith("Z")
    text = json.dumps(log)
    auth = out["Websocket"]["Url"].split("auth=", 1)[1]
    for secret in (started["ParticipantToken"], token, auth):
        assert secret not in text
    assert "logged" in text  # bodies are kept, with their token values cut

    errors = ok(server.url, "GET", "requests?status=4xx")["requests"]
    assert [r["operation"] for r in errors] == ["DescribeContact"]
    sends = ok(server.url, "GET", "requests?operation=connectparticipant.SendMessage")["requests"]
    assert [r["status"] for r in sends] == [200]
    chat_requests = ok(server.url, "GET", f"requests?contact={started['ContactId']}")["requests"]
    # the contact's own calls, and its participants' Participant Service calls (named by their bearer token)
    assert [r["operation"] for r in chat_requests] == ["StartChatContact", "CreateParticipantConnection", "SendMessage"]
    assert {r["participant"] for r in chat_requests[1:]} == {started["ParticipantId"]}
    assert len(ok(server.url, "GET", "requests?limit=2")["requests"]) == 2
    assert ok(server.url, "DELETE", "requests")["cleared"] == len(log["requests"])
    assert ok(server.url, "GET", "requests")["requests"] == []


def test_a_deeply_nested_request_body_does_not_break_the_request_log(server: RunningParley) -> None:
    """A body nested near or past the interpreter's recursion limit (the service answers it 400) used to make
    every later GET /_parley/requests a 500: the log decodes the bodies it shows when it is read."""
    ok(server.url, "DELETE", "requests")
    connect = client("connect", server.url)
    setup = make_instance(connect)
    contact_id = start_chat(connect, setup)["ContactId"]
    sizes = []
    for depth in (900, 5000):
        body = b'{"ParticipantDetails": %s}' % (b"[" * depth + b"]" * depth)
        sizes.append(len(body))
        request = urllib.request.Request(server.url + "/contact/create-participant", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 400
    bot = connect.create_participant(
        InstanceId=setup.instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )

    logged = ok(server.url, "GET", "requests?operation=CreateParticipant")["requests"]
    assert [r["status"] for r in logged] == [400, 400, 200]
    assert [r["request"] for r in logged[:2]] == [f"<{size} bytes, nested too deeply>" for size in sizes]
    assert logged[2]["response"]["ParticipantId"] == bot["ParticipantId"]


def test_the_request_log_is_a_bounded_ring() -> None:
    server = start_parley(env={"PARLEY_REQUEST_LOG_SIZE": "3"})
    try:
        connect = client("connect", server.url)
        for _ in range(5):
            connect.list_instances()
        log = ok(server.url, "GET", "requests")
        assert log["size"] == 3 and len(log["requests"]) == 3
        ids = [r["requestId"] for r in log["requests"]]
        assert len(set(ids)) == 3
    finally:
        server.stop()


# -- faults --------------------------------------------------------------------------------------------
def throttle(url: str, operation: str, **rule: Any) -> dict[str, Any]:
    body = {"match": {"service": "connect", "operation": operation}, "error": {"code": "ThrottlingException"}}
    answer: dict[str, Any] = ok(url, "POST", "faults", {**body, **rule})
    return answer


def test_a_throttling_fault_is_retried_by_boto3_standard_mode(server: RunningParley) -> None:
    key = account_key()
    setup = make_instance(connect_in(server.url, key))
    contact_id = start_chat(connect_in(server.url, key), setup)["ContactId"]
    rule = throttle(server.url, "CreateParticipant", times=1)
    assert rule["error"] == {"code": "ThrottlingException", "status": 429, "message": "Rate exceeded"}

    retrying = connect_in(server.url, key, retries={"mode": "standard", "max_attempts": 3})
    created = retrying.create_participant(
        InstanceId=setup.instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )
    assert created["ParticipantId"] and created["ResponseMetadata"]["RetryAttempts"] == 1
    [listed] = ok(server.url, "GET", "faults")["faults"]
    assert (listed["id"], listed["remaining"], listed["fired"]) == (rule["id"], 0, 1)
    attempts = ok(server.url, "GET", f"requests?operation=CreateParticipant&contact={contact_id}")["requests"]
    assert [(r["status"], r["error"]) for r in attempts] == [(429, "ThrottlingException"), (200, None)]


def test_a_count_fault_fires_exactly_n_times_and_changes_nothing(server: RunningParley) -> None:
    chat = new_chat(server)
    throttle(server.url, "CreateParticipant", times=3)
    details = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}
    connect = connect_in(server.url, key_of(chat.connect))
    for _ in range(3):
        with pytest.raises(ClientError) as excinfo:
            connect.create_participant(
                InstanceId=chat.setup.instance_id, ContactId=chat.contact_id, ParticipantDetails=details
            )
        assert error_of(excinfo) == ("ThrottlingException", 429)
    [contact] = ok(server.url, "GET", f"state?contact={chat.contact_id}")["contacts"]
    assert [p["role"] for p in contact["participants"]] == ["CUSTOMER"]  # the refused calls created nothing
    assert connect.create_participant(
        InstanceId=chat.setup.instance_id, ContactId=chat.contact_id, ParticipantDetails=details
    )["ParticipantId"]
    [listed] = ok(server.url, "GET", "faults")["faults"]
    assert (listed["remaining"], listed["fired"]) == (0, 3)


def test_a_latency_fault_delays_the_request(server: RunningParley) -> None:
    connect = client("connect", server.url)
    connect.list_instances()
    ok(server.url, "POST", "faults", {"match": {"operation": "ListInstances"}, "latencyMs": 600, "times": 1})
    started = time.monotonic()
    assert connect.list_instances()["InstanceSummaryList"] == []
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    connect.list_instances()
    assert time.monotonic() - started < 0.5


def test_a_probability_fault_fires_on_some_requests(server: RunningParley) -> None:
    connect = connect_in(server.url, account_key())
    rule = throttle(server.url, "ListInstances", probability=0.5)
    outcomes = []
    for _ in range(60):
        try:
            connect.list_instances()
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert set(outcomes) == {"ok", "ThrottlingException"}
    [listed] = ok(server.url, "GET", "faults")["faults"]
    assert listed["id"] == rule["id"] and listed["remaining"] is None
    assert listed["fired"] == outcomes.count("ThrottlingException")


def test_a_participant_service_fault_uses_that_models_error(server: RunningParley) -> None:
    chat = new_chat(server)
    rule = {"match": {"service": "connectparticipant", "operation": "SendMessage"}, "times": 1}
    ok(server.url, "POST", "faults", {**rule, "error": {"code": "AccessDeniedException", "message": "no"}})
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="x")
    assert error_of(excinfo) == ("AccessDeniedException", 403)
    assert excinfo.value.response["Error"]["Message"] == "no"
    transcript = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token)["Transcript"]
    assert [i for i in transcript if i["Type"] == "MESSAGE"] == []


def test_fault_rules_are_listed_and_removed_one_by_one(server: RunningParley) -> None:
    first = throttle(server.url, "ListInstances")
    second = ok(server.url, "POST", "faults", {"error": {"code": "ServiceUnavailable"}, "times": 2})
    assert second["match"] == {"service": "*", "operation": "*"} and second["error"]["status"] == 503
    assert [f["id"] for f in ok(server.url, "GET", "faults")["faults"]] == [first["id"], second["id"]]
    assert ok(server.url, "DELETE", f"faults/{first['id']}") == {"removed": 1}
    assert [f["id"] for f in ok(server.url, "GET", "faults")["faults"]] == [second["id"]]
    assert admin(server.url, "DELETE", f"faults/{first['id']}")[0] == 404
    assert ok(server.url, "DELETE", "faults") == {"removed": 1}


def test_websocket_drop_after_n_frames(server: RunningParley) -> None:
    chat = new_chat(server)
    socket = Socket(chat.customer.websocket_url or "")
    rule = ok(server.url, "POST", "faults", {"ws": "drop", "match": {"contactId": chat.contact_id}, "afterFrames": 2})
    assert rule["remaining"] == 2
    token = chat.customer.connection_token
    for text in ("one", "two"):
        chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content=text)
    assert socket.until("text/plain")["Content"] == "one"
    assert socket.until("text/plain")["Content"] == "two"
    assert close_code(socket) == 4000
    [listed] = ok(server.url, "GET", "faults")["faults"]
    assert (listed["remaining"], listed["dropped"]) == (0, 1)


def test_websocket_drop_now_for_one_participant(server: RunningParley) -> None:
    chat = new_chat(server)
    bot, bot_party = add_bot(chat)
    assert bot_party is not None and bot_party.websocket_url
    customer_socket, bot_socket = Socket(chat.customer.websocket_url or ""), Socket(bot_party.websocket_url)
    try:
        match = {"contactId": chat.contact_id, "participantId": bot["ParticipantId"]}
        assert ok(server.url, "POST", "faults", {"ws": "drop", "match": match})["dropped"] == 1
        assert close_code(bot_socket) == 4000
        said = chat.cp.send_message(
            ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="still here"
        )
        assert customer_socket.until("text/plain")["Id"] == said["Id"]
        assert ok(server.url, "GET", "faults")["faults"] == []  # done at once: nothing left to list
    finally:
        customer_socket.close()


# -- bad input -----------------------------------------------------------------------------------------
THROTTLE = {"code": "ThrottlingException"}
BAD_INPUT: list[tuple[str, str, Any, str]] = [
    ("POST", "reset", {"contact": "c"}, "no field 'contact'"),
    ("POST", "reset?instance=a", {"instance": "b"}, "given twice"),
    ("POST", "reset", [1], "JSON object"),
    ("POST", "reset", {"account": 5}, "non-empty string"),
    ("GET", "state?colour=red", None, "no field 'colour'"),
    ("GET", "state?contact=a&contact=b", None, "more than once"),
    ("GET", "requests?status=teapot", None, "status"),
    ("GET", "requests?limit=-1", None, "limit"),
    ("GET", "requests?limit=many", None, "whole number"),
    ("POST", "faults", {"match": {"service": "connect", "operation": "CreateParticipant"}}, "needs an error"),
    ("POST", "faults", {"error": THROTTLE, "when": "now"}, "no field 'when'"),
    ("POST", "faults", {"match": {"service": "s3"}, "error": THROTTLE}, "service must be one of"),
    ("POST", "faults", {"match": {"operation": "Fly"}, "error": THROTTLE}, "no operation 'Fly'"),
    ("POST", "faults", {"match": "connect", "error": THROTTLE}, "match must be an object"),
    ("POST", "faults", {"error": {"code": "NoSuchError"}}, "not one of AWS's common errors"),
    (
        "POST",
        "faults",
        {"match": {"service": "connect", "operation": "DescribeContact"}, "error": {"code": "ConflictException"}},
        "ConflictException",
    ),
    ("POST", "faults", {"error": {"code": "ThrottlingException", "status": 400}}, "429"),
    ("POST", "faults", {"error": "ThrottlingException"}, "error must be an object"),
    ("POST", "faults", {"error": THROTTLE, "probability": 2}, "probability"),
    ("POST", "faults", {"error": THROTTLE, "probability": "often"}, "number"),
    ("POST", "faults", {"error": THROTTLE, "times": 0}, "times must be at least 1"),
    ("POST", "faults", {"error": THROTTLE, "times": True}, "whole number"),
    ("POST", "faults", {"latencyMs": 10_000_000}, "latencyMs"),
    ("POST", "faults", {"ws": "mute-heartbeat", "match": {"contactId": "c"}}, 'ws must be "drop"'),
    ("POST", "faults", {"ws": "drop"}, "needs match"),
    ("POST", "faults", {"ws": "drop", "match": {}}, "contactId is required"),
    ("POST", "faults", {"ws": "drop", "match": {"contactId": "c"}, "afterFrames": -1}, "afterFrames"),
    ("POST", "contacts/c/agent", {}, "action is required"),
    ("POST", "contacts/c/agent", {"action": "dance"}, "action must be one of join, leave"),
    ("POST", "contacts/c/agent", {"action": "leave"}, "participantId"),
    ("POST", "contacts/c/supervisor", {"action": "join", "displayName": "x" * 257}, "displayName"),
    ("POST", "contacts/c/sockets", {"action": "cut"}, "action must be one of drop"),
]


@pytest.mark.parametrize(("method", "path", "body", "says"), BAD_INPUT)
def test_bad_admin_input_is_a_400_that_says_why(
    server: RunningParley, method: str, path: str, body: Any, says: str
) -> None:
    status, answer = admin(server.url, method, path, body)
    assert status == 400, answer
    assert answer["error"] == "InvalidRequest" and says in answer["message"]


def test_a_body_that_is_not_json_is_a_400(server: RunningParley) -> None:
    for raw in (b"{nope", b"[" * 100_000, b"\xff\xfe"):
        status, answer = admin(server.url, "POST", "faults", raw=raw)
        assert (status, answer["message"]) == (400, "The body is not JSON")


def test_unknown_admin_paths_and_methods(server: RunningParley) -> None:
    status, answer = admin(server.url, "GET", "nothing-here")
    assert (status, answer["error"]) == (404, "NotFound")
    status, answer = admin(server.url, "PUT", "faults")
    assert (status, answer["error"]) == (405, "MethodNotAllowed") and "GET, POST, DELETE" in answer["message"]


def test_an_unknown_contact_is_a_404(server: RunningParley) -> None:
    status, answer = admin(server.url, "POST", "contacts/nope/agent", {"action": "join"})
    assert (status, answer["error"]) == (404, "NotFound")
