"""`/_parley/state`: domain records as the admin API's JSON (camelCase fields, grouped by owner).

Only stored records are shown, and no token is ever stored (they are derived from the secret), so no
token can appear here. Datetimes stay datetimes; the admin transport writes them as ISO-8601.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parley.chat.model import (
    Contact,
    ContactFlow,
    HoursOfOperation,
    Instance,
    Item,
    LambdaFunction,
    Participant,
    Queue,
    Scope,
    Selection,
)
from parley.chat.ports import Inventory

HIDDEN = frozenset({"seq", "persisted"})  # store bookkeeping, not state a user asked for


@dataclass(frozen=True, slots=True)
class Snapshot:
    instances: list[tuple[Scope, Instance]]
    flows: list[tuple[Scope, ContactFlow]]
    contacts: list[tuple[Scope, Contact]]
    participants: list[tuple[Scope, Participant]]
    items: list[tuple[Scope, Item]]
    queues: list[tuple[Scope, Queue]] = field(default_factory=list)
    hours: list[tuple[Scope, HoursOfOperation]] = field(default_factory=list)
    functions: list[tuple[Scope, LambdaFunction]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    queues: list[tuple[Scope, Queue]]
    waiting: list[tuple[Scope, Contact]]


def snapshot(repo: Inventory, selection: Selection) -> Snapshot:
    """One consistent read of the selection. With a contact, only that contact's instance is shown."""
    contacts = repo.select_contacts(selection)
    wide = Selection(selection.account, selection.region, selection.instance_id)
    instances = repo.select_instances(wide)
    flows = repo.select_flows(wide)
    if selection.contact_id is not None:
        shown = {(scope, contact.instance_id) for scope, contact in contacts}
        instances = [(scope, i) for scope, i in instances if (scope, i.id) in shown]
        flows = [(scope, f) for scope, f in flows if (scope, f.instance_id) in shown]
    shown_instances = {(scope, i.id) for scope, i in instances}
    return Snapshot(
        instances,
        flows,
        contacts,
        repo.select_participants(selection),
        repo.select_items(selection),
        [(scope, q) for scope, q in repo.select_queues(wide) if (scope, q.instance_id) in shown_instances],
        [(scope, h) for scope, h in repo.select_hours(wide) if (scope, h.instance_id) in shown_instances],
        [(scope, f) for scope, f in repo.select_lambda_functions(wide) if (scope, f.instance_id) in shown_instances],
    )


def queue_snapshot(repo: Inventory, selection: Selection) -> QueueSnapshot:
    wide = Selection(selection.account, selection.region, selection.instance_id)
    return QueueSnapshot(repo.select_queues(wide), repo.select_waiting(wide))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def fields_of(record: Any) -> dict[str, Any]:
    return {_camel(f.name): getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in HIDDEN}


def _scoped(scope: Scope, record: Any) -> dict[str, Any]:
    return {"account": scope.account, "region": scope.region, **fields_of(record)}


def _grouped(records: list[tuple[Scope, Any]], key: Callable[[Any], str]) -> dict[tuple[Scope, str], list[Any]]:
    groups: dict[tuple[Scope, str], list[Any]] = {}
    for scope, record in records:
        groups.setdefault((scope, key(record)), []).append(fields_of(record))
    return groups


def present(snap: Snapshot, sockets: Callable[[str], int]) -> dict[str, Any]:
    """`{"instances": [… {"flows": […]}], "contacts": [… {"sockets", "participants", "transcript"}]}`."""
    flows = _grouped(snap.flows, lambda f: f.instance_id)
    queues = _grouped(snap.queues, lambda q: q.instance_id)
    hours = _grouped(snap.hours, lambda h: h.instance_id)
    functions = _grouped(snap.functions, lambda f: f.instance_id)
    people = _grouped(snap.participants, lambda p: p.contact_id)
    items = _grouped(snap.items, lambda i: i.contact_id)
    instances = [
        {
            **_scoped(scope, inst),
            "flows": flows.get((scope, inst.id), []),
            "queues": queues.get((scope, inst.id), []),
            "hoursOfOperations": hours.get((scope, inst.id), []),
            "lambdaFunctions": functions.get((scope, inst.id), []),
        }
        for scope, inst in snap.instances
    ]
    contacts = [
        {
            **_scoped(scope, contact),
            "sockets": sockets(contact.id),
            "participants": people.get((scope, contact.id), []),
            "transcript": items.get((scope, contact.id), []),
        }
        for scope, contact in snap.contacts
    ]
    return {"instances": instances, "contacts": contacts}


def _waiting_entry(contact: Contact, now: datetime) -> dict[str, Any]:
    waited = (now - contact.enqueued_at).total_seconds() if contact.enqueued_at else 0.0
    return {
        "contactId": contact.id,
        "initialContactId": contact.chain_id,
        "enqueuedAt": contact.enqueued_at,
        "waitingSeconds": round(waited, 3),
    }


def present_queues(snap: QueueSnapshot, now: datetime) -> dict[str, Any]:
    """`{"queues": [{account, region, id, arn, name, …, "waiting": [{contactId, enqueuedAt, …}]}]}`; contacts
    past their end (the timer has not fired yet) are not waiting any more."""
    waiting: dict[tuple[Scope, str, str], list[dict[str, Any]]] = {}
    for scope, contact in snap.waiting:
        if contact.waiting_in_queue(now) and contact.queue_id is not None:
            key = (scope, contact.instance_id, contact.queue_id)
            waiting.setdefault(key, []).append(_waiting_entry(contact, now))
    shown = [
        {**_scoped(scope, q), "arn": q.arn(scope), "waiting": waiting.get((scope, q.instance_id, q.id), [])}
        for scope, q in snap.queues
    ]
    return {"queues": shown}
