"""The console's feed (what each open console is told, and what happens to one that falls behind) and how
the admin gate reads a presented token."""

from __future__ import annotations

import asyncio
import json

from parley.transport import console
from parley.transport.admin_gate import presented
from parley.transport.console import ConsoleFeed, FeedBus, Listener
from parley.transport.request_log import Entry

FRAME = json.dumps({"topic": "aws/chat", "contentType": "application/json", "content": json.dumps({"Id": "i1"})})


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def publish(self, contact_id: str, frame: str) -> None:
        self.calls.append(("publish", contact_id, frame))

    def end(self, contact_id: str, grace: float) -> None:
        self.calls.append(("end", contact_id))

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        self.calls.append(("leave", contact_id, participant_id))


def test_every_frame_reaches_the_open_consoles_and_the_bus() -> None:
    async def scenario() -> tuple[list[str], list[tuple[str, ...]]]:
        feed, bus = ConsoleFeed(), Recorder()
        listener = feed.open()
        FeedBus(bus, feed).publish("c1", FRAME)
        FeedBus(bus, feed).end("c1", 5)
        return list(listener.waiting), bus.calls

    waiting, calls = asyncio.run(scenario())
    event = json.loads(waiting[0])
    assert event["type"] == "item" and event["contact"] == "c1" and event["frame"]["topic"] == "aws/chat"
    assert calls == [("publish", "c1", FRAME), ("end", "c1")]


def test_requests_reach_the_consoles_without_their_bodies() -> None:
    async def scenario() -> list[str]:
        feed = ConsoleFeed()
        listener = feed.open()
        body = b'{"ContactId":"c9","ParticipantToken":"secret-token-value"}'
        feed.request(
            Entry(0.0, "connect.StartChatContact", "PUT", "/contact/chat", 200, None, 1.5, "r1", None, b"{}", body)
        )
        return list(listener.waiting)

    (message,) = asyncio.run(scenario())
    entry = json.loads(message)["entry"]
    assert entry["operation"] == "StartChatContact" and entry["contact"] == "c9"
    assert "request" not in entry and "response" not in entry and "secret-token-value" not in message


def test_nothing_is_built_while_no_console_is_open() -> None:
    feed = ConsoleFeed()
    feed.item("c1", "not json at all")  # would break a listener; nobody listens, so nothing is built
    assert not feed.watched


def test_a_console_that_falls_behind_is_marked_to_reload() -> None:
    async def scenario() -> Listener:
        listener = Listener()
        for n in range(console.QUEUE_LIMIT + 5):
            listener.offer(str(n))
        return listener

    listener = asyncio.run(scenario())
    assert listener.overflowed and len(listener.waiting) == console.QUEUE_LIMIT and listener.ready.is_set()


def test_the_token_is_read_from_the_header_a_bearer_or_the_cookie() -> None:
    def scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
        return {"headers": list(headers)}

    assert presented(scope((b"x-parley-admin-token", b"abc12345"))) == "abc12345"
    assert presented(scope((b"authorization", b"Bearer abc12345"))) == "abc12345"
    assert presented(scope((b"cookie", b"a=1; parley_admin_token=abc12345; b=2"))) == "abc12345"
    assert presented(scope((b"authorization", b"AWS4-HMAC-SHA256 Credential=x"))) is None
    assert presented(scope()) is None
