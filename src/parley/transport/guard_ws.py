"""The connection guard's WebSocket half: uvicorn's sans-io WebSocket protocol, bounded by `Limits`.

A close frame is queued even when the client stopped reading, a silent socket is closed, and a socket
that never drains is cut. Imported by the first WebSocket upgrade (guard.protocols), not at start-up.
This module owns bytes on the wire only: it knows no operation and no chat.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from parley.limits import Limits
from parley.transport.socket_sync import Gate, Inbox

# permessage-deflate with no context takeover either way: websockets then makes a zlib context per message and
# frees it after, so an idle socket holds none (with takeover, 12-bit windows: ~42 KiB a socket, for ever).
# A client must accept both parameters in the answer (RFC 7692 §7.1.1), browsers and chatjs's `ws` do.
PER_MESSAGE_DEFLATE = ServerPerMessageDeflateFactory(
    server_no_context_takeover=True,
    client_no_context_takeover=True,
    server_max_window_bits=12,
    compress_settings={"memLevel": 5},
)


class GuardedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's sans-io WebSocket protocol: close frames never wait behind a stalled client, a silent
    socket is closed (1001), and a closing socket that does not drain is cut."""

    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.available_extensions = [PER_MESSAGE_DEFLATE] if self.limits.ws_compression == "on" else []
        self.queue = Inbox()  # type: ignore[assignment]  # uvicorn's asyncio.Queue and Event: ~4 KiB a socket
        self.writable = Gate()  # type: ignore[assignment]
        self.close_timeout = self.limits.ws_close_timeout
        self._heard = time.monotonic()
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._watch_idle(self.limits.ws_idle_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._heard = time.monotonic()
        super().data_received(data)

    def _watch_idle(self, seconds: float) -> None:
        if self.limits.ws_idle_timeout > 0:
            self._idle = self.loop.call_later(seconds, self._check_idle)

    def _check_idle(self) -> None:
        silent = time.monotonic() - self._heard
        if silent < self.limits.ws_idle_timeout:
            self._watch_idle(self.limits.ws_idle_timeout - silent)
            return
        if self.handshake_complete and not self.close_sent and not self.transport.is_closing():
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1001, "reason": "idle"})
            self.conn.send_close(1001, "idle")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            self.loop.call_later(self.close_timeout, self.transport.abort)
        self.transport.close()

    def _forget_handshake(self) -> None:
        """Drop the handshake's headers (~3 KiB a socket) once accepted: Parley's socket handler reads only
        the path and query. websockets' parser keeps the Request for the connection's life, so its headers
        are emptied in place rather than let go."""
        self.request.headers.clear()
        self.request = self.response = None  # type: ignore[assignment]
        self.scope["headers"] = []

    async def send(self, message: Any) -> None:
        closing = message.get("type") == "websocket.close" and self.handshake_complete and not self.close_sent
        if closing:
            self.writable.set()  # queue the close frame even behind a client that stopped reading
        await super().send(message)
        if message.get("type") == "websocket.accept":
            self._forget_handshake()
        if closing:
            self.loop.call_later(self.close_timeout, self.transport.abort)
