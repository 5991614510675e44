"""Helpers for Participant Service tests: connected participants and WebSocket readers."""

from __future__ import annotations

import base64
import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from botocore import UNSIGNED
from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningParley, Setup, client, make_instance, start_chat

EVENT = "application/vnd.amazonaws.connect.event."


@dataclass
class Party:
    participant_id: str
    connection_token: str
    websocket_url: str | None


def participant_client(url: str) -> Any:
    return client("connectparticipant", url, signature_version=UNSIGNED)


def join(cp: Any, participant_token: str, participant_id: str, websocket: bool = True, bot: bool = False) -> Party:
    types = ["CONNECTION_CREDENTIALS", *(["WEBSOCKET"] if websocket else [])]
    out = cp.create_participant_connection(ParticipantToken=participant_token, Type=types, ConnectParticipant=bot)
    url = out["Websocket"]["Url"] if websocket else None
    return Party(participant_id, out["ConnectionCredentials"]["ConnectionToken"], url)


class Socket:
    """A subscribed WebSocket that decodes pushed items."""

    def __init__(self, url: str, receive_buffer: int | None = None) -> None:
        sock = None
        if receive_buffer is not None:  # a small kernel buffer makes a client that stops reading stall quickly
            host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.connect((host, int(port)))
        self.ws: ClientConnection = connect(url, open_timeout=5, sock=sock, max_queue=1)
        self.ws.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
        ack = json.loads(self.ws.recv(timeout=5))
        assert ack == {"topic": "aws/subscribe", "content": {"status": "success", "topics": ["aws/chat"]}}

    def item(self, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            frame = json.loads(self.ws.recv(timeout=timeout))
            if frame.get("topic") == "aws/chat":
                assert frame["contentType"] == "application/json" and isinstance(frame["content"], str)
                item: dict[str, Any] = json.loads(frame["content"])
                return item

    def until(self, content_type: str, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            item = self.item(timeout)
            if item.get("ContentType") == content_type:
                return item

    def close(self) -> None:
        self.ws.close()


@dataclass
class Chat:
    connect: Any
    cp: Any
    setup: Setup
    contact_id: str
    customer: Party
    started: dict[str, Any]


def new_chat(server: RunningParley, **extra: Any) -> Chat:
    connect = client("connect", server.url)
    setup = make_instance(connect)
    started = start_chat(connect, setup, **extra)
    cp = participant_client(server.url)
    customer = join(cp, started["ParticipantToken"], started["ParticipantId"])
    return Chat(connect, cp, setup, started["ContactId"], customer, started)


def add_bot(chat: Chat, connect_now: bool = True) -> tuple[dict[str, Any], Party | None]:
    bot = chat.connect.create_participant(
        InstanceId=chat.setup.instance_id,
        ContactId=chat.contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )
    token = bot["ParticipantCredentials"]["ParticipantToken"]
    party = join(chat.cp, token, bot["ParticipantId"], websocket=True, bot=True) if connect_now else None
    return bot, party


def stalled_subscriber(url: str) -> socket.socket:
    """A WebSocket client that subscribes and then never reads: only the kernel's buffers absorb pushes."""
    host, rest = url.split("//", 1)[1].split("/", 1)
    name, port = host.rsplit(":", 1)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((name, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    payload = json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    raw.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    return raw
