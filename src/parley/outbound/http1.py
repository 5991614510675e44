"""A small HTTP/1.1 client for the stream targets: POST, keep-alive connections pooled per origin, http and https.

A general client (aiohttp) cost about half a millisecond of CPU per request and as much again per refused
connection, which on a loaded machine showed up as chat latency. This one does only what a stream needs:
one POST at a time per connection, a Content-Length request body, and a Content-Length, chunked or
read-to-close response body.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

MAX_BODY = 4 * 1024 * 1024
Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpError(Exception):
    """No HTTP answer: the text says why (ConnectionRefused, …)."""


class Http1Client:
    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[Conn]] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(self, url: str, data: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        origin = (parts.scheme, parts.hostname or "127.0.0.1", parts.port or (443 if secure else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rsplit("@", 1)[-1]
        head = f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(data)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items() if name.lower() != "host")
        request = (head + "\r\n").encode("latin-1") + data
        idle = self._idle.setdefault(origin, [])
        while idle:  # a kept-alive connection may have been closed by the server meanwhile: then a new one
            conn = idle.pop()
            try:
                return await self._exchange(origin, conn, request)
            except (ConnectionError, asyncio.IncompleteReadError, HttpError):
                continue
        return await self._exchange(origin, await self._open(origin), request)

    async def _open(self, origin: tuple[str, str, int]) -> Conn:
        scheme, host, port = origin
        try:
            return await asyncio.open_connection(host, port, ssl=self._context() if scheme == "https" else None)
        except ConnectionRefusedError:
            raise HttpError("ConnectionRefused") from None
        except OSError as exc:
            raise HttpError(f"ConnectionError: {exc.strerror or exc}") from None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def _exchange(self, origin: tuple[str, str, int], conn: Conn, request: bytes) -> tuple[int, str]:
        reader, writer = conn
        try:
            writer.write(request)
            status, headers = await _head(reader)
            body = b"" if status in (204, 304) or status < 200 else await _body(reader, headers)
        except BaseException:
            writer.close()
            raise
        framed = "content-length" in headers or _chunked(headers) or not body
        if headers.get("connection", "").lower() == "close" or not framed:
            writer.close()
        else:
            self._idle.setdefault(origin, []).append(conn)
        return status, body.decode("utf-8", "replace")

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for _, writer in conns:
                writer.close()
        self._idle.clear()


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    fields = lines[0].split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        raise HttpError(f"not an HTTP answer: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(fields[1]), headers


def _chunked(headers: Mapping[str, str]) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


async def _body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    if _chunked(headers):
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size + 2))
            chunks[-1] = chunks[-1][:-2]
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read(MAX_BODY)
