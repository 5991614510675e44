"""The web console at `/_parley/ui/`: its static files (the `parley.web` package data, plain ES modules),
its live feed (`/_parley/ui/events`, server-sent events) and the two reads it needs beyond the admin API
(`/_parley/ui/api/contacts`, `/_parley/ui/api/attachments/{id}`).

The feed is fed by taps, never by polling: `FeedBus` sits in front of the bus the Pusher publishes to
(every committed item, as its WebSocket frame) and the request log tells it every AWS request. Each
browser gets a bounded queue; one that falls behind is told to reload instead of slowing anything down.
The console changes nothing itself: the browser calls the AWS APIs and the admin API like any client.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from parley.chat.errors import DomainError
from parley.chat.model import Selection
from parley.services.console import ConsoleService
from parley.services.push import Bus
from parley.transport.admin import encode
from parley.transport.admin_input import BadInput, known_keys, optional_text
from parley.transport.http import Receive, Send, read_body
from parley.transport.request_log import Entry, view

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

log = logging.getLogger("parley.console")
PREFIX = "/_parley/ui"
FILE = re.compile(r"^/_parley/ui/([a-z0-9_-]+\.(?:js|css|html|png|svg))$")
ATTACHMENT = re.compile(r"^/_parley/ui/api/attachments/([^/]+)$")
TYPES = {
    "js": b"text/javascript; charset=utf-8",
    "css": b"text/css; charset=utf-8",
    "html": b"text/html; charset=utf-8",
    "png": b"image/png",
    "svg": b"image/svg+xml",
}
QUEUE_LIMIT = 10_000  # messages waiting for one browser before it is told to reload
KEEPALIVE_SECONDS = 15.0
Headers = list[tuple[bytes, bytes]]


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    await _send(send, status, [(b"content-type", b"application/json")], encode(payload))


class Listener:
    """One browser's feed: messages waiting to be written, and whether it fell too far behind."""

    def __init__(self) -> None:
        self.waiting: collections.deque[str] = collections.deque()
        self.ready = asyncio.Event()
        self.overflowed = False

    def offer(self, message: str) -> None:
        if len(self.waiting) >= QUEUE_LIMIT:
            self.overflowed = True
        else:
            self.waiting.append(message)
        self.ready.set()


class ConsoleFeed:
    """What happened, for every open console: items (as their WebSocket frame) and AWS requests."""

    def __init__(self) -> None:
        self._listeners: set[Listener] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None

    def open(self) -> Listener:
        self._loop, self._thread = asyncio.get_running_loop(), threading.get_ident()
        listener = Listener()
        self._listeners.add(listener)
        return listener

    def close(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    @property
    def watched(self) -> bool:
        return bool(self._listeners)

    def item(self, contact_id: str, frame: str) -> None:
        if self._listeners:
            self._offer(f'{{"type":"item","contact":{json.dumps(contact_id)},"frame":{frame}}}')

    def request(self, entry: Entry) -> None:
        if self._listeners:
            shown = view(entry)
            del shown["request"], shown["response"]
            self._offer(json.dumps({"type": "request", "entry": shown}, ensure_ascii=False))

    def _offer(self, message: str) -> None:
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self._offer, message)  # a push from a worker thread
            return
        for listener in tuple(self._listeners):
            listener.offer(message)


class FeedBus:
    """The bus the Pusher publishes to, telling the console's feed every frame first."""

    def __init__(self, bus: Bus, feed: ConsoleFeed) -> None:
        self._bus = bus
        self._feed = feed

    def publish(self, contact_id: str, frame: str) -> None:
        self._feed.item(contact_id, frame)
        self._bus.publish(contact_id, frame)

    def end(self, contact_id: str, grace: float) -> None:
        self._bus.end(contact_id, grace)

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        self._bus.leave(contact_id, participant_id, grace)


def _file(name: str) -> Traversable | None:
    from importlib import resources  # loaded by the console's first file, not at start-up

    candidate = resources.files("parley.web").joinpath(name)
    return candidate if candidate.is_file() else None


class Console:
    def __init__(self, service: ConsoleService, feed: ConsoleFeed) -> None:
        self._service = service
        self._feed = feed

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if method not in ("GET", "HEAD"):
            await read_body(receive, 0)
            await _json(send, 405, {"error": "MethodNotAllowed", "message": f"{path} answers GET"})
        elif path == PREFIX + "/events":
            await self._events(receive, send)
        elif path == PREFIX + "/api/contacts":
            await self._contacts(scope, send)
        elif match := ATTACHMENT.match(path):
            await self._attachment(send, match.group(1))
        else:
            await self._static(send, path)

    async def _static(self, send: Send, path: str) -> None:
        if path in (PREFIX, PREFIX + "/"):
            path = PREFIX + "/index.html"
        match = FILE.match(path)
        found = _file(match.group(1)) if match else None
        if found is None:
            await _json(send, 404, {"error": "NotFound", "message": f"The console has no file at {path}"})
            return
        kind = TYPES[found.name.rsplit(".", 1)[1]]
        await _send(send, 200, [(b"content-type", kind), (b"x-content-type-options", b"nosniff")], found.read_bytes())

    async def _contacts(self, scope: dict[str, Any], send: Send) -> None:
        query = {k: v[0] for k, v in _parsed(scope).items()}
        try:
            known_keys(query, ("account", "region", "instance", "contact"), "console contacts")
            wanted = Selection(*(optional_text(query, k) for k in ("account", "region", "instance", "contact")))
        except BadInput as error:
            await _json(send, 400, {"error": "InvalidRequest", "message": error.message})
            return
        await _json(send, 200, {"contacts": await self._service.contacts(wanted)})

    async def _attachment(self, send: Send, attachment_id: str) -> None:
        try:
            found = await self._service.attachment(attachment_id)
        except DomainError as error:
            await _json(send, 404, {"error": "NotFound", "message": error.message})
            return
        headers = [
            (b"content-type", found.content_type.encode("latin-1", "replace")),
            (b"content-disposition", f"inline; filename*=UTF-8''{quote(found.name)}".encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", b"sandbox"),  # an uploaded HTML file must not run as the console
        ]
        await _send(send, 200, headers, found.data)

    async def _events(self, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        hello = b"retry: 1000\nevent: hello\ndata: {}\n\n"  # the browser reconnects after 1 s
        await send({"type": "http.response.body", "body": hello, "more_body": True})
        listener = self._feed.open()
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await self._stream(listener, send, gone)
        finally:
            self._feed.close(listener)
            gone.cancel()

    @staticmethod
    async def _stream(listener: Listener, send: Send, gone: asyncio.Future[None]) -> None:
        while not gone.done():
            ready = asyncio.ensure_future(listener.ready.wait())
            await asyncio.wait((ready, gone), timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if gone.done():
                return
            listener.ready.clear()
            if listener.overflowed:
                await send({"type": "http.response.body", "body": b"event: overflow\ndata: {}\n\n"})
                return
            batch = [f"data: {listener.waiting.popleft()}\n\n" for _ in range(len(listener.waiting))]
            chunk = "".join(batch) if batch else ": keepalive\n\n"
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _parsed(scope: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(scope.get("query_string", b"").decode("latin-1"))
