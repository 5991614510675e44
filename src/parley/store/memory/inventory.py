"""The `Inventory` port in memory: the admin API's view across scopes, and removing a selection.

Orders and counts are the SQLite store's (sql_inventory.py): rows hang off contacts by (account, region,
id) and transcripts by (account, region, chain_id); ClientToken records go with what they were issued for.
"""

from __future__ import annotations

from typing import Any

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
    Removed,
    Scope,
    Selection,
)
from parley.store.memory.chats import CONTACT_OF, ITEM_CHAIN, ITEM_PERSISTED, active_entry
from parley.store.memory.copies import Row, field, thaw
from parley.store.memory.outbox import MemoryStreams
from parley.store.memory.state import MISSING, Key, Owned

OWNED_COUNTS = (
    ("flows", "flows"),
    ("queues", "queues"),
    ("hoursOfOperations", "hours"),
    ("lambdaFunctions", "lambda_functions"),
)  # count -> table


def selects(selection: Selection, account: str, region: str, instance_id: str | None = None) -> bool:
    return (
        selection.account in (None, account)
        and selection.region in (None, region)
        and selection.instance_id in (None, instance_id)
    )


CONTACT_INSTANCE = field(Contact, "instance_id")
ATTACHMENT_CONTACT = field(Attachment, "contact_id")


def _scoped(rows: dict[Any, Row], cls: type[Any], selection: Selection, order: Any) -> list[tuple[Scope, Any]]:
    """Records of an instance-owned table the selection covers, sorted by `order(key, record)`."""
    found = [(key, thaw(cls, row)) for key, row in rows.items() if selects(selection, key[0], key[1], key[2])]
    found.sort(key=lambda pair: order(*pair))
    return [(Scope(key[0], key[1]), record) for key, record in found]


