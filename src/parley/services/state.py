"""`/_parley/state`: domain records as the admin API's JSON (camelCase fields, grouped by owner).

Only stored records are shown, and no token is ever stored (they are derived from the secret), so no
token can appear here. Datetimes stay datetimes; the admin transport writes them as ISO-8601.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.chat.model import Contact, ContactFlow, Instance, Item, Participant, Scope, Selection
from parley.chat.ports import Inventory

HIDDEN = frozenset({"seq", "persisted"})  # store bookkeeping, not state a user asked for


@dataclass(frozen=True, slots=True)
class Snapshot:
    instances: list[tuple[Scope, Instance]]
    flows: list[tuple[Scope, ContactFlow]]
    contacts: list[tuple[Scope, Contact]]
    participants: list[tuple[Scope, Participant]]
    items: list[tuple[Scope, Item]]


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
    return Snapshot(instances, flows, contacts, repo.select_participants(selection), repo.select_items(selection))


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
    people = _grouped(snap.participants, lambda p: p.contact_id)
    items = _grouped(snap.items, lambda i: i.contact_id)
    instances = [{**_scoped(scope, inst), "flows": flows.get((scope, inst.id), [])} for scope, inst in snap.instances]
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
