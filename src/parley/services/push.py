"""Turns committed items into WebSocket frames and hands them to the bus (stream.md §4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from parley.chat import events
from parley.chat.model import Item
from parley.protocol.restjson import compile_output
from parley.protocol.spec import shape_named

_item = compile_output("connectparticipant", shape_named("connectparticipant", "Item"))
WIRE_ROLES = {"LEX_BOT": "SYSTEM"}


class Bus(Protocol):
    def publish(self, contact_id: str, frame: str) -> None: ...
    def end(self, contact_id: str, grace: float) -> None: ...
    def leave(self, contact_id: str, participant_id: str, grace: float) -> None: ...


def item_output(item: Item, related: bool = False) -> dict[str, Any]:
    """The model's `Item` for GetTranscript; a past session's item carries RelatedContactId instead."""
    wire = {
        "AbsoluteTime": item.at,
        "Content": item.content,
        "ContentType": item.content_type,
        "Id": item.id,
        "Type": item.type,
        "ParticipantId": item.participant_id,
        "DisplayName": item.display_name,
        "ParticipantRole": WIRE_ROLES.get(item.role or "", item.role),
        "Attachments": item.attachments,
        "MessageMetadata": item.message_metadata,
        "RelatedContactId": item.contact_id if related else None,
        "ContactId": None if related else item.contact_id,
    }
    return wire


def pushed_item(item: Item) -> dict[str, Any]:
    """The item as a WebSocket frame carries it (and as a stream publishes it): the model's Item plus
    InitialContactId, members the item lacks omitted."""
    body: dict[str, Any] = _item(item_output(item))
    body["InitialContactId"] = item.chain_id
    return body


def frame(item: Item) -> str:
    """`{"topic":"aws/chat","contentType":"application/json","content":"<item JSON>"}`, with InitialContactId."""
    content = json.dumps(pushed_item(item), separators=(",", ":"), ensure_ascii=False)
    return json.dumps({"topic": "aws/chat", "contentType": "application/json", "content": content}, ensure_ascii=False)


Observer = Callable[[list[Item]], None]


class Pusher:
    """Committed items to their chat's sockets; observers (the flow runner) see every pushed batch after."""

    def __init__(self, bus: Bus, ended_grace: float = 5.0) -> None:
        self._bus = bus
        self._grace = ended_grace
        self._observers: list[Observer] = []

    def observe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def push(self, items: list[Item]) -> None:
        self._send(items)
        if items:
            for observer in self._observers:
                observer(items)

    def _send(self, items: list[Item]) -> None:
        ends = any(item.content_type == events.ENDED for item in items)
        for item in items:
            self._bus.publish(item.contact_id, frame(item))
            if item.content_type == events.ENDED:
                self._bus.end(item.contact_id, self._grace)
            elif item.content_type == events.LEFT and item.participant_id and not ends:
                # Its own sockets got the participant.left above; they hear nothing more. (When the
                # chat ends too, everyone, the leaver included, must still get chat.ended.)
                self._bus.leave(item.contact_id, item.participant_id, self._grace)
