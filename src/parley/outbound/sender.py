"""HTTP out of Parley, on the event loop: asyncio streams with h11 (the HTTP/1.1 state machine uvicorn uses) doing the
parsing, idle connections kept per origin for reuse, bodies read up to a cap, and the retry rule of flows.md §5.3
(429, 5xx and connection errors are retried up to 3 times; the caller's time limit bounds the whole).

Proxy variables are not honoured: Lambda targets are local, and a CI runner's HTTP_PROXY must not swallow them.
Measured against httpx 0.28 on the same loopback server, this costs a fraction per request and keeps its
throughput under concurrency, without a dependency tree of its own.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

RETRIES = 3
BACKOFF_SECONDS = 0.1  # doubled before each retry: 0.1, 0.2, 0.4
READ_CAP = 32 * 1024 + 1  # one byte over the response limit is enough to know it is too large
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
    return status == 429 or status >= 500


def split(url: str) -> tuple[Origin, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise Unreachable(f"not an http(s) URL: {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme]), target


class Connection:
    """One HTTP/1.1 connection; `exchange` sends a request and reads its response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._http = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, origin: Origin) -> Connection:
        context = ssl.create_default_context() if origin.scheme == "https" else None
        reader, writer = await asyncio.open_connection(origin.host, origin.port, ssl=context)
        return cls(reader, writer)

    async def exchange(self, origin: Origin, target: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        fields = [("Host", origin.host_header), ("Content-Length", str(len(body))), *headers.items()]
        data = self._http.send(h11.Request(method="POST", target=target, headers=fields)) or b""
        data += (self._http.send(h11.Data(data=body)) or b"") + (self._http.send(h11.EndOfMessage()) or b"")
        self._writer.write(data)
        await self._writer.drain()
        response = await self._next()
        if not isinstance(response, h11.Response):
            raise h11.RemoteProtocolError("the connection closed before a response")
        answer = {name.decode().lower(): value.decode("latin-1") for name, value in response.headers}
        return Reply(response.status_code, answer, await self._body(), 1)

    async def _next(self) -> object:
        """The next event that is not a request for more bytes nor an informational (1xx) response."""
        while True:
            event = self._http.next_event()
            if event is h11.NEED_DATA:
                self._http.receive_data(await self._reader.read(65536))
            elif not isinstance(event, h11.InformationalResponse):
                return event

    async def _body(self) -> bytes:
        data = bytearray()
        while len(data) < READ_CAP:
            event = await self._next()
            if not isinstance(event, h11.Data):
                return bytes(data)  # EndOfMessage (or a close h11 has already judged)
            data += event.data
        return bytes(data)  # not read to its end: this connection is not reused

    def reusable(self) -> bool:
        if self._http.our_state is h11.DONE and self._http.their_state is h11.DONE:
            self._http.start_next_cycle()
            return True
        return False

    def open_ended(self) -> bool:
        """Still open both ways: the server has not closed its side."""
        return not self._reader.at_eof() and not self._writer.is_closing()

    def abort(self) -> None:
        self._writer.transport.abort()


class Sender:
    def __init__(self) -> None:
        self._idle: dict[Origin, list[Connection]] = {}

    async def post_once(self, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """One POST, on a kept connection to the origin if one is still open, else a new one."""
        origin, target = split(url)
        connection = self._kept(origin)
        if connection is None:
            try:
                connection = await Connection.open(origin)
            except OSError as exc:
                raise Unreachable(f"{type(exc).__name__}: {exc}") from None
        try:
            reply = await connection.exchange(origin, target, body, headers)
        except (OSError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            connection.abort()
            raise Unreachable(f"{type(exc).__name__}: {exc or 'the connection closed'}") from None
        except BaseException:  # cancelled by the time limit mid-exchange: the connection is unusable
            connection.abort()
            raise
        if connection.reusable() and len(self._idle.get(origin, ())) < IDLE_PER_ORIGIN:
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection.abort()
        return reply

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
