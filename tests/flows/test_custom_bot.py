"""AWS's custom-bot pattern end to end (flows.md §8): a console-export flow greets the customer, invokes a
plain Python Lambda handler that adds and connects a CUSTOM_BOT, waits until the bot leaves, then queues the
chat; an agent accepts it. The customer is amazon-connect-chatjs 5.0.0 under Node; everything else is boto3
against a real `parley serve` over HTTP and WebSockets."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED

from tests.conftest import RunningParley, client, start_parley
from tests.flows.flows import custom_bot_flow
from tests.interop.test_chatjs import Harness, node_or_skip

ACCOUNT = "210987654321"
HANDLER = "startBot=tests.flows.bot_handler:handler"


@pytest.fixture
def bot_tokens(tmp_path: Path) -> Path:
    folder = tmp_path / "bot-tokens"
    folder.mkdir()
    return folder


@pytest.fixture
def server(bot_tokens: Path) -> Iterator[RunningParley]:
    env = {"BOT_TOKEN_DIR": str(bot_tokens), "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "test"}
    running = start_parley("--lambda", HANDLER, env=env)
    yield running
    running.stop()


def admin_get(server: RunningParley, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/_parley/{path}", timeout=15) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def admin_post(server: RunningParley, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.url}/_parley/{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def settled(server: RunningParley, contact_id: str) -> dict[str, Any]:
    return admin_get(server, f"contacts/{contact_id}/flow?wait=idle&timeout=10")


def bot_record(folder: Path, contact_id: str) -> dict[str, Any]:
    path = folder / f"{contact_id}.json"
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, "the bot's Lambda handler never ran"
        time.sleep(0.05)
    record: dict[str, Any] = json.loads(path.read_text())
    return record


@dataclass
class BotChat:
    connect: Any
    instance_id: str
    queue: dict[str, Any]  # the instance's BasicQueue summary
    started: dict[str, Any]  # StartChatContact's answer


def custom_bot_chat(server: RunningParley, account: str, alias: str) -> BotChat:
    """An instance with the custom-bot flow (console-export form) queuing in BasicQueue, and a chat on it."""
    connect = client("connect", server.url, key=account)
    instance_id = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=alias,
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    queues = connect.list_queues(InstanceId=instance_id, QueueTypes=["STANDARD"])["QueueSummaryList"]
    basic = next(q for q in queues if q["Name"] == "BasicQueue")
    flow_id = connect.create_contact_flow(
        InstanceId=instance_id, Name="Custom bot", Type="CONTACT_FLOW", Content=custom_bot_flow(basic["Arn"])
    )["ContactFlowId"]
    started = connect.start_chat_contact(
        InstanceId=instance_id,
        ContactFlowId=flow_id,
        ParticipantDetails={"DisplayName": "Ada"},
        Attributes={"customerName": "Ada"},
    )
    return BotChat(connect, instance_id, basic, started)


def test_the_custom_bot_pattern_runs_unchanged(server: RunningParley, bot_tokens: Path, tmp_path: Path) -> None:
    node_or_skip()
    chat = custom_bot_chat(server, ACCOUNT, "bots")
    connect, instance_id, basic, started = chat.connect, chat.instance_id, chat.queue, chat.started
    cp = client("connectparticipant", server.url, signature_version=UNSIGNED)
    contact_id = started["ContactId"]
    customer = Harness(server, started, tmp_path / "chatjs.log")
    try:
        customer.wait_for(lambda r: r["event"] == "ready", "chatjs connected")
        waiting = settled(server, contact_id)
        # The flow starts with the customer's connection, before chatjs's socket is up (flows.md §3.1): like a
        # widget, chatjs reads what it missed from the transcript.
        said = [(i["ParticipantRole"], i.get("DisplayName"), i["Content"]) for i in _messages(customer)]
        assert said == [
            ("SYSTEM", "SYSTEM_MESSAGE", "Welcome Ada, connecting you to our assistant."),
            ("CUSTOM_BOT", "HelperBot", "Hello from the bot"),
        ]
        assert waiting["state"] == "waiting" and waiting["action"] == "waitForBot"
        assert waiting["waitingFor"] == ["BotParticipantDisconnected"]
        assert waiting["external"]["status"] == "success"

        bot = bot_record(bot_tokens, contact_id)
        customer.command("send", content="I need a person")
        heard = _wait_for_customer(cp, bot["connectionToken"], "I need a person")
        assert heard["ParticipantRole"] == "CUSTOMER"
        cp.send_message(ConnectionToken=bot["connectionToken"], ContentType="text/plain", Content="One moment")
        customer.hook("onMessage", "text/plain", ParticipantRole="CUSTOM_BOT", Content="One moment")
        assert settled(server, contact_id)["state"] == "waiting", "a customer message does not move the Wait"

        cp.disconnect_participant(ConnectionToken=bot["connectionToken"])
        queued = settled(server, contact_id)
        assert queued["state"] == "queued", queued
        described = connect.describe_contact(InstanceId=instance_id, ContactId=contact_id)["Contact"]
        assert described["QueueInfo"]["Id"] == basic["Id"]
        assert "AgentInfo" not in described

        accepted = admin_post(server, f"contacts/{contact_id}/agent", {"action": "accept", "displayName": "Ann"})
        agent = cp.create_participant_connection(
            ParticipantToken=accepted["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        cp.send_message(ConnectionToken=agent, ContentType="text/plain", Content="Hi Ada, Ann here")
        reply = customer.hook("onMessage", "text/plain", ParticipantRole="AGENT")
        assert reply["item"]["Content"] == "Hi Ada, Ann here"
        described = connect.describe_contact(InstanceId=instance_id, ContactId=contact_id)["Contact"]
        assert described["AgentInfo"]["Id"] and described["AgentInfo"]["AcceptedByAgentTimestamp"]

        trail = admin_get(server, f"contacts/{contact_id}/flow")["trail"]
        inbound = [t["action"] for t in trail if t["flow"] == "Custom bot"]
        for action in ("greet", "startBot", "checkBot", "waitForBot", "setQueue", "toQueue"):
            assert action in inbound, (action, trail)
        calls = [t for t in trail if t["detail"].startswith("lambda ")]
        assert calls and "startBot" in calls[0]["detail"] and "ok" in calls[0]["detail"]
        invocations = admin_get(server, f"lambda/invocations?contact={contact_id}")["invocations"]
        assert [i["outcome"] for i in invocations] == ["ok"]
        assert invocations[0]["event"]["Details"]["Parameters"] == {"botName": "HelperBot"}
    finally:
        customer.close()


def _messages(customer: Harness) -> list[dict[str, Any]]:
    return [i for i in customer.command("transcript")["Transcript"] if i["Type"] == "MESSAGE"]


def _wait_for_customer(cp: Any, token: str, text: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = cp.get_transcript(ConnectionToken=token, SortOrder="ASCENDING", MaxResults=100)["Transcript"]
        found = [i for i in items if i.get("Content") == text]
        if found:
            result: dict[str, Any] = found[0]
            return result
        time.sleep(0.05)
    raise AssertionError(f"the bot never saw {text!r}")
