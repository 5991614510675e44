"""The load generator of bench/latency.py: chats with two subscribed WebSockets each, and an open-loop sender.

Everything here runs on one asyncio loop in the client process; the server is another process. HTTP is
raw HTTP/1.1 over keep-alive asyncio streams (one request in flight per connection, no new dependency).
A message's latency on a socket is the time from just before its POST is written to the moment that
socket's reader has the frame; both instants come from `time.perf_counter()` in this process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MARKER = "bench-seq-"  # a message's Content is MARKER + its sequence number, DIGITS wide
DIGITS = 9
ROLES = ("customer", "bot")
SUBSCRIBE = json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}})
INSTANCE: dict[str, Any] = {"IdentityManagementType": "CONNECT_MANAGED", "InstanceAlias": "latency"}
INSTANCE |= {"InboundCallsEnabled": True, "OutboundCallsEnabled": True}
CONNECTION = {"Type": ["WEBSOCKET", "CONNECTION_CREDENTIALS"], "ConnectParticipant": True}


class LoadError(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    body: bytes
    written: float  # perf_counter just before the request was written
    answered: float  # perf_counter once the whole response was read

    def json(self) -> Any:
        if self.status // 100 != 2:
            raise LoadError(f"HTTP {self.status}: {self.body[:300]!r}")
        return json.loads(self.body)


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; the server must answer with a Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host
        self.reusable = True

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, f"{host}:{port}")

    async def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Response:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        written = time.perf_counter()
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in head[1:])}
        if "content-length" not in fields:
            raise LoadError(f"{method} {path}: a response without Content-Length: {head}")
        payload = await self._reader.readexactly(int(fields["content-length"]))
        self.reusable = fields.get("connection", "").lower() != "close"
        return Response(int(head[0].split(" ", 2)[1]), payload, written, time.perf_counter())

    def close(self) -> None:
        self._writer.close()


class HttpPool:
    """Keep-alive connections shared by every request; grows up to `limit`, then requests wait for one."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self._limit = host, port, limit
        self._idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
        self.opened = 0

    async def warm(self, count: int) -> None:
        fresh = await asyncio.gather(*(self._open() for _ in range(min(count, self._limit) - self.opened)))
        for conn in fresh:
            self._idle.put_nowait(conn)

    async def _open(self) -> HttpConnection:
        self.opened += 1
        return await HttpConnection.open(self.host, self.port)

    async def _acquire(self) -> HttpConnection:
        if not self._idle.empty() or self.opened >= self._limit:
            return await self._idle.get()
        return await self._open()

    async def request(self, method: str, path: str, payload: Any, bearer: str | None = None) -> Response:
        headers = {"Content-Type": "application/json", **({"X-Amz-Bearer": bearer} if bearer else {})}
        conn = await self._acquire()
        try:
            response = await conn.request(method, path, json.dumps(payload).encode(), headers)
        except BaseException:
            self.opened -= 1
            conn.close()
            raise
        if conn.reusable:
            self._idle.put_nowait(conn)
        else:
            self.opened -= 1
            conn.close()
        return response

    async def call(self, method: str, path: str, payload: Any = None, bearer: str | None = None) -> Any:
        return (await self.request(method, path, {} if payload is None else payload, bearer)).json()

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()


@dataclass
class Socket:
    index: int
    chat: int
    role: str
    connection_token: str
    ws: ClientConnection


@dataclass
class Receipt:
    seq: int
    socket: int
    at: float


@dataclass
class Fleet:
    """Every chat's two sockets (socket 2c is chat c's customer, 2c+1 its bot) and what they received."""

    deflate: bool = True
    sockets: list[Socket] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)  # sockets the server closed
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def chats(self) -> int:
        return len(self.sockets) // 2

    async def listen(self, sock: Socket) -> None:
        try:
            async for frame in sock.ws:
                at = time.perf_counter()
                if isinstance(frame, str) and (k := frame.find(MARKER)) >= 0:
                    start = k + len(MARKER)
                    self.receipts.append(Receipt(int(frame[start : start + DIGITS]), sock.index, at))
        except ConnectionClosed:
            pass
        self.closed.append(sock.index)

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(s.ws.close() for s in self.sockets), return_exceptions=True)


TokenSource = Callable[[HttpPool, int], Awaitable[tuple[str, str]]]


