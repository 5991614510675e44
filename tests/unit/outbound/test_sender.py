"""The HTTP client under the Lambda targets, against small servers on loopback: kept connections are reused, a
chunked or `Connection: close` answer is read whole, a server that closes without answering is an error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from parley.outbound.sender import Origin, Sender, Unreachable, split

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


async def _with_server(handler: Handler, body: Callable[[str], Awaitable[None]]) -> None:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await body(f"http://127.0.0.1:{port}/fn?x=1")
    finally:
        server.close()
        await server.wait_closed()


def test_origins_and_host_headers() -> None:
    assert split("http://127.0.0.1:3001/a/b?Qualifier=1") == (Origin("http", "127.0.0.1", 3001), "/a/b?Qualifier=1")
    assert split("https://example.test")[0].host_header == "example.test"
    assert split("http://[::1]:9000/x")[0].host_header == "[::1]:9000"


def test_a_kept_connection_is_reused_and_a_chunked_close_answer_is_read_whole() -> None:
    connections: list[int] = []
    requests: list[bytes] = []

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        for _ in range(2):
            requests.append(await _request(reader))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        requests.append(await _request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        writer.write(b"3\r\n[1,\r\n3\r\n2,3\r\n1\r\n]\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def body(url: str) -> None:
        sender = Sender()
        replies = [await sender.post(url, b"{}", lambda: {"X-A": "b"}) for _ in range(3)]
        assert [r.body for r in replies] == [b"{}", b"{}", b"[1,2,3]"]
        assert replies[0].headers["content-length"] == "2" and all(r.attempts == 1 for r in replies)
        await sender.aclose()

    asyncio.run(_with_server(keep_alive, body))
    assert len(connections) == 1 and len(requests) == 3
    assert requests[0].startswith(b"POST /fn?x=1 HTTP/1.1\r\n") and b"\r\nX-A: b\r\n" in requests[0]


def test_a_server_that_closes_without_answering_is_unreachable_after_the_retries() -> None:
    attempts: list[int] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        attempts.append(1)
        await _request(reader)
        writer.close()

    async def body(url: str) -> None:
        sender = Sender()
        try:
            await sender.post(url, b"{}", dict)
        except Unreachable as exc:
            assert "RemoteProtocolError" in str(exc)
        else:
            raise AssertionError("a closed connection is not an answer")
        await sender.aclose()

    asyncio.run(_with_server(hang_up, body))
    assert len(attempts) == 4
