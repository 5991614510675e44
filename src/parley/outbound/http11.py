"""One HTTP/1.1 client connection on asyncio streams, h11 (uvicorn's own HTTP/1.1 state machine) doing the parsing.
Imported by `sender` on the first call out, so a Parley that never calls a function does not load h11.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping

import h11

READ_CAP = 32 * 1024 + 1  # one byte over a Lambda response's limit is enough to know it is too large


class Broken(Exception):
    """The connection failed or closed before a whole answer; the message names why."""


class Connection:
    """One HTTP/1.1 connection; `exchange` sends a request and reads its response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._http = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, scheme: str, host: str, port: int) -> Connection:
        context = ssl.create_default_context() if scheme == "https" else None
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
        return cls(reader, writer)

    async def exchange(
        self, host: str, target: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body up to READ_CAP); Broken when no whole answer came."""
        try:
            return await self._exchange(host, target, body, headers)
        except (OSError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            raise Broken(f"{type(exc).__name__}: {exc or 'the connection closed'}") from None

    async def _exchange(
        self, host: str, target: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        fields = [("Host", host), ("Content-Length", str(len(body))), *headers.items()]
        data = self._http.send(h11.Request(method="POST", target=target, headers=fields)) or b""
        data += (self._http.send(h11.Data(data=body)) or b"") + (self._http.send(h11.EndOfMessage()) or b"")
        self._writer.write(data)
        await self._writer.drain()
        response = await self._next()
        if not isinstance(response, h11.Response):
            raise h11.RemoteProtocolError("the connection closed before a response")
        answer = {name.decode().lower(): value.decode("latin-1") for name, value in response.headers}
        return response.status_code, answer, await self._body()

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
