"""The participant WebSocket (stream.md): an explicit state machine per socket.

CONNECTING --(URL credential fresh, participant still in a live chat)--> OPEN --(aws/subscribe)--> SUBSCRIBED
Any state --(client close, chat ended + grace, slow consumer, shutdown)--> CLOSED.

The `aws/subscribe` ack is the bus's greeting: it comes when the subscription holds (on Redis, once Redis
confirmed it), before any frame, so nothing published after the ack can miss the socket.

Each socket has a bounded outbox drained by a writer task that lives only while frames wait, so a stuck
client is dropped (close 1008) instead of slowing the others, and an idle socket holds one task (its
handler, which reads) and no queue. What a client sends is bounded too (limits.py): a frame
nested too deeply or a flood of frames closes the socket with 1008, and a participant's sockets
beyond the cap close the oldest. Every server-side close sends a real close frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs

from parley.bus.port import Bus
from parley.limits import Limits
from parley.services.sockets import SocketAdmission
from parley.transport.access_log import AccessLog

if TYPE_CHECKING:
    from parley.chat.conversation import Caller

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
log = logging.getLogger("parley.ws")

OUTBOX_LIMIT = 1000
SUBSCRIBE_ACK = json.dumps({"topic": "aws/subscribe", "content": {"status": "success", "topics": ["aws/chat"]}})
UNSUBSCRIBE_ACK = json.dumps({"topic": "aws/unsubscribe", "content": {"status": "success", "topics": ["aws/chat"]}})
HEARTBEAT = json.dumps({"topic": "aws/heartbeat"})
PING_REPLY = json.dumps({"topic": "aws/ping", "statusCode": 200, "statusContent": "OK"})
_decoder = json.JSONDecoder()


class Closing(NamedTuple):
    """How a socket ends: the close code, its reason, and whether the client already closed it."""

    code: int
    reason: str = ""
    by_client: bool = False


class FrameRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`; a frame with few brackets is never scanned."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def first_json_value(text: str, max_depth: int = 32) -> Any:
    """The first JSON value of a frame; trailing bytes are ignored (the iOS SDK's subscribe ends with ')').

    Raises FrameRefused for a frame nested deeper than `max_depth` (the parser would recurse on it)."""
    if nested_deeper_than(text, max_depth):
        raise FrameRefused(f"a frame may nest JSON at most {max_depth} levels deep")
    try:
        value, _ = _decoder.raw_decode(text.lstrip())
    except (ValueError, RecursionError):
        return None
    return value


class Rate:
    """A token bucket: `per_second` frames a second, bursts of twice that; 0 = no limit."""

    def __init__(self, per_second: float) -> None:
        self._rate = per_second
        self._tokens = 2 * per_second
        self._at = time.monotonic()

    def take(self) -> bool:
        if self._rate <= 0:
            return True
        now = time.monotonic()
        self._tokens = min(2 * self._rate, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class ChatSocket:
    """One accepted socket as the bus sees it (a Subscriber): a bounded outbox and, only while it holds
    frames, a writer task. An idle socket keeps neither: 50,000 of them must fit one node (BENCHMARKS.md)."""

    __slots__ = (
        "_limit",
        "_outbox",
        "_reader",
        "_send",
        "_stopped",
        "_writer",
        "close_code",
        "dropped",
        "participant_id",
    )

    def __init__(self, send: Send, participant_id: str, limit: int = OUTBOX_LIMIT) -> None:
        self.participant_id = participant_id
        self._send = send
        self._limit = limit
        self._outbox: deque[str | int] | None = None  # made on the first frame, let go once written
        self._writer: asyncio.Task[None] | None = None
        self._stopped = False  # no more frames: the socket is being closed
        self._reader: asyncio.Task[Any] | None = asyncio.current_task()  # the handler; None once it is closing
        self.close_code: int | None = None  # set once the writer has sent a close frame itself
        self.dropped: Closing | None = None  # set when the server cuts the socket short

    def offer(self, frame: str) -> bool:
        if self.close_code is not None or self._stopped:
            return True
        if self._outbox is not None and len(self._outbox) >= self._limit:
            return False
        self._queue(frame)
        return True

    def close_soon(self, grace: float, code: int) -> None:
        if code == 1008:  # too slow: its writer may be stuck in send(), so stop it now
            self.drop(Closing(1008, "the client reads too slowly"))
            return
        asyncio.get_running_loop().call_later(grace, self._queue, code)

    def drop(self, closing: Closing) -> None:
        """End the socket now, skipping what is queued; the handler sends the close frame."""
        if self.dropped is None and self.close_code is None and self._reader is not None:
            self.dropped = closing
            self.stop_writing()
            self._reader.cancel()  # wakes the handler from receive(); it then sends the close frame

    def stop_reading(self) -> None:
        """The handler is past its read loop: a later drop() must not cancel it while it closes."""
        self._reader = None

    def stop_writing(self) -> None:
        """For good: a close frame queued later (a grace timer) finds the socket gone and does nothing."""
        self._stopped = True
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        self._outbox = None

    def _queue(self, frame: str | int) -> None:
        if self._stopped:
            return
        if self._outbox is None:
            self._outbox = deque()
        self._outbox.append(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write(self._outbox))

    async def _write(self, outbox: deque[str | int]) -> None:
        try:
            while outbox:
                frame = outbox.popleft()
                if isinstance(frame, int):
                    self.close_code = frame  # the server's close also ends the handler's receive()
                    await self._send({"type": "websocket.close", "code": frame})
                    return
                await self._send({"type": "websocket.send", "text": frame})
        except Exception:  # the client is gone: the handler hears it from receive()
            log.debug("a frame for a departed client not sent", exc_info=True)
        finally:
            if self._outbox is outbox:
                self._writer, self._outbox = None, None


class ChatSockets:
    def __init__(
        self,
        admission: SocketAdmission,
        bus: Bus,
        access_log: AccessLog,
        outbox_limit: int = OUTBOX_LIMIT,
        limits: Limits | None = None,
    ) -> None:
        self._outbox_limit = outbox_limit
        self._limits = limits or Limits()
        self._open: dict[str, list[ChatSocket]] = {}  # participant id -> open sockets, oldest first
        self._admission = admission
        self._bus = bus
        self._log = access_log

    async def _authorise(self, scope: dict[str, Any]) -> Caller | None:
        if scope["path"] != "/ws/chat":
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return await self._admission.caller((query.get("auth") or [""])[0])

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
        # Only the two ids live on: an idle socket should not keep the resolved chat (its objects) alive.
        contact_id, participant_id = caller.contact.id, caller.participant.id
        del caller
        socket = ChatSocket(send, participant_id, self._outbox_limit)
        self._log.event("ws.open", f" contact={contact_id} participant={participant_id}")
        self._admit(socket)
        ending: Closing | None = None
        try:
            # This task reads; the client leaving ends the loop, and so does the server closing the socket
            # (its close frame makes receive() answer a disconnect, drop() cancels the read).
            ending = await self._read_loop(receive, socket, contact_id)
        except asyncio.CancelledError:
            if socket.dropped is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        finally:
            socket.stop_reading()
            self._bus.unsubscribe(contact_id, socket)
            self._release(socket)
            socket.stop_writing()
        code = await self._finish(send, socket, ending)
        self._log.event("ws.close", f" {code} contact={contact_id}")

    def _admit(self, socket: ChatSocket) -> None:
        """Count the socket against its participant's cap, closing the oldest beyond it (never refusing)."""
        sockets = self._open.setdefault(socket.participant_id, [])
        sockets.append(socket)
        cap = self._limits.max_sockets_per_participant
        while cap and len(sockets) > cap:
            sockets.pop(0).drop(Closing(1008, f"more than {cap} sockets for one participant"))

    def _release(self, socket: ChatSocket) -> None:
        sockets = self._open.get(socket.participant_id, [])
        if socket in sockets:
            sockets.remove(socket)
        if not sockets:
            self._open.pop(socket.participant_id, None)

    async def _finish(self, send: Send, socket: ChatSocket, ending: Closing | None) -> int:
        """Send the close frame the server owes, if any; the code the socket ended with."""
        if socket.close_code is not None:
            return socket.close_code
        closing = socket.dropped or ending or Closing(1000)
        if not closing.by_client:
            try:
                close = {"type": "websocket.close", "code": closing.code, "reason": closing.reason}
                await asyncio.wait_for(send(close), self._limits.ws_close_timeout)
            except Exception:  # the client is already gone: nothing is owed to it
                log.debug("close frame for a departed client not sent", exc_info=True)
        return closing.code

    async def _read_loop(self, receive: Receive, socket: ChatSocket, contact_id: str) -> Closing:
        rate = Rate(self._limits.ws_messages_per_second)
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return Closing(int(message.get("code", 1000)), by_client=True)
            if not rate.take():
                return Closing(1008, f"more than {self._limits.ws_messages_per_second:g} messages a second")
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            try:
                frame = first_json_value(text or "", self._limits.ws_max_depth)
            except FrameRefused as refused:
                return Closing(1008, refused.reason)
            if not isinstance(frame, dict):
                continue
            topic = frame.get("topic")
            if topic == "aws/subscribe":
                await self._bus.subscribe(contact_id, socket, SUBSCRIBE_ACK)
                self._log.event("ws.subscribe", f" contact={contact_id}", debug=False)
            elif topic == "aws/unsubscribe":
                self._bus.unsubscribe(contact_id, socket)
                socket.offer(UNSUBSCRIBE_ACK)
            elif topic == "aws/heartbeat":
                socket.offer(HEARTBEAT)
            elif topic == "aws/ping":
                socket.offer(PING_REPLY)