class MemoryInventory(MemoryStreams):
    def select_instances(self, selection: Selection) -> list[tuple[Scope, Instance]]:
        return _scoped(self.instances, Instance, selection, lambda key, row: key)

    def select_flows(self, selection: Selection) -> list[tuple[Scope, ContactFlow]]:
        return _scoped(self.flows, ContactFlow, selection, lambda key, row: (*key[:3], row.name, key[3]))

    def select_queues(self, selection: Selection) -> list[tuple[Scope, Queue]]:
        return _scoped(self.queues, Queue, selection, lambda key, row: (*key[:3], row.name, key[3]))

    def select_hours(self, selection: Selection) -> list[tuple[Scope, HoursOfOperation]]:
        return _scoped(self.hours, HoursOfOperation, selection, lambda key, row: (*key[:3], row.name, key[3]))

    def select_lambda_functions(self, selection: Selection) -> list[tuple[Scope, LambdaFunction]]:
        return _scoped(self.lambda_functions, LambdaFunction, selection, lambda key, row: key)

    def select_waiting(self, selection: Selection) -> list[tuple[Scope, Contact]]:
        """Contacts waiting in a queue (not accepted, not ended), the longest-waiting first."""
        rows = [
            (row[2], key)
            for key, row in self.queued.items()
            if selects(selection, key[0], key[1], row[0]) and key in self.contacts
        ]
        rows.sort(key=lambda pair: (pair[0], pair[1][2]))
        return [(Scope(key[0], key[1]), thaw(Contact, self.contacts[key])) for _, key in rows]

    def _selected_contacts(self, selection: Selection) -> list[tuple[Key, Contact]]:
        """The selected contacts, as new records."""
        if selection.contact_id is not None:
            scopes = self.members(self.contact_scopes, selection.contact_id)
            rows = [((a, r, selection.contact_id), self.contacts[(a, r, selection.contact_id)]) for a, r in scopes]
        else:
            rows = list(self.contacts.items())
        return [(k, thaw(Contact, row)) for k, row in rows if selects(selection, k[0], k[1], row[CONTACT_INSTANCE])]

    def select_contacts(self, selection: Selection) -> list[tuple[Scope, Contact]]:
        found = self._selected_contacts(selection)
        found.sort(key=lambda pair: (pair[1].initiated_at.timestamp(), pair[0][2]))
        return [(Scope(key[0], key[1]), contact) for key, contact in found]

    def select_participants(self, selection: Selection) -> list[tuple[Scope, Participant]]:
        keys = [
            (key[0], key[1], participant_id)
            for key, _ in self._selected_contacts(selection)
            for participant_id in self.contact_participants.get(key, ())
        ]
        rows = self.participant_rows
        ordered = self.by_rowid(self.participant_rowids, keys)
        return [(Scope(key[0], key[1]), thaw(Participant, rows[key])) for key in ordered]

    def select_items(self, selection: Selection) -> list[tuple[Scope, Item]]:
        """Transcript items (persisted ones) of the selected contacts, in arrival order."""
        chains = {(key[0], key[1], contact.chain_id) for key, contact in self._selected_contacts(selection)}
        seqs = sorted(seq for chain in chains for seq in self.chain_item_seqs.get(chain, ()))
        found = []
        for seq in seqs:
            account, region, row = self.items[seq]
            item = thaw(Item, row) if row[ITEM_PERSISTED] else None
            if item is not None and selection.contact_id in (None, item.contact_id):
                found.append((Scope(account, region), item))
        return found

    # removal -----------------------------------------------------------------------------------------
    def remove(self, selection: Selection) -> Removed:
        if selection.contact_id is not None:
            raise ValueError("a removal selects accounts, regions or instances, not one contact")
        selected = self._selected_contacts(selection)
        counts = {"idempotencyRecords": self._remove_client_tokens(selection, selected)}
        if selection.instance_id is None:  # views belong to an account and region, not to an instance
            views = [k for k in self.views if selects(Selection(selection.account, selection.region), k[0], k[1])]
            counts["views"] = sum(self._drop(self.views, k) is not MISSING for k in views)
        counts.update(self._remove_chats(selected))
        for key in [k for k, row in self.queued.items() if selects(selection, k[0], k[1], row[0])]:
            self.drop_queued(key)
        counts["contacts"] = len(selected)
        for key, _ in selected:
            self._drop_contact(key)
        for name, kind in OWNED_COUNTS:
            table: dict[Owned, Any] = getattr(self, kind)
            keys = [k for k in table if selects(selection, k[0], k[1], k[2])]
            counts[name] = sum(self._drop_owned(kind, table, k) for k in keys)
        instances = [k for k in self.instances if selects(selection, k[0], k[1], k[2])]
        for key in instances:
            self._drop(self.instances, key)
            self._discard(self.scope_instances, key[:2], key[2])
        counts["instances"] = len(instances)
        streams = [k for k, row in self.streams.items() if selects(selection, k[0], k[1], row.stream.instance_id)]
        messages = sum(self.drop_stream(key) for key in streams)
        counts["streams"], counts["streamMessages"] = len(streams), messages
        if selection == Selection():  # everything: arrival numbers restart too, as on a fresh server
            self._put(self.sequences, "items", 0)
        return Removed(counts, [(Scope(key[0], key[1]), key[2]) for key, _ in selected])

    def _remove_chats(self, selected: list[tuple[Key, Contact]]) -> dict[str, int]:
        contacts = {key for key, _ in selected}
        chains = {(key[0], key[1], contact.chain_id) for key, contact in selected}
        attachments = [(c[0], c[1], a) for c in contacts for a in self.members(self.contact_attachments, c)]
        for key in attachments:
            self._drop_attachment(key)
        runs = [key for key in contacts if key in self.flow_runs]
        for key in runs:
            self._drop(self.flow_runs, key)
            self._drop(self.run_rowids, key)
            self._drop(self.live_runs, key)
        seqs = [seq for chain in chains for seq in self.chain_item_seqs.get(chain, ())]
        for seq in seqs:
            account, region, row = self._drop(self.items, seq)
            self._discard(self.chain_item_seqs, (account, region, row[ITEM_CHAIN]), seq)
        participants = [(c[0], c[1], p) for c in contacts for p in self.members(self.contact_participants, c)]
        for key in participants:
            self._drop_participant(key)
        return {
            "attachments": len(attachments),
            "flowRuns": len(runs),
            "items": len(seqs),
            "participants": len(participants),
        }

    def _drop_contact(self, key: Key) -> None:
        kept = self._drop(self.contacts, key)
        if kept is MISSING:
            return
        contact = thaw(Contact, kept)
        self._drop(self.contact_rowids, key)
        self._discard(self.contact_scopes, key[2], key[:2])
        self._discard(self.chain_contacts, (key[0], key[1], contact.chain_id), key[2])
        entry = active_entry(contact)
        if entry is not None:
            self._unsort(self.active[(key[0], key[1], contact.instance_id)], entry)

    def _drop_participant(self, key: Key) -> None:
        participant = self._drop(self.participant_rows, key)
        self._drop(self.participant_rowids, key)
        self._discard(self.contact_participants, (key[0], key[1], participant[CONTACT_OF]), key[2])
        self._discard(self.participant_scopes, key[2], key[:2])

    def _drop_attachment(self, key: Key) -> None:
        attachment = self._drop(self.attachments, key)
        self._drop(self.attachment_bytes, key)
        self._discard(self.contact_attachments, (key[0], key[1], attachment[ATTACHMENT_CONTACT]), key[2])
        self._discard(self.attachment_scopes, key[2], key[:2])

    def _remove_client_tokens(self, selection: Selection, selected: list[tuple[Key, Contact]]) -> int:
        """As the SQLite store: the Participant Service keeps them per participant (the participant's id in the
        region column); Connect's key holds the InstanceId between separators, and a CreateInstance record
        names the instance in its stored response."""
        if selection == Selection():
            keys = list(self.idempotency)
        else:
            owners = {p for key, _ in selected for p in self.contact_participants.get(key, ())}
            scope = Selection(selection.account, selection.region)
            instance = selection.instance_id
            keys = [
                k
                for k, record in self.idempotency.items()
                if k[1] in owners
                or (
                    selects(scope, k[0], k[1])
                    and (instance is None or f"\x1f{instance}\x1f" in k[2] or instance in record[1])
                )
            ]
        for key in keys:
            self._drop(self.idempotency, key)
        return len(keys)
