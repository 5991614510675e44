"""The streams part of the admin namespace (streaming.md §6): `/_parley/streams…`, `/_parley/sns/messages`,
and the SNS signing certificate (plain PEM, not JSON) at `/_parley/sns/cert.pem`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from parley.chat.model import Selection
from parley.services.stream_views import StreamViews
from parley.services.streams import Streamer
from parley.transport.admin_input import choose, known_keys, optional_text, whole
from parley.transport.http import Receive, Send, respond

CERT_PATH = "/_parley/sns/cert.pem"
UNSUBSCRIBE_PATH = "/_parley/sns/unsubscribe"
STATES = ("active", "stopped", "ended")


class NoSuchStream(Exception):
    def __init__(self, streaming_id: str) -> None:
        super().__init__(f"No stream {streaming_id}")
        self.message = f"No stream {streaming_id}"


class StreamAdmin:
    def __init__(self, views: StreamViews, streamer: Streamer, history: int) -> None:
        self._views = views
        self._streamer = streamer
        self._history = history

    def routes(self) -> tuple[tuple[str, str, Callable[[Any], Awaitable[tuple[int, dict[str, Any]]]]], ...]:
        return (
            ("GET", "streams", self._list),
            ("GET", "streams/([^/]+)", self._detail),
            ("POST", "streams/([^/]+)/redrive", self._redrive),
            ("DELETE", "streams/([^/]+)/dead", self._clear_dead),
            ("GET", "sns/messages", self._messages),
        )

    async def health(self) -> dict[str, int]:
        return await self._views.health()

    def reset(self, selection: Selection) -> int:
        """After a reset removed streams: captures of the selection go, and the worker starts over."""
        self._streamer.forget()
        return self._streamer.captures.clear(selection.account, selection.instance_id)

    async def _list(self, request: Any) -> tuple[int, dict[str, Any]]:
        query = request.query
        known_keys(query, ("contact", "topic", "state", "account", "region", "instance"), "streams")
        state = choose(query, "state", STATES) if "state" in query else None
        wanted = Selection(
            optional_text(query, "account"),
            optional_text(query, "region"),
            optional_text(query, "instance"),
            optional_text(query, "contact"),
        )
        return 200, await self._views.list(wanted, optional_text(query, "topic"), state)

    async def _detail(self, request: Any) -> tuple[int, dict[str, Any]]:
        found = await self._views.detail(request.labels[0], self._history)
        if found is None:
            raise NoSuchStream(request.labels[0])
        return 200, found

    async def _redrive(self, request: Any) -> tuple[int, dict[str, Any]]:
        moved = await self._views.redrive(request.labels[0])
        if moved is None:
            raise NoSuchStream(request.labels[0])
        return 200, {"requeued": moved}

    async def _clear_dead(self, request: Any) -> tuple[int, dict[str, Any]]:
        removed = await self._views.clear_dead(request.labels[0])
        if removed is None:
            raise NoSuchStream(request.labels[0])
        return 200, {"removed": removed}

    async def _messages(self, request: Any) -> tuple[int, dict[str, Any]]:
        query = request.query
        known_keys(query, ("topic", "contact", "limit"), "sns messages")
        limit = whole(query, "limit", 0) or 0
        return 200, self._views.messages(optional_text(query, "topic"), optional_text(query, "contact"), limit)

    async def raw(self, scope: dict[str, Any], receive: Receive, send: Send) -> bool:
        """The two non-JSON paths; False when the path is not one of them."""
        if scope["path"] == CERT_PATH:
            pem = await asyncio.to_thread(self._streamer.signer.certificate)
            await respond(send, 200, [(b"content-type", b"application/x-pem-file")], pem)
            return True
        if scope["path"] == UNSUBSCRIBE_PATH:  # the UnsubscribeURL points here and does nothing
            await respond(
                send, 200, [(b"content-type", b"text/plain")], b"parley: the --sns mapping is the subscription\n"
            )
            return True
        return False


def is_raw(path: str) -> bool:
    return path in (CERT_PATH, UNSUBSCRIBE_PATH)
