"""One client process of bench/sockets.py: opens idle, subscribed participant WebSockets as a browser does.

Reads WebSocket URLs (CreateParticipantConnection's `Websocket.Url`), one a line, from stdin until a blank
line; opens each from `--source` (a 127.0.0.x address: one address has ~28,000 ephemeral ports, so 50,000
sockets need several), offering `permessage-deflate; client_max_window_bits` as Chrome and Firefox do unless
`--no-deflate`, sends the aws/subscribe frame (compressed when the server accepted the extension, as browsers
compress) and waits for the server's first frame (the subscribe ack). Then it prints one JSON line
(opened, negotiated extension, failures) and holds every socket idle until stdin closes.

Raw asyncio protocols, not a WebSocket library: a client socket here costs a few hundred bytes, so the
client processes stay small next to the server they measure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import sys
import zlib
from urllib.parse import urlsplit

SUBSCRIBE = json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}).encode()
BROWSER_OFFER = "permessage-deflate; client_max_window_bits"
MASK = b"\x00\x00\x00\x00"  # a real mask (RFC 6455 lets it be any 4 bytes); zero keeps the payload as is


def frame(payload: bytes, compressed: bool) -> bytes:
    """One masked, final text frame; RSV1 set and the payload deflated when `compressed`."""
    if compressed:
        deflater = zlib.compressobj(wbits=-15)
        payload = (deflater.compress(payload) + deflater.flush(zlib.Z_SYNC_FLUSH))[:-4]
    first = 0x81 | (0x40 if compressed else 0)
    assert len(payload) < 126
    return bytes([first, 0x80 | len(payload)]) + MASK + payload


class IdleSocket(asyncio.Protocol):
    """Handshake, subscribe, first frame; then nothing, as an idle browser tab."""

    def __init__(self, request: bytes, subscribed: asyncio.Future[str]) -> None:
        self._request = request
        self._subscribed = subscribed
        self._buffer = b""
        self._extension: str | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self._subscribed.done():
            return
        if self._extension is None:
            self._buffer += data
            head, found, rest = self._buffer.partition(b"\r\n\r\n")
            if not found:
                return
            self._buffer = b""
            lines = head.decode("latin-1").split("\r\n")
            if " 101 " not in lines[0] + " ":
                self._subscribed.set_exception(ConnectionError(lines[0]))
                return
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            self._extension = fields.get("sec-websocket-extensions", "")
            assert self.transport is not None
            self.transport.write(frame(SUBSCRIBE, self._extension.startswith("permessage-deflate")))
            data = rest
        if data:
            self._subscribed.set_result(self._extension)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._subscribed.done():
            self._subscribed.set_exception(ConnectionError(f"closed before the subscribe ack: {exc}"))


def handshake(url: str, deflate: bool) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket"]
    lines += ["Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    lines += [f"Sec-WebSocket-Extensions: {BROWSER_OFFER}"] if deflate else []
    return parts.hostname or "127.0.0.1", parts.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode()


IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux; Python names it from 3.12


def bound_to(source: str) -> socket.socket:
    """A client socket from `source` whose port the kernel picks at connect, by the whole address pair: a bind to
    port 0 would need a port free on that address, and the sockets of the previous case, still in TIME_WAIT,
    keep thousands of them from binding for a minute."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    sock.bind((source, 0))
    sock.setblocking(False)
    return sock


async def open_one(url: str, source: str, deflate: bool, gate: asyncio.Semaphore, kept: list[object]) -> str:
    host, port, request = handshake(url, deflate)
    loop = asyncio.get_running_loop()
    async with gate:
        subscribed: asyncio.Future[str] = loop.create_future()
        sock = bound_to(source)
        try:
            await loop.sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        transport, _ = await loop.create_connection(lambda: IdleSocket(request, subscribed), sock=sock)
        kept.append(transport)
        return await asyncio.wait_for(subscribed, 60)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--no-deflate", action="store_true")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    gate, kept = asyncio.Semaphore(args.concurrency), list[object]()
    tasks: list[asyncio.Task[str]] = []
    while url := (await stdin.readline()).decode().strip():
        tasks.append(loop.create_task(open_one(url, args.source, not args.no_deflate, gate, kept)))
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    extensions = sorted({o for o in outcomes if isinstance(o, str)})
    print(json.dumps({"opened": len(tasks) - len(failures), "failures": failures[:5], "extensions": extensions}))
    sys.stdout.flush()
    await stdin.read()  # idle until the driver closes our stdin
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
