"""permessage-deflate on the participant WebSocket (docs/differences.md): a browser's offer is accepted with a
fresh zlib context per message both ways, so an idle socket holds none; `--ws-compression off` declines it.
Messages read the same either way, and a socket the server closes still gets its close frame."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.conftest import RunningParley, start_parley
from tests.contract.chat_helpers import new_chat

PER_MESSAGE = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12"


@pytest.fixture(scope="module")
def compressing() -> Iterator[RunningParley]:
    running = start_parley("--quota-active-chats", "0")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def plain() -> Iterator[RunningParley]:
    running = start_parley("--quota-active-chats", "0", "--ws-compression", "off")
    yield running
    running.stop()


def subscribed_browser(url: str | None) -> Any:
    """Offers `permessage-deflate; client_max_window_bits`, as Chrome and Firefox do."""
    assert url is not None
    ws = ws_connect(url, open_timeout=5, compression="deflate")
    ws.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
    assert json.loads(ws.recv(timeout=5))["content"]["status"] == "success"
    return ws


def contents(ws: Any, count: int) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        frame = json.loads(ws.recv(timeout=5))
        if frame.get("topic") == "aws/chat":
            item = json.loads(frame["content"])
            if item.get("Type") == "MESSAGE":
                found.append(item["Content"])
    return found


def test_a_browser_offer_gets_per_message_contexts_and_every_message_arrives(compressing: RunningParley) -> None:
    chat = new_chat(compressing)
    ws = subscribed_browser(chat.customer.websocket_url)
    assert ws.response.headers["Sec-WebSocket-Extensions"] == PER_MESSAGE
    sent = [f"message {n} " + "repeated words compress well " * n for n in range(1, 6)]
    for text in sent:
        chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content=text)
    assert contents(ws, len(sent)) == sent
    for _ in range(3):  # the client compresses its own frames; each is inflated on its own
        ws.send(json.dumps({"topic": "aws/heartbeat"}))
        assert json.loads(ws.recv(timeout=5)) == {"topic": "aws/heartbeat"}
    ws.close()


def test_with_compression_off_the_offer_is_declined(plain: RunningParley) -> None:
    chat = new_chat(plain)
    ws = subscribed_browser(chat.customer.websocket_url)
    assert "Sec-WebSocket-Extensions" not in ws.response.headers
    chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="plain")
    assert contents(ws, 1) == ["plain"]
    ws.close()


def test_a_socket_whose_participant_leaves_is_closed_by_the_server(compressing: RunningParley) -> None:
    """The writer task exists only while frames wait: the server's close still reaches the client."""
    chat = new_chat(compressing)
    ws = subscribed_browser(chat.customer.websocket_url)
    time.sleep(0.2)  # idle: no writer task now
    chat.cp.disconnect_participant(ConnectionToken=chat.customer.connection_token)
    deadline = time.monotonic() + 10
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            ws.recv(timeout=deadline - time.monotonic())
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
