"""AWS's custom-bot pattern with both of its functions (flows.md §8, streaming.md): the flow invokes
`start_bot`, which adds the bot and starts streaming; the customer (amazon-connect-chatjs 5.0.0 under Node)
talks, and the bot's replies are driven only by streamed messages: `--sns TOPIC=lambda:chatBot;filter=…`
runs `chat_bot` for each customer message. On "quit" the bot leaves and the flow resumes and queues the chat."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningParley, start_parley
from tests.flows.test_custom_bot import admin_get, custom_bot_chat, settled
from tests.interop.test_chatjs import TYPING, Harness, node_or_skip

ACCOUNT = "210987654321"
FILTER = json.dumps({"ParticipantRole": ["CUSTOMER"], "Type": ["MESSAGE"]})


@pytest.fixture
def server() -> Iterator[RunningParley]:
    running = start_parley(
        "--lambda",
        "startBot=tests.flows.streaming_bot:start_bot",
        "--lambda",
        "chatBot=tests.flows.streaming_bot:chat_bot",
        "--sns",
        f"chatStreaming=lambda:chatBot;filter={FILTER}",
        env={"AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "test"},
    )
    yield running
    running.stop()


def test_the_bot_answers_only_through_streamed_messages(server: RunningParley, tmp_path: Path) -> None:
    node_or_skip()
    started = custom_bot_chat(server, ACCOUNT, "streamed").started
    contact_id = started["ContactId"]
    customer = Harness(server, started, tmp_path / "chatjs.log")
    try:
        customer.wait_for(lambda r: r["event"] == "ready", "chatjs connected")
        assert settled(server, contact_id)["waitingFor"] == ["BotParticipantDisconnected"]
        since = len(customer.snapshot())
        for text in ("Where is my parcel?", "And my refund?"):
            customer.command("send", content=text)
            customer.hook("onMessage", "text/plain", since, ParticipantRole="CUSTOM_BOT", Content=f"Heard: {text}")
        typing = [r for r in customer.snapshot()[since:] if r["event"] == "onTyping"]
        assert typing and all((r.get("item") or {}).get("ContentType") == TYPING for r in typing)
        assert settled(server, contact_id)["state"] == "waiting", "the bot still has the chat"

        customer.command("send", content="quit")
        customer.hook("onMessage", "text/plain", since, ParticipantRole="CUSTOM_BOT", Content="Bye")
        queued = settled(server, contact_id)
        deadline = time.monotonic() + 10
        while queued["state"] != "queued" and time.monotonic() < deadline:  # "Bye" is sent just before it leaves
            time.sleep(0.05)
            queued = settled(server, contact_id)
        assert queued["state"] == "queued", queued
        answers = [
            r["item"]["Content"]
            for r in customer.snapshot()[since:]
            if r["event"] == "onMessage"
            and (r.get("item") or {}).get("ParticipantRole") == "CUSTOM_BOT"
            and r["item"]["Type"] == "MESSAGE"
        ]
        assert answers == ["Heard: Where is my parcel?", "Heard: And my refund?", "Bye"]
        [stream] = admin_get(server, f"streams?contact={contact_id}")["streams"]
        deadline = time.monotonic() + 10
        while stream["counts"]["pending"] and time.monotonic() < deadline:  # counts are written in batches
            time.sleep(0.05)
            [stream] = admin_get(server, f"streams?contact={contact_id}")["streams"]
        assert stream["target"] == "lambda" and stream["counts"]["delivered"] == 3, stream
        assert stream["counts"]["filtered"] > 0, "the bot's own messages and the events are filtered out"
        invocations = admin_get(server, f"lambda/invocations?contact={contact_id}")["invocations"]
        assert [i["function"].rsplit(":", 1)[-1] for i in invocations].count("chatBot") == 3
    finally:
        customer.close()
