"""The connection guard: uvicorn's HTTP and WebSocket protocols, bounded by `Limits`.

uvicorn holds a fresh connection forever until its first request, lets a request head or body
trickle in without end, and answers an over-long request target or malformed HTTP with plain
text. Here every connection has a deadline for its head and its body, an over-long target or
head is refused before it is buffered, and each refusal is the AWS JSON error shape, followed by a
lingering close so the client reads the answer instead of a reset. The WebSocket half is
guard_ws.py, loaded by the first upgrade. This module owns bytes on the wire only: it knows no
operation and no chat.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parley import __version__
from parley.limits import Limits
from parley.protocol.errors import ServiceError
from parley.protocol.restjson import serialize_error
from parley.transport.single_write import hold_heads

log = logging.getLogger("parley.guard")
# After a refusal, what the client still sends is read and dropped until it pauses this long, for at most
# LINGER_MAX_SECONDS in all (nginx's lingering close, smaller), so it reads our answer instead of a reset.
LINGER_SECONDS = 2.0
LINGER_MAX_SECONDS = 30.0
REASONS = {400: b"Bad Request", 408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


class Refused(Exception):
    """Raised inside a parser callback; the protocol answers `error` and closes."""

    def __init__(self, error: ServiceError) -> None:
        super().__init__(error.message)
        self.error = error


def refusal_bytes(error: ServiceError) -> bytes:
    """A complete HTTP/1.1 response carrying `error` in the AWS JSON error shape, closing the connection."""
    status, headers, body = serialize_error(error)
    lines = [b"HTTP/1.1 %d %s" % (status, REASONS.get(status, b"Error"))]
    headers = [
        (b"content-type", b"application/json"),
        (b"x-parley-version", __version__.encode()),
        *headers,
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def timed_out(what: str, seconds: float) -> ServiceError:
    return ServiceError("RequestTimeout", 408, f"The request {what} was not received within {seconds:g} seconds")


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with head and body deadlines, size limits and JSON refusals."""

    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._due: float | None = None  # loop time the current phase (head, body, linger) must end by
        self._on_due: Callable[[], None] = self._close
        self._timer: asyncio.TimerHandle | None = None  # at most one per connection, moved lazily
        self._in_head = True  # between requests or inside a request head
        self._head_started = False  # a request's first byte has been parsed, its head not yet complete
        self._head_bytes = 0
        self._header_bytes = 0
        self._discarding = False
        self._linger_ends = 0.0

    # -- deadlines ---------------------------------------------------------------------------------
    # A deadline is a number; the one timer behind it is rescheduled only when it would fire too late, so
    # a request costs no timer call in the steady state (the timer wakes at most once per timeout).
    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        if seconds <= 0:
            self._due = None
            return
        self._due, self._on_due = self.loop.time() + seconds, callback
        if self._timer is None or self._timer.when() > self._due:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(self._due, self._tick)

    def _disarm(self) -> None:
        self._due = None

    def _tick(self) -> None:
        self._timer = None
        if self._due is None:
            return
        if self.loop.time() < self._due:
            self._timer = self.loop.call_at(self._due, self._tick)
            return
        self._due = None
        self._on_due()

    def _close(self) -> None:
        self.transport.close()

    def _head_timed_out(self) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        if not self._head_started or busy:
            self.transport.close()  # nothing was asked (or an answer is still being written): just close
        else:
            self._refuse(timed_out("head", self.limits.header_timeout))

    def _body_timed_out(self) -> None:
        cycle = self.cycle
        if cycle is None or cycle.response_started or self.pipeline:  # never interleave with an answer
            self.transport.close()
            return
        cycle.disconnected = True  # the application stops waiting for the rest of the body
        cycle.message_event.set()
        self._refuse(timed_out("body", self.limits.body_timeout))

    # -- refusals ----------------------------------------------------------------------------------
    def _refuse(self, error: ServiceError) -> None:
        if self.transport.is_closing():
            return
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.info("refused %d %s from %s: %s", error.status, error.code, peer, error.message)
        self.transport.write(refusal_bytes(error))
        self._linger()

    def _linger(self) -> None:
        """Half-close and drop what the client is still sending, so it reads our answer, not a reset."""
        self._discarding = True
        self._linger_ends = self.loop.time() + LINGER_MAX_SECONDS
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm(LINGER_SECONDS, self._close)

    # -- asyncio.Protocol --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def _stop_timer(self) -> None:
        self._due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            if self.loop.time() < self._linger_ends:
                self._arm(LINGER_SECONDS, self._close)
            return
        self._unset_keepalive_if_required()
        if self._in_head:
            if self._head_bytes == 0 and self._due is None:
                self._arm(self.limits.header_timeout, self._head_timed_out)
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            refused = exc.__context__ if isinstance(exc.__context__, Refused) else None
            self._refuse(refused.error if refused else ServiceError("ValidationError", 400, "Malformed HTTP request"))
            return
        if self._in_head and self._head_bytes > self.limits.max_target_bytes + self.limits.max_header_bytes:
            self._refuse(ServiceError("ValidationError", 431, "The request head is too large"))

    def timeout_keep_alive_handler(self) -> None:
        # A connection whose next request head has begun is not idle: that head's own deadline answers it with
        # a 408. The keep-alive timer can come due in the same millisecond and fire first (the head's timer is
        # moved lazily, so it was started later), which would close the connection without a word.
        if self._head_started and self._due is not None:
            return
        super().timeout_keep_alive_handler()

    def handle_websocket_upgrade(self) -> None:
        self._stop_timer()  # the WebSocket protocol owns the connection from here
        super().handle_websocket_upgrade()

    # -- parser callbacks --------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self._due is None:  # a request pipelined behind another starts its own clock
            self._arm(self.limits.header_timeout, self._head_timed_out)
        super().on_message_begin()
        self._head_started = True
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_target_bytes:
            limit = self.limits.max_target_bytes
            raise Refused(ServiceError("ValidationError", 414, f"The request target is longer than {limit} bytes"))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.limits.max_header_bytes:
            limit = self.limits.max_header_bytes
            raise Refused(ServiceError("ValidationError", 431, f"The request headers are larger than {limit} bytes"))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = self._head_started = False
        self._head_bytes = 0
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(self.limits.body_timeout, self._body_timed_out)
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not before:  # a new request (not an upgrade): one write
            hold_heads(self.cycle, self.transport)

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # Answered before its body arrived (too large): don't read it to the end. A request pipelined
        # behind it means its body was complete, so only the latest cycle can be in this state.
        body_pending = not self.pipeline and self.cycle is not None and self.cycle.more_body
        if body_pending and not self.transport.is_closing():
            self._linger()
            return
        super().on_response_complete()


def protocols(limits: Limits) -> dict[str, Any]:
    """uvicorn.Config keywords that put both guarded protocols, bound to `limits`, on a server. The WebSocket
    protocol (uvicorn's sans-io implementation and websockets, ~25 ms of imports) is loaded by the first
    upgrade, not at start-up: uvicorn only calls `ws` to make each socket's protocol."""
    http = type("GuardedHttp", (GuardedHttp,), {"limits": limits})
    return {
        "http": http,
        "ws": _LazyWebSocket(limits),
        "ws_max_size": limits.ws_max_frame_bytes,
        "timeout_keep_alive": limits.idle_timeout or 10**9,  # 0: kept-alive connections may idle for ever
    }


class _LazyWebSocket:
    """Makes a GuardedWebSocket bound to `limits`, importing it on the first call."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._protocol: Callable[..., asyncio.Protocol] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> asyncio.Protocol:
        if self._protocol is None:
            from parley.transport.guard_ws import GuardedWebSocket

            self._protocol = type("GuardedWebSocket", (GuardedWebSocket,), {"limits": self._limits})
        return self._protocol(*args, **kwargs)