def bare_tokens() -> TokenSource:
    """The bare app takes any bearer: `CHAT:ROLE` names the chat it fans out to."""

    async def tokens(pool: HttpPool, chat: int) -> tuple[str, str]:
        return f"{chat}:customer", f"{chat}:bot"

    return tokens


async def parley_tokens(pool: HttpPool) -> TokenSource:
    """One instance; each chat is a StartChatContact (customer) and a CreateParticipant (custom bot)."""
    instance = (await pool.call("PUT", "/instance", INSTANCE))["Id"]
    flows = (await pool.call("GET", f"/contact-flows-summary/{instance}"))["ContactFlowSummaryList"]
    flow = next(f for f in flows if f["Name"] == "Default inbound flow")["Id"]

    async def tokens(pool: HttpPool, chat: int) -> tuple[str, str]:
        start = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": f"c{chat}"}}
        started = await pool.call("PUT", "/contact/chat", start)
        bot = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": f"bot{chat}"}
        create = {"InstanceId": instance, "ContactId": started["ContactId"], "ParticipantDetails": bot}
        created = await pool.call("POST", "/contact/create-participant", create)
        return started["ParticipantToken"], created["ParticipantCredentials"]["ParticipantToken"]

    return tokens


async def subscribe(pool: HttpPool, participant_token: str, deflate: bool) -> tuple[str, ClientConnection]:
    """CreateParticipantConnection, open the WebSocket, subscribe to aws/chat, await the ack.
    Browsers offer permessage-deflate, and uvicorn accepts it: `deflate` does the same."""
    out = await pool.call("POST", "/participant/connection", CONNECTION, participant_token)
    compression = "deflate" if deflate else None
    ws = await connect(out["Websocket"]["Url"], ping_interval=None, open_timeout=30, compression=compression)
    await ws.send(SUBSCRIBE)
    while '"aws/subscribe"' not in str(await asyncio.wait_for(ws.recv(), 30)):
        pass
    return out["ConnectionCredentials"]["ConnectionToken"], ws


async def join_chat(pool: HttpPool, tokens: TokenSource, fleet: Fleet, chat: int, gate: asyncio.Semaphore) -> None:
    async with gate:
        for role, token in zip(ROLES, await tokens(pool, chat), strict=True):
            connection_token, ws = await subscribe(pool, token, fleet.deflate)
            sock = Socket(2 * chat + ROLES.index(role), chat, role, connection_token, ws)
            fleet.sockets.append(sock)
            fleet.readers.append(asyncio.get_running_loop().create_task(fleet.listen(sock)))


async def build_fleet(pool: HttpPool, tokens: TokenSource, chats: int, concurrency: int, deflate: bool) -> Fleet:
    fleet, gate = Fleet(deflate=deflate), asyncio.Semaphore(concurrency)
    await asyncio.gather(*(join_chat(pool, tokens, fleet, chat, gate) for chat in range(chats)))
    fleet.sockets.sort(key=lambda s: s.index)
    return fleet


@dataclass
class Sent:
    seq: int
    sender: int  # socket index of the sending participant
    due: float  # when the open-loop schedule said to send it
    response: Response


async def send_one(pool: HttpPool, fleet: Fleet, seq: int, due: float) -> Sent:
    chat = seq % fleet.chats
    sender = fleet.sockets[2 * chat + (seq // fleet.chats) % 2]  # customer and bot take turns on each chat
    body = {"ContentType": "text/plain", "Content": f"{MARKER}{seq:0{DIGITS}d}", "ClientToken": str(uuid.uuid4())}
    response = await pool.request("POST", "/participant/message", body, sender.connection_token)
    return Sent(seq, sender.index, due, response)


async def open_loop(pool: HttpPool, fleet: Fleet, rate: float, seconds: float, first_seq: int) -> list[Sent]:
    """Message k is due at start + k/rate, whether or not earlier ones were answered (open loop)."""
    loop, start = asyncio.get_running_loop(), time.perf_counter() + 0.05
    tasks = []
    for k in range(round(rate * seconds)):
        due = start + k / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(send_one(pool, fleet, first_seq + k, due)))
    return await asyncio.gather(*tasks)


async def drain(fleet: Fleet, first_receipt: int, expected: int, timeout: float, settle: float = 0.3) -> None:
    """Wait for `expected` receipts after index `first_receipt`, then `settle` more for duplicates."""
    deadline = time.perf_counter() + timeout
    while len(fleet.receipts) - first_receipt < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(settle)
