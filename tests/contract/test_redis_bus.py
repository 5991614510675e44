"""`parley serve --redis-url`: a single node whose WebSocket fan-out goes through Redis still serves a chat,
and `/_parley/ready` says whether the bus is linked."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed

from tests.backing import redis_url
from tests.bus.relay import OutageThread
from tests.conftest import start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import EVENT, Socket, add_bot, new_chat

pytestmark = pytest.mark.services


def test_a_chat_over_real_websockets_goes_through_redis() -> None:
    server = start_parley("--redis-url", redis_url())
    try:
        assert ok(server.url, "GET", "ready") == {"ready": True}
        assert ok(server.url, "GET", "config")["settings"]["redis_url"]["value"] == redis_url()
        chat = new_chat(server)
        _, bot = add_bot(chat)
        assert bot is not None and bot.websocket_url
        customer, bot_socket = Socket(chat.customer.websocket_url or ""), Socket(bot.websocket_url)
        try:
            sent = chat.cp.send_message(ConnectionToken=bot.connection_token, ContentType="text/plain", Content="hi")
            for each in (customer, bot_socket):
                assert each.until("text/plain")["Id"] == sent["Id"]
            assert ok(server.url, "POST", f"contacts/{chat.contact_id}/sockets", {"action": "drop"}) == {"dropped": 2}
            for each in (customer, bot_socket):
                with pytest.raises(ConnectionClosed) as closed:
                    each.item(timeout=5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
            again = Socket(chat.customer.websocket_url or "")
            chat.connect.stop_contact(InstanceId=chat.setup.instance_id, ContactId=chat.contact_id)
            assert again.until(EVENT + "chat.ended")["Type"] == "EVENT"
            again.close()
        finally:
            customer.close()
            bot_socket.close()
    finally:
        server.stop()


def test_ready_is_503_while_redis_does_not_answer() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_parley("--redis-url", f"redis://127.0.0.1:{port}/0")
    try:
        assert admin(server.url, "GET", "ready") == (503, {"ready": False})
        assert ok(server.url, "GET", "health")["status"] == "ok"
    finally:
        server.stop()


def _until_ready(url: str, ready: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while admin(url, "GET", "ready")[1] != {"ready": ready}:
        assert time.monotonic() < deadline, f"ready never became {ready}"
        time.sleep(0.05)


def test_a_redis_outage_fails_no_request_and_sends_sockets_back_to_refetch() -> None:
    parts = urlsplit(redis_url())
    relay = OutageThread((parts.hostname or "127.0.0.1", parts.port or 6379))
    port = relay.up()
    server = start_parley("--redis-url", f"redis://127.0.0.1:{port}{parts.path}")
    try:
        chat = new_chat(server)
        url, token = chat.customer.websocket_url or "", chat.customer.connection_token
        customer = Socket(url)
        relay.down()
        with pytest.raises(ConnectionClosed) as closed:
            customer.item(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
        _until_ready(server.url, False)
        sent = chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="while down")
        relay.up()
        _until_ready(server.url, True)
        again = Socket(url)
        transcript = chat.cp.get_transcript(ConnectionToken=token)["Transcript"]
        assert sent["Id"] in [item["Id"] for item in transcript]
        later = chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="back")
        assert again.until("text/plain")["Id"] == later["Id"]
        again.close()
    finally:
        server.stop()
        relay.down()
        relay.close()
