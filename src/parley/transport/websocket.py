"""The participant WebSocket (stream.md): an explicit state machine per socket.

CONNECTING --(URL credential fresh, participant still in a live chat)--> OPEN --(aws/subscribe)--> SUBSCRIBED
Any state --(client close, chat ended + grace, slow consumer, shutdown)--> CLOSED.

Each socket has a bounded outbox drained by its own writer task, so a stuck client is dropped
(close 1008) instead of slowing the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from parley.bus.memory import MemoryBus
from parley.chat.conversation import Caller, resolve
from parley.chat.errors import AccessDenied
from parley.chat.tokens import WEBSOCKET, TokenSigner
from parley.clock import Clock
from parley.services.base import Store
from parley.services.connections import WEBSOCKET_URL_SECONDS
from parley.transport.access_log import AccessLog

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
log = logging.getLogger("parley.ws")

OUTBOX_LIMIT = 1000
SUBSCRIBE_ACK = json.dumps({"topic": "aws/subscribe", "content": {"status": "success", "topics": ["aws/chat"]}})
UNSUBSCRIBE_ACK = json.dumps({"topic": "aws/unsubscribe", "content": {"status": "success", "topics": ["aws/chat"]}})
HEARTBEAT = json.dumps({"topic": "aws/heartbeat"})
PING_REPLY = json.dumps({"topic": "aws/ping", "statusCode": 200, "statusContent": "OK"})
_decoder = json.JSONDecoder()


def first_json_value(text: str) -> Any:
    """The first JSON value of a frame; trailing bytes are ignored (the iOS SDK's subscribe ends with ')')."""
    try:
        value, _ = _decoder.raw_decode(text.lstrip())
    except ValueError:
        return None
    return value


class ChatSocket:
    """One accepted socket: its outbox and writer task. The bus sees it as a Subscriber."""

    def __init__(self, send: Send, participant_id: str, limit: int = OUTBOX_LIMIT) -> None:
        self.participant_id = participant_id
        self._send = send
        self._limit = limit
        self._outbox: asyncio.Queue[str | int] = asyncio.Queue()
        self.close_code: int | None = None
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    def offer(self, frame: str) -> bool:
        if self.close_code is not None:
            return True
        if self._outbox.qsize() >= self._limit:
            return False
        self._outbox.put_nowait(frame)
        return True

    def close_soon(self, grace: float, code: int) -> None:
        if code == 1008:  # too slow: its writer may be stuck in send(), so stop it now
            self.close_code = code
            self.writer.cancel()
            return
        asyncio.get_running_loop().call_later(grace, self._outbox.put_nowait, code)

    async def _write_loop(self) -> None:
        while True:
            frame = await self._outbox.get()
            if isinstance(frame, int):
                self.close_code = frame
                await self._send({"type": "websocket.close", "code": frame})
                return
            await self._send({"type": "websocket.send", "text": frame})


class ChatSockets:
    def __init__(
        self,
        signer: TokenSigner,
        store: Store,
        bus: MemoryBus,
        clock: Clock,
        access_log: AccessLog,
        outbox_limit: int = OUTBOX_LIMIT,
    ) -> None:
        self._outbox_limit = outbox_limit
        self._signer = signer
        self._store = store
        self._bus = bus
        self._clock = clock
        self._log = access_log

    async def _authorise(self, scope: dict[str, Any]) -> Caller | None:
        if scope["path"] != "/ws/chat":
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        stamped = self._signer.read_stamped(WEBSOCKET, (query.get("auth") or [""])[0])
        if stamped is None:
            return None
        if (datetime.now(UTC) - stamped.moment).total_seconds() > WEBSOCKET_URL_SECONDS:
            return None
        now = self._clock.now()
        try:
            return await self._store.read(lambda repo: resolve(repo, stamped.participant_id, now))
        except AccessDenied:
            return None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        caller = await self._authorise(scope)
        if caller is None:
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            self._log.event("ws.refused", f" path={scope['path']}")
            return
        await send({"type": "websocket.accept"})
        socket = ChatSocket(send, caller.participant.id, self._outbox_limit)
        contact_id = caller.contact.id
        self._log.event("ws.open", f" contact={contact_id} participant={caller.participant.id}")
        reader = asyncio.get_running_loop().create_task(self._read_loop(receive, socket, contact_id))
        try:
            # Whichever ends first ends the socket: the client leaving, or the server closing it.
            await asyncio.wait({reader, socket.writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._bus.unsubscribe(contact_id, socket)
            for task in (reader, socket.writer):
                task.cancel()
            code = socket.close_code or (reader.result() if reader.done() and not reader.cancelled() else 1000)
            self._log.event("ws.close", f" {code} contact={contact_id}")

    async def _read_loop(self, receive: Receive, socket: ChatSocket, contact_id: str) -> int:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code", 1000))
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            frame = first_json_value(text or "")
            if not isinstance(frame, dict):
                continue
            topic = frame.get("topic")
            if topic == "aws/subscribe":
                self._bus.subscribe(contact_id, socket)
                socket.offer(SUBSCRIBE_ACK)
                self._log.event("ws.subscribe", f" contact={contact_id}", debug=False)
            elif topic == "aws/unsubscribe":
                self._bus.unsubscribe(contact_id, socket)
                socket.offer(UNSUBSCRIBE_ACK)
            elif topic == "aws/heartbeat":
                socket.offer(HEARTBEAT)
            elif topic == "aws/ping":
                socket.offer(PING_REPLY)
