"""Queues, agents and event hooks as flows.md §7 describes them, through boto3 and the admin API: an
unconfigured chat waits in BasicQueue; a CustomerQueue hook's flow talks to the queued customer until an
agent accepts; the agent leaving runs the disconnect flow, or ends the chat when none is set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import RunningParley, start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import Socket, join
from tests.flows.test_flow_runs import END, HOLD, Started, chat_on, document, flow, say


@pytest.fixture(scope="module")
def server() -> Iterator[RunningParley]:
    running = start_parley("--quota-active-chats", "0", "--quota-instances", "0")
    yield running
    running.stop()


def default_inbound(chat: Started) -> Started:
    flows = chat.connect.list_contact_flows(InstanceId=chat.instance_id, ContactFlowTypes=["CONTACT_FLOW"])
    flow_id = next(f["Id"] for f in flows["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow")
    started = chat.connect.start_chat_contact(
        InstanceId=chat.instance_id, ContactFlowId=flow_id, ParticipantDetails={"DisplayName": "Ada"}
    )
    return Started(chat.connect, chat.instance_id, flow_id, started, chat.cp)


def basic_queue(chat: Started) -> dict[str, Any]:
    queues = chat.connect.list_queues(InstanceId=chat.instance_id)["QueueSummaryList"]
    found: dict[str, Any] = next(q for q in queues if q.get("Name") == "BasicQueue")
    return found


def test_an_unconfigured_chat_waits_in_basic_queue_until_an_agent_accepts(server: RunningParley) -> None:
    chat = default_inbound(chat_on(server, document("end", END), key="100000000001"))
    customer = chat.customer()
    assert flow(server, chat.contact_id)["state"] == "queued"
    queued = chat.connect.describe_contact(InstanceId=chat.instance_id, ContactId=chat.contact_id)["Contact"]
    assert queued["QueueInfo"]["Id"] == basic_queue(chat)["Id"]
    chat.cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="anyone?")
    waiting = ok(server.url, "GET", "queues")
    assert any(chat.contact_id in json.dumps(q) for q in waiting["queues"])
    accepted = ok(server.url, "POST", f"contacts/{chat.contact_id}/agent", {"action": "accept", "displayName": "Ann"})
    assert accepted["ParticipantToken"]
    status, again = admin(server.url, "POST", f"contacts/{chat.contact_id}/agent", {"action": "accept"})
    assert status == 409 and again["error"] == "NotQueued"


def test_the_customer_queue_hook_talks_to_the_queued_customer(server: RunningParley) -> None:
    base = chat_on(server, document("end", END), key="100000000002")
    queue = basic_queue(base)
    hold_music = base.connect.create_contact_flow(
        InstanceId=base.instance_id,
        Name="Hold line",
        Type="CUSTOMER_QUEUE",
        Content=document("tell", say("tell", "You are number 1 in $.Queue.Name", "end2"), _end("end2")),
    )["ContactFlowId"]
    inbound = document(
        "hook",
        {
            "Identifier": "hook",
            "Type": "UpdateContactEventHooks",
            "Parameters": {"EventHooks": {"CustomerQueue": hold_music}},
            "Transitions": {"NextAction": "target"},
        },
        {
            "Identifier": "target",
            "Type": "UpdateContactTargetQueue",
            "Parameters": {"QueueId": queue["Id"]},
            "Transitions": {"NextAction": "queue"},
        },
        {"Identifier": "queue", "Type": "TransferContactToQueue", "Transitions": {"NextAction": "end"}},
        END,
    )
    base.connect.update_contact_flow_content(InstanceId=base.instance_id, ContactFlowId=base.flow_id, Content=inbound)
    chat = base.again()
    customer = chat.customer()
    socket = Socket(_websocket(chat))
    try:
        told = flow(server, chat.contact_id)
        assert told["kind"] == "queue" and told["state"] == "queued", told
        texts = [i["Content"] for i in _transcript(chat, customer.connection_token) if i["Type"] == "MESSAGE"]
        assert texts == ["You are number 1 in BasicQueue"]
    finally:
        socket.close()


def test_the_agent_leaving_runs_the_disconnect_flow_or_ends_the_chat(server: RunningParley) -> None:
    chat = default_inbound(chat_on(server, document("end", END), key="100000000003"))
    customer = chat.customer()
    flow(server, chat.contact_id)
    agent = ok(server.url, "POST", f"contacts/{chat.contact_id}/agent", {"action": "accept", "displayName": "Ann"})
    ok(
        server.url,
        "POST",
        f"contacts/{chat.contact_id}/agent",
        {"action": "leave", "participantId": agent["ParticipantId"]},
    )
    after = flow(server, chat.contact_id)
    assert after["kind"] == "disconnect" and after["state"] == "waiting", after
    assert after["flow"] == "Sample disconnect flow"
    chat.cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="still there?")
    assert flow(server, chat.contact_id)["state"] == "queued", "the customer returned: back to the queue"

    bare = chat_on(server, document("hold", HOLD, END), key="100000000004")
    bare.customer()
    flow(server, bare.contact_id)
    agent = ok(server.url, "POST", f"contacts/{bare.contact_id}/agent", {"action": "join", "displayName": "Bo"})
    ok(
        server.url,
        "POST",
        f"contacts/{bare.contact_id}/agent",
        {"action": "leave", "participantId": agent["ParticipantId"]},
    )
    flow(server, bare.contact_id)
    ended = bare.connect.describe_contact(InstanceId=bare.instance_id, ContactId=bare.contact_id)["Contact"]
    assert ended["DisconnectReason"] == "AGENT_DISCONNECT"


def _end(ident: str) -> dict[str, Any]:
    return {"Identifier": ident, "Type": "EndFlowExecution", "Parameters": {}, "Transitions": {}}


def _websocket(chat: Started) -> str:
    party = join(chat.cp, chat.started["ParticipantToken"], chat.started["ParticipantId"])
    assert party.websocket_url is not None
    return party.websocket_url


def _transcript(chat: Started, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = chat.cp.get_transcript(ConnectionToken=token, SortOrder="ASCENDING")["Transcript"]
    return items
