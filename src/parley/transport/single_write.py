"""One socket write per response: uvicorn's httptools cycle writes a response's head when the application
sends `http.response.start` and its body separately; this transport wrapper holds the head back and sends it
joined to the first body write, one `send()` system call (and one TCP segment) instead of two.

Owns nothing but that: it wraps one request/response cycle's transport and delegates everything else. It
holds only the response head (the first write once the cycle has started its response: a `100 Continue`
sent earlier goes at once), never for a HEAD request (whose body uvicorn never writes), and a close flushes
what it holds first, so a cycle that fails between head and body closes exactly as before.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeldHeadTransport:
    """A cycle's transport whose response head waits for the body's first write."""

    __slots__ = ("_cycle", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle  # uvicorn's RequestResponseCycle: `response_started` tells a head from a 100 Continue
        self._head: bytes | None = None  # None: the head is still to come; b"": it has gone out

    def write(self, data: bytes | bytearray | memoryview) -> None:
        head = self._head
        if head is None and self._cycle.response_started:
            self._head = bytes(data)
            return
        if head:
            self._head = b""
            self._transport.write(head + data)
            return
        self._transport.write(data)

    def close(self) -> None:
        if self._head:
            self._transport.write(self._head)
            self._head = b""
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # anything else a cycle may ask of its transport
        return getattr(self._transport, name)


def hold_heads(cycle: Any, transport: asyncio.Transport) -> None:
    """Gives a new cycle (not yet running) the head-holding transport; HEAD requests keep the plain one."""
    if cycle.scope.get("method") != "HEAD":
        cycle.transport = HeldHeadTransport(transport, cycle)
