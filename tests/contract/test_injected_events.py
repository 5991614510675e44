"""Events Connect's timers and flows emit, injected through `/_parley/contacts/{id}/events`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, start_parley
from tests.contract.chat_helpers import EVENT, Chat, Socket, add_bot, new_chat
from tests.contract.test_clock_and_seed import admin
from tests.contract.test_participant_service import error_of


def inject(server: RunningParley, chat: Chat, **body: Any) -> tuple[int, Any]:
    return admin(server, "POST", f"contacts/{chat.contact_id}/events", body)


def kept(chat: Chat) -> list[str]:
    items = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token, MaxResults=100)["Transcript"]
    return [i.get("ContentType", "") for i in items]


def test_idle_and_returned_are_pushed_not_kept_and_transfers_are_kept(parley: RunningParley) -> None:
    chat = new_chat(parley)
    assert chat.customer.websocket_url
    socket = Socket(chat.customer.websocket_url)
    try:
        customer = chat.started["ParticipantId"]
        assert inject(parley, chat, event="participant.idle", participantId=customer)[0] == 200
        idle = socket.until(EVENT + "participant.idle")
        assert (idle["ParticipantId"], idle["ParticipantRole"]) == (customer, "CUSTOMER")
        assert inject(parley, chat, event=EVENT + "participant.returned", participantId=customer)[0] == 200
        socket.until(EVENT + "participant.returned")
        status, answer = inject(parley, chat, event="transfer.succeeded", content='{"queue":"billing"}')
        assert status == 200 and len(answer["Ids"]) == 1
        transfer = socket.until(EVENT + "transfer.succeeded")
        assert transfer["Content"] == '{"queue":"billing"}' and "ParticipantId" not in transfer
        assert inject(parley, chat, event="chat.rehydrated")[0] == 200
        socket.until(EVENT + "chat.rehydrated")
    finally:
        socket.close()
    types = kept(chat)
    assert EVENT + "transfer.succeeded" in types
    assert not {EVENT + "participant.idle", EVENT + "participant.returned", EVENT + "chat.rehydrated"} & set(types)


def test_auto_disconnection_removes_a_bot_and_ends_the_chat_for_a_customer(parley: RunningParley) -> None:
    chat = new_chat(parley)
    bot, party = add_bot(chat)
    assert party is not None and chat.customer.websocket_url
    socket = Socket(chat.customer.websocket_url)
    try:
        assert inject(parley, chat, event="participant.autodisconnection", participantId=bot["ParticipantId"])[0] == 200
        socket.until(EVENT + "participant.autodisconnection")
        left = socket.until(EVENT + "participant.left")
        assert left["ParticipantId"] == bot["ParticipantId"]
        with pytest.raises(ClientError) as excinfo:
            chat.cp.send_message(ConnectionToken=party.connection_token, ContentType="text/plain", Content="x")
        assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
        customer = chat.started["ParticipantId"]
        assert inject(parley, chat, event="participant.autodisconnection", participantId=customer)[0] == 200
        socket.until(EVENT + "chat.ended")
    finally:
        socket.close()
    contact = chat.connect.describe_contact(InstanceId=chat.setup.instance_id, ContactId=chat.contact_id)["Contact"]
    assert contact["DisconnectReason"] == "OTHER"
    assert inject(parley, chat, event="participant.idle", participantId=customer)[0] == 409  # ended


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"event": "participant.joined", "participantId": "x"}, 400),
        ({"event": "participant.idle"}, 400),
        ({"event": "participant.idle", "participantId": "no-such-participant"}, 404),
        ({"event": "transfer.failed", "extra": 1}, 400),
        ({"event": "transfer.failed", "content": "x" * 16385}, 400),
    ],
)
def test_bad_injections(parley: RunningParley, body: dict[str, Any], status: int) -> None:
    chat = new_chat(parley)
    assert inject(parley, chat, **body)[0] == status
    assert admin(parley, "POST", "contacts/no-such-contact/events", {"event": "transfer.failed"})[0] == 404


@pytest.fixture(scope="module")
def keeping() -> Iterator[RunningParley]:
    server = start_parley("--persist-extra-events", "true")
    yield server
    server.stop()


def test_extra_events_can_be_kept(keeping: RunningParley) -> None:
    chat = new_chat(keeping)
    customer = chat.started["ParticipantId"]
    inject(keeping, chat, event="chat.rehydrated")
    inject(keeping, chat, event="participant.idle", participantId=customer)
    types = kept(chat)
    assert EVENT + "chat.rehydrated" in types and EVENT + "participant.idle" not in types
