"""HTTP out of Parley, on the event loop: asyncio streams with h11 (the HTTP/1.1 state machine uvicorn uses) doing the
parsing, idle connections kept per origin for reuse, bodies read up to a cap, and the retry rule of flows.md §5.3
(429, 5xx and connection errors are retried up to 3 times; the caller's time limit bounds the whole).

Proxy variables are not honoured: Lambda targets are local, and a CI runner's HTTP_PROXY must not swallow them.
Measured against httpx 0.28 on the same loopback server, this costs a fraction per request and keeps its
throughput under concurrency, without a dependency tree of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from parley.outbound.http11 import Connection

RETRIES = 3
BACKOFF_SECONDS = 0.1  # doubled before each retry: 0.1, 0.2, 0.4
IDLE_PER_ORIGIN = 8
DEFAULT_PORTS = {"http": 80, "https": 443}


class Unreachable(Exception):
    """No HTTP answer at all (refused, reset, closed, not HTTP) after the retries."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        """As SigV4 signs it: the host, with the port unless it is the scheme's default."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if DEFAULT_PORTS[self.scheme] == self.port else f"{shown}:{self.port}"


def retryable(status: int) -> bool:
    """Throttled or a server error; 501 Not Implemented will not change by asking again."""
    return status == 429 or (status >= 500 and status != 501)


def split(url: str) -> tuple[Origin, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise Unreachable(f"not an http(s) URL: {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme]), target


class Sender:
    def __init__(self) -> None:
        self._idle: dict[Origin, list[Connection]] = {}

    async def post_once(self, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """One POST, on a kept connection to the origin if one is still open, else a new one."""
        from parley.outbound.http11 import Broken, Connection  # h11 on first use: not on `parley serve`'s startup

        origin, target = split(url)
        connection = self._kept(origin)
        if connection is None:
            try:
                connection = await Connection.open(origin.scheme, origin.host, origin.port)
            except OSError as exc:
                raise Unreachable(f"{type(exc).__name__}: {exc}") from None
        try:
            status, answer_headers, data = await connection.exchange(origin.host_header, target, body, headers)
        except Broken as exc:
            connection.abort()
            raise Unreachable(str(exc)) from None
        except BaseException:  # cancelled by the time limit mid-exchange: the connection is unusable
            connection.abort()
            raise
        if connection.reusable() and len(self._idle.get(origin, ())) < IDLE_PER_ORIGIN:
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection.abort()
        return Reply(status, answer_headers, data, 1)

    def _kept(self, origin: Origin) -> Connection | None:
        """An idle connection the server has not closed meanwhile (keep-alive timeouts close them)."""
        kept = self._idle.get(origin, [])
        while kept:
            connection = kept.pop()
            if connection.open_ended():
                return connection
            connection.abort()
        return None

    async def post(self, url: str, body: bytes, headers: Callable[[], Mapping[str, str]]) -> Reply:
        """POST with retries: `headers` is called for every attempt (a SigV4 signature is dated)."""
        delay = BACKOFF_SECONDS
        for attempt in range(1, RETRIES + 2):
            last = attempt == RETRIES + 1
            try:
                reply = await self.post_once(url, body, headers())
            except Unreachable:
                if last:
                    raise
            else:
                if last or not retryable(reply.status):
                    return Reply(reply.status, reply.headers, reply.body, attempt)
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.abort()
        await asyncio.sleep(0)  # the transports' close callbacks run before the loop may end
