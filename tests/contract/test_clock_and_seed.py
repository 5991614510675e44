"""The virtual clock (`--clock virtual`, `/_parley/clock`) and `--seed` determinism, over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, start_parley
from tests.contract.admin_helpers import admin as admin_request
from tests.contract.chat_helpers import EVENT, Socket, add_bot, new_chat
from tests.contract.test_participant_service import error_of


def admin(server: RunningParley, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    return admin_request(server.url, method, path, body)


@pytest.fixture(scope="module")
def virtual() -> Iterator[RunningParley]:
    server = start_parley("--clock", "virtual", "--quota-active-chats", "0", "--connection-token-seconds", "600")
    yield server
    server.stop()


def test_the_clock_reads_and_moves_only_when_told(virtual: RunningParley) -> None:
    status, first = admin(virtual, "GET", "clock")
    assert status == 200 and first["virtual"] is True
    assert admin(virtual, "GET", "clock")[1]["now"] == first["now"]
    status, moved = admin(virtual, "POST", "clock", {"advance": "PT90S"})
    assert status == 200 and moved["now"] > first["now"]
    status, moved_again = admin(virtual, "POST", "clock", {"advance": 0.5})
    assert status == 200 and moved_again["now"] > moved["now"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"advance": "90 seconds"},
        {"advance": "-PT1S"},
        {"advance": -1},
        {"set": "2000-01-01T00:00:00Z"},
        {"set": "yesterday"},
        {"advance": "PT1S", "set": "2030-01-01T00:00:00Z"},
    ],
)
def test_bad_clock_moves_are_400(virtual: RunningParley, body: dict[str, Any]) -> None:
    before = admin(virtual, "GET", "clock")[1]["now"]
    status, answer = admin(virtual, "POST", "clock", body)
    assert status == 400 and answer["error"] == "InvalidRequest" and answer["message"]
    assert admin(virtual, "GET", "clock")[1]["now"] == before


def test_a_real_clock_cannot_be_moved(parley: RunningParley) -> None:
    assert admin(parley, "GET", "clock")[1]["virtual"] is False
    status, answer = admin(parley, "POST", "clock", {"advance": "PT1S"})
    assert status == 400 and "--clock virtual" in answer["message"]


def test_a_chat_expires_when_the_clock_passes_its_duration(virtual: RunningParley) -> None:
    chat = new_chat(virtual, ChatDurationInMinutes=60)
    assert chat.customer.websocket_url
    socket = Socket(chat.customer.websocket_url)
    try:
        admin(virtual, "POST", "clock", {"advance": "PT59M"})
        token = chat.cp.create_participant_connection(  # the first ConnectionToken lived 10 minutes
            ParticipantToken=chat.started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="still here")
        _, moved = admin(virtual, "POST", "clock", {"advance": "PT61S"})
        assert moved["fired"] >= 1
        ended = socket.until(EVENT + "chat.ended")  # pushed before the clock call answered
        assert ended["Type"] == "EVENT"
    finally:
        socket.close()
    contact = chat.connect.describe_contact(InstanceId=chat.setup.instance_id, ContactId=chat.contact_id)["Contact"]
    assert contact["DisconnectReason"] == "EXPIRED"
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="late")
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)


def test_a_bot_that_does_not_connect_in_15_virtual_seconds_is_dropped(virtual: RunningParley) -> None:
    chat, late = new_chat(virtual), new_chat(virtual)
    bot, _ = add_bot(chat, connect_now=False)
    late_bot, _ = add_bot(late, connect_now=False)
    admin(virtual, "POST", "clock", {"advance": "PT14S"})
    connected = chat.cp.create_participant_connection(
        ParticipantToken=bot["ParticipantCredentials"]["ParticipantToken"],
        Type=["CONNECTION_CREDENTIALS"],
        ConnectParticipant=True,
    )["ConnectionCredentials"]["ConnectionToken"]
    admin(virtual, "POST", "clock", {"advance": "PT2S"})
    with pytest.raises(ClientError) as excinfo:  # 16 s after it was added, never connected: gone
        late.cp.create_participant_connection(
            ParticipantToken=late_bot["ParticipantCredentials"]["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
    chat.cp.send_message(ConnectionToken=connected, ContentType="text/plain", Content="I connected in time")


def test_connection_tokens_expire_in_virtual_time(virtual: RunningParley) -> None:
    chat = new_chat(virtual)
    token = chat.customer.connection_token
    chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="fresh")
    admin(virtual, "POST", "clock", {"advance": "PT11M"})  # --connection-token-seconds 600
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="stale")
    code, status, message = error_of(excinfo)
    assert (code, status) == ("AccessDeniedException", 403) and "expired" in message
    fresh = chat.cp.create_participant_connection(
        ParticipantToken=chat.started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]["ConnectionToken"]
    chat.cp.send_message(ConnectionToken=fresh, ContentType="text/plain", Content="renewed")


# -- determinism ---------------------------------------------------------------------------------
def call(url: str, method: str, path: str, body: dict[str, Any] | None = None, bearer: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if bearer:
        headers["X-Amz-Bearer"] = bearer
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["x-amzn-RequestId"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["x-amzn-RequestId"], error.read()


def scripted_session(server: RunningParley) -> list[tuple[int, str, bytes]]:
    """A fixed request sequence, recorded as (status, request id, body bytes)."""
    url, out = server.url, []

    def step(method: str, path: str, body: dict[str, Any] | None = None, bearer: str | None = None) -> Any:
        out.append(call(url, method, path, body, bearer))
        return json.loads(out[-1][2] or b"{}")

    instance = step(
        "PUT",
        "/instance",
        {
            "IdentityManagementType": "CONNECT_MANAGED",
            "InstanceAlias": "seeded",
            "InboundCallsEnabled": True,
            "OutboundCallsEnabled": True,
        },
    )["Id"]
    flows = step("GET", f"/contact-flows-summary/{instance}?contactFlowTypes=CONTACT_FLOW")["ContactFlowSummaryList"]
    started = step(
        "PUT",
        "/contact/chat",
        {
            "InstanceId": instance,
            "ContactFlowId": flows[0]["Id"],
            "ParticipantDetails": {"DisplayName": "Customer"},
            "ClientToken": "c1",
            "InitialMessage": {"ContentType": "text/plain", "Content": "hello"},
        },
    )
    bot = step(
        "POST",
        "/contact/create-participant",
        {
            "InstanceId": instance,
            "ContactId": started["ContactId"],
            "ClientToken": "b1",
            "ParticipantDetails": {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
        },
    )
    customer = step(
        "POST", "/participant/connection", {"Type": ["CONNECTION_CREDENTIALS"]}, started["ParticipantToken"]
    )["ConnectionCredentials"]["ConnectionToken"]
    bot_token = step(
        "POST",
        "/participant/connection",
        {"Type": ["CONNECTION_CREDENTIALS"], "ConnectParticipant": True},
        bot["ParticipantCredentials"]["ParticipantToken"],
    )["ConnectionCredentials"]["ConnectionToken"]
    for n in range(3):
        step(
            "POST",
            "/participant/message",
            {"ContentType": "text/plain", "Content": f"bot {n}", "ClientToken": f"m{n}"},
            bot_token,
        )
        step("POST", "/participant/message", {"ContentType": "text/plain", "Content": f"me {n}"}, customer)
    step("POST", "/participant/transcript", {"MaxResults": 3, "SortOrder": "ASCENDING"}, customer)
    step(
        "POST",
        "/participant/start-attachment-upload",
        {"ContentType": "text/plain", "AttachmentSizeInBytes": 5, "AttachmentName": "a.txt", "ClientToken": "a1"},
        customer,
    )
    step("POST", "/contact/stop", {"InstanceId": instance, "ContactId": started["ContactId"]})
    step("GET", f"/contacts/{instance}/{started['ContactId']}")
    step("POST", "/participant/transcript", {}, customer)  # refused: the chat ended
    return out


def test_the_same_seed_gives_byte_identical_responses() -> None:
    # --public-url: the two servers listen on different ports, and URLs in answers name where Parley is reached
    args = (
        "--seed",
        "7",
        "--clock",
        "virtual",
        "--clock-start",
        "2030-01-01T00:00:00Z",
        "--public-url",
        "http://parley.test:4599",
    )
    runs = []
    for _ in range(2):
        server = start_parley(*args)
        try:
            runs.append(scripted_session(server))
        finally:
            server.stop()
    first, second = runs
    assert [s for s, _, _ in first][-1] == 403 and all(s == 200 for s, _, _ in first[:-1])
    assert first == second
    other = start_parley("--seed", "8", "--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
    try:
        third = scripted_session(other)
    finally:
        other.stop()
    assert third[0][2] != first[0][2]  # another seed, other ids


def test_a_reset_restarts_the_seeded_sequence() -> None:
    """`POST /_parley/reset` on a `--seed` server makes the same session answer alike again; `{"seed":N}` picks
    another sequence."""
    server = start_parley("--seed", "7", "--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
    try:
        first = scripted_session(server)
        status, answer = admin(server, "POST", "reset")
        assert status == 200 and answer["seed"] == 7
        assert scripted_session(server) == first
        assert admin(server, "POST", "reset", {"seed": 8})[1]["seed"] == 8
        assert scripted_session(server)[0] != first[0]
        status, answer = admin(server, "POST", "reset", {"seed": -1})
        assert status == 400 and "seed" in answer["message"]
    finally:
        server.stop()
