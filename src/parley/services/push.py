"""Turns committed items into WebSocket frames and hands them to the bus (stream.md §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from parley.chat import events
from parley.chat.model import Item, Scope
from parley.protocol.restjson import compile_output
from parley.protocol.spec import service_model

_item = compile_output("connectparticipant", service_model("connectparticipant").shape_for("Item"))
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


class Streams(Protocol):
    def notify(self, items: list[Item]) -> None: ...


class Pusher:
    """Every committed item passes here: to the contact's sockets, and a wake-up for its chain's streams
    (whose outbox rows were committed with the item)."""

    def __init__(self, bus: Bus, ended_grace: float = 5.0, streams: Streams | None = None) -> None:
        self._bus = bus
        self._grace = ended_grace
        self.streams = streams

    def push(self, items: list[Item]) -> None:
        if self.streams is not None and items:
            self.streams.notify(items)
        ends = any(item.content_type == events.ENDED for item in items)
        for item in items:
            self._bus.publish(item.contact_id, frame(item))
            if item.content_type == events.ENDED:
                self._bus.end(item.contact_id, self._grace)
            elif item.content_type == events.LEFT and item.participant_id and not ends:
                # Its own sockets got the participant.left above; they hear nothing more. (When the
                # chat ends too, everyone, the leaver included, must still get chat.ended.)
                self._bus.leave(item.contact_id, item.participant_id, self._grace)


class Timers(Protocol):
    def arm(self, scope: Scope, contact_id: str, when: datetime | None) -> None: ...


@dataclass
class AfterCommit:
    """What a handler's unit of work produced that must reach the loop only once it has committed:
    items to push and deadlines to (re)arm. `present` may run on the store's writer thread, so it
    only records them here."""

    items: list[Item] = field(default_factory=list)
    deadlines: list[tuple[Scope, str, datetime | None]] = field(default_factory=list)

    def apply(self, pusher: Pusher, timers: Timers) -> None:
        pusher.push(self.items)
        for scope, contact_id, when in self.deadlines:
            timers.arm(scope, contact_id, when)
