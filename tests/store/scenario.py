"""Records and a populated state for the store tests: two scopes, instances with what they own, chats with
participants, transcripts, attachments, flow records, a queued contact, a stream with its outbox, views and
ClientToken records. Times are whole seconds, so the SQLite store's epoch-second round trip is exact."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from parley.chat.flow_record import FlowRecord
from parley.chat.model import (
    Attachment,
    Contact,
    ContactFlow,
    HoursOfOperation,
    Instance,
    Item,
    LambdaFunction,
    Participant,
    Queue,
    Scope,
    Stream,
    View,
)
from parley.chat.ports import UnitOfWork
from parley.store.memory.store import MemoryStore
from parley.store.sqlite import SqliteStore

T = TypeVar("T")
Store = SqliteStore | MemoryStore
A = Scope("111122223333", "us-east-1")
B = Scope("444455556666", "eu-west-2")
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def run(store: Store, unit: Callable[[UnitOfWork], T]) -> T:
    return asyncio.run(store.run(unit))


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def instance(instance_id: str, alias: str | None = None) -> Instance:
    return Instance(instance_id, alias or f"alias-{instance_id}", "CONNECT_MANAGED", True, True, None, at(0))


def contact(contact_id: str, instance_id: str = "i1", end: float = 60, **fields: Any) -> Contact:
    return Contact(contact_id, instance_id, "CHAT", "API", "f1", at(0), at(end), **fields)


def participant(participant_id: str, contact_id: str, role: str = "CUSTOMER", **fields: Any) -> Participant:
    return Participant(participant_id, contact_id, "i1", role, "Ann", at(0), **fields)


def item(item_id: str, contact_id: str, chain_id: str | None = None, **fields: Any) -> Item:
    return Item(item_id, contact_id, chain_id or contact_id, "MESSAGE", at(1), "text/plain", item_id, **fields)


def populate(repo: UnitOfWork) -> None:
    """Two scopes, instances with flows, queues, hours and functions, chats with participants, transcripts,
    attachments, flow records, a queued contact, a stream with its outbox, views and ClientToken records."""
    for scope, prefix in ((A, "a"), (B, "b")):
        for n in (3, 1, 2):
            repo.put_instance(scope, instance(f"{prefix}{n}"))
            iid = f"{prefix}{n}"
            for m in (2, 1):
                kind = "CONTACT_FLOW" if m == 1 else "AGENT_WHISPER"
                repo.put_flow(scope, ContactFlow(f"f{m}", iid, f"flow {m}", kind, "{}", "PUBLISHED", None, "x", at(0)))
                repo.put_queue(scope, Queue(f"q{m}", iid, f"queue {m}", "h1", at(0)))
                repo.put_hours(scope, HoursOfOperation(f"h{m}", iid, "Basic", at(0)))
            repo.put_lambda_function(scope, LambdaFunction(iid, f"arn:fn:{prefix}", at(0)))
        for n, end in ((1, 60), (2, 5), (3, 120)):
            cid = f"{prefix}c{n}"
            repo.put_contact(scope, contact(cid, f"{prefix}1", end=end, attributes={"k": "v"}))
            repo.put_participant(scope, participant(f"{cid}-p1", cid))
            repo.put_participant(scope, participant(f"{cid}-p2", cid, role="AGENT"))
            repo.append_item(scope, item(f"{cid}-m1", cid))
            repo.append_item(scope, item(f"{cid}-m2", cid, persisted=False))
            repo.put_attachment(
                scope, Attachment(f"{cid}-at", cid, cid, f"{cid}-p1", "a.pdf", "application/pdf", 3, at(0))
            )
            repo.put_attachment_data(scope, f"{cid}-at", b"pdf")
            repo.put_flow_record(scope, FlowRecord(cid, f"{prefix}1", closed=n == 2, pending=[("queue", "f1")]))
            repo.put_idempotent(scope, f"StartChatContact\x1f{prefix}1\x1f{n}", "fp", "{}", at(10))
        queued = contact(f"{prefix}q", f"{prefix}1", queue_id="q1", enqueued_at=at(2))
        repo.put_contact(scope, queued)
        repo.put_contact(scope, contact(f"{prefix}c4", f"{prefix}1", initial_contact_id=f"{prefix}c1"))
        repo.put_stream(
            scope, Stream(f"{prefix}s", f"{prefix}1", f"{prefix}c1", f"{prefix}c1", "arn:t", "capture", at(0))
        )
        repo.stream_item(scope, item(f"{prefix}streamed", f"{prefix}c1", seq=99))
        repo.put_view(scope, View("v", "view", 1, {"a": [1, {"b": 2}]}, f"{prefix}token", "arn:v"))
        repo.put_idempotent(Scope("111122223333", f"{prefix}c1-p1"), "SendMessage\x1fk", "fp", "{}", at(10))
