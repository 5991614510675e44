"""Domain records for the store contract suite, with what a test varies as keywords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.chat.model import (
    Attachment,
    Contact,
    ContactFlow,
    HoursOfOperation,
    Instance,
    Item,
    LambdaFunction,
    Queue,
    Scope,
    Stream,
)

SCOPE = Scope("111122223333", "us-east-1")
OTHER = Scope("444455556666", "eu-west-2")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
INSTANCE = "11111111-1111-4111-8111-111111111111"


def instance(instance_id: str = INSTANCE, alias: str | None = "support") -> Instance:
    return Instance(instance_id, alias, "CONNECT_MANAGED", True, False, None, NOW, tags={"team": "a"})


def flow(flow_id: str, name: str, kind: str = "CONTACT_FLOW") -> ContactFlow:
    return ContactFlow(flow_id, INSTANCE, name, kind, '{"Version":"2019-10-30"}', "PUBLISHED", None, "sha", NOW)


def contact(contact_id: str, at: datetime = NOW, chain: str | None = None, minutes: int = 60) -> Contact:
    return Contact(
        contact_id,
        INSTANCE,
        "CHAT",
        "API",
        "flow-1",
        at,
        at + timedelta(minutes=minutes),
        initial_contact_id=chain,
        attributes={"name": "Ada"},
    )


def queued(contact_id: str, queue_id: str, at: datetime) -> Contact:
    waiting = contact(contact_id, at)
    waiting.queue_id, waiting.enqueued_at = queue_id, at
    return waiting


def item(item_id: str, contact_id: str, kind: str = "MESSAGE", persisted: bool = True, text: str = "hi") -> Item:
    return Item(
        item_id, contact_id, contact_id, kind, NOW, "text/plain", text, "p-1", "Ada", "CUSTOMER", persisted=persisted
    )


def attachment(attachment_id: str, contact_id: str) -> Attachment:
    return Attachment(attachment_id, contact_id, contact_id, "p-1", "a.txt", "text/plain", 3, NOW)


def queue(queue_id: str, name: str) -> Queue:
    return Queue(queue_id, INSTANCE, name, "hours-1", NOW)


def hours(hours_id: str, name: str) -> HoursOfOperation:
    return HoursOfOperation(hours_id, INSTANCE, name, NOW)


def function(arn: str) -> LambdaFunction:
    return LambdaFunction(INSTANCE, arn, NOW)


def stream(stream_id: str, chain: str, kinds: list[str] | None = None) -> Stream:
    return Stream(stream_id, INSTANCE, chain, chain, "arn:aws:sns:us-east-1:1:t", "capture", NOW, kinds or ["MESSAGE"])
