"""Contacts, participants, transcripts, attachments, flow records and ClientToken records: the chat side of
the `Repo` port and the `Idempotency` port, in memory."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime

from parley.chat.flow_record import FlowRecord
from parley.chat.model import Attachment, Contact, Item, Participant, Scope
from parley.store.memory.catalog import MemoryCatalog
from parley.store.memory.copies import field, freeze, thaw
from parley.store.memory.state import MISSING, Key, Queued, TokenRecord

SWEEP_EVERY = 1024  # idempotency lookups between two deletions of expired records (as the SQLite store)
LAST = "\U0010ffff"  # sorts after every id
ENDED_AT = field(Contact, "ended_at")  # where a kept contact's end sits in its row
CONTACT_OF = field(Participant, "contact_id")
ITEM_CHAIN, ITEM_TYPE, ITEM_PERSISTED = (field(Item, name) for name in ("chain_id", "type", "persisted"))


def active_entry(contact: Contact) -> tuple[str, float, str] | None:
    return None if contact.ended_at else (contact.channel, contact.scheduled_end.timestamp(), contact.id)


class MemoryChats(MemoryCatalog):
    _lookups = 0  # idempotency lookups so far

    # contacts ----------------------------------------------------------------------------------------
    def get_contact(self, scope: Scope, contact_id: str) -> Contact | None:
        found = self.contacts.get((scope.account, scope.region, contact_id))
        return thaw(Contact, found) if found is not None else None

    def put_contact(self, scope: Scope, contact: Contact) -> None:
        account, region = scope.account, scope.region
        kept = self._put(self.contacts, (account, region, contact.id), freeze(contact))
        old = None if kept is MISSING else thaw(Contact, kept)
        self._stamp(self.contact_rowids, (account, region, contact.id))
        if old is None:
            self._add(self.contact_scopes, contact.id, self.scope_key(account, region))
        if old is None or old.chain_id != contact.chain_id:
            if old is not None:
                self._discard(self.chain_contacts, (account, region, old.chain_id), contact.id)
            self._add(self.chain_contacts, (account, region, contact.chain_id), contact.id)
        self._index_active(account, region, old, contact)
        if contact.enqueued_at is not None:  # as SQLite: a contact never queued leaves the index alone
            self._index_queued((account, region, contact.id), contact)

    def _index_active(self, account: str, region: str, old: Contact | None, contact: Contact) -> None:
        before = None if old is None else (old.instance_id, active_entry(old))
        after = (contact.instance_id, active_entry(contact))
        if before == after:
            return
        if before is not None and before[1] is not None:
            self._unsort(self.active[(account, region, before[0])], before[1])
        if after[1] is not None:
            entries = self.active.get((account, region, after[0]))
            if entries is None:
                entries = []
                self._put(self.active, (account, region, after[0]), entries)
            self._insort(entries, after[1])

    def _index_queued(self, key: Key, contact: Contact) -> None:
        if contact.accepted_at is None and contact.ended_at is None and contact.queue_id is not None:
            enqueued = contact.enqueued_at.timestamp() if contact.enqueued_at else 0.0
            row: Queued = (contact.instance_id, contact.queue_id, enqueued, contact.scheduled_end.timestamp())
            self.drop_queued(key)
            self._put(self.queued, key, row)
            self._add(self.queue_waiting, (key[0], key[1], contact.instance_id, contact.queue_id), key[2])
        else:
            self.drop_queued(key)

    def _waiting(self, scope: Scope, instance_id: str, queue_id: str, now: datetime) -> list[tuple[float, str]]:
        account, region, instant = scope.account, scope.region, now.timestamp()
        ids = self.members(self.queue_waiting, (account, region, instance_id, queue_id))
        rows = [(self.queued[(account, region, c)], c) for c in ids]
        return [(row[2], c) for row, c in rows if row[3] > instant]

    def waiting_contacts(self, scope: Scope, instance_id: str, queue_id: str, now: datetime) -> list[Contact]:
        """The queue's waiting contacts (put in it, not accepted, not ended), the longest-waiting first."""
        account, region = scope.account, scope.region
        keys = [(account, region, c) for _, c in sorted(self._waiting(scope, instance_id, queue_id, now))]
        return [thaw(Contact, self.contacts[key]) for key in keys if key in self.contacts]

    def count_waiting(self, scope: Scope, instance_id: str, queue_id: str, now: datetime) -> int:
        return len(self._waiting(scope, instance_id, queue_id, now))

    def count_active_contacts(self, scope: Scope, instance_id: str, channel: str, now: datetime, cap: int) -> int:
        """Two bisections of the instance's active contacts, whatever their number."""
        entries = self.active.get((scope.account, scope.region, instance_id))
        if not entries:
            return 0
        live = bisect_left(entries, (channel, float("inf"))) - bisect_right(entries, (channel, now.timestamp(), LAST))
        return min(live, cap)

    def active_contacts(self, scope: Scope, instance_id: str) -> list[Contact]:
        account, region = scope.account, scope.region
        entries = self.active.get((account, region, instance_id), ())
        return [thaw(Contact, self.contacts[(account, region, contact_id)]) for _, _, contact_id in entries]

    def latest_in_chain(self, scope: Scope, chain_id: str) -> Contact | None:
        account, region = scope.account, scope.region
        ids = self.members(self.chain_contacts, (account, region, chain_id))
        chain = [thaw(Contact, self.contacts[(account, region, c)]) for c in ids]
        if not chain:
            return None
        latest = chain[0]
        for contact in chain[1:]:
            if contact.initiated_at.timestamp() >= latest.initiated_at.timestamp():
                latest = contact
        return latest

    def find_contact_any(self, contact_id: str) -> tuple[Scope, Contact] | None:
        for account, region in self.members(self.contact_scopes, contact_id):
            return Scope(account, region), thaw(Contact, self.contacts[(account, region, contact_id)])
        return None

    def live_contacts(self) -> list[tuple[Scope, Contact]]:
        live = [key for key, row in self.contacts.items() if not row[ENDED_AT]]
        return [(Scope(k[0], k[1]), thaw(Contact, self.contacts[k])) for k in self.by_rowid(self.contact_rowids, live)]

    # participants ------------------------------------------------------------------------------------
    def participants(self, scope: Scope, contact_id: str) -> list[Participant]:
        account, region = scope.account, scope.region
        found = self.contact_participants.get((account, region, contact_id))
        if not found:
            return []
        keys = [(account, region, p) for p in found]
        if len(keys) > 1:
            keys = self.by_rowid(self.participant_rowids, keys)
        return [thaw(Participant, self.participant_rows[key]) for key in keys]

    def put_participant(self, scope: Scope, participant: Participant) -> None:
        account, region, participant_id = scope.account, scope.region, participant.id
        old = self._put(self.participant_rows, (account, region, participant_id), freeze(participant))
        self._stamp(self.participant_rowids, (account, region, participant_id))
        if old is not MISSING and old[CONTACT_OF] != participant.contact_id:
            self._discard(self.contact_participants, (account, region, old[CONTACT_OF]), participant_id)
        self._add(self.contact_participants, (account, region, participant.contact_id), participant_id)
        if old is MISSING:
            self._add(self.participant_scopes, participant_id, self.scope_key(account, region))

    def find_participant(self, participant_id: str) -> tuple[Scope, Participant] | None:
        for account, region in self.members(self.participant_scopes, participant_id):
            return Scope(account, region), thaw(Participant, self.participant_rows[(account, region, participant_id)])
        return None

    # transcript items --------------------------------------------------------------------------------
    def append_item(self, scope: Scope, item: Item) -> Item:
        item.seq = self._next_seq("items")
        self._put(self.items, item.seq, (scope.account, scope.region, freeze(item)))
        self._add(self.chain_item_seqs, (scope.account, scope.region, item.chain_id), item.seq)
        return item

    def update_item(self, scope: Scope, item: Item) -> None:
        row = self.items.get(item.seq)
        if row is not None and row[:2] == (scope.account, scope.region):
            kept = list(freeze(item))
            kept[ITEM_CHAIN] = row[2][ITEM_CHAIN]  # the chain column is not updated (the index stays right)
            self._put(self.items, item.seq, (row[0], row[1], tuple(kept)))

    def chain_items(self, scope: Scope, chain_id: str, types: frozenset[str] | None = None) -> list[Item]:
        seqs = self.chain_item_seqs.get((scope.account, scope.region, chain_id))
        rows = [self.items[seq][2] for seq in sorted(seqs)] if seqs else []
        return [thaw(Item, row) for row in rows if row[ITEM_PERSISTED] and (not types or row[ITEM_TYPE] in types)]

    # attachments -------------------------------------------------------------------------------------
    def put_attachment(self, scope: Scope, attachment: Attachment) -> None:
        """Inserts or updates the record; the bytes, once uploaded, are left as they are."""
        key = (scope.account, scope.region, attachment.id)
        old = self._put(self.attachments, key, freeze(attachment))
        if old is MISSING:
            self._add(self.contact_attachments, (key[0], key[1], attachment.contact_id), attachment.id)
            self._add(self.attachment_scopes, attachment.id, self.scope_key(key[0], key[1]))

    def get_attachment(self, scope: Scope, attachment_id: str) -> Attachment | None:
        found = self.attachments.get((scope.account, scope.region, attachment_id))
        return thaw(Attachment, found) if found is not None else None

    def find_attachment(self, attachment_id: str) -> tuple[Scope, Attachment] | None:
        for account, region in self.members(self.attachment_scopes, attachment_id):
            return Scope(account, region), thaw(Attachment, self.attachments[(account, region, attachment_id)])
        return None

    def count_attachments(self, scope: Scope, contact_id: str) -> int:
        return len(self.contact_attachments.get((scope.account, scope.region, contact_id), ()))

    def put_attachment_data(self, scope: Scope, attachment_id: str, data: bytes) -> None:
        key = (scope.account, scope.region, attachment_id)
        if key in self.attachments:
            self._put(self.attachment_bytes, key, bytes(data))

    def attachment_data(self, scope: Scope, attachment_id: str) -> bytes | None:
        return self.attachment_bytes.get((scope.account, scope.region, attachment_id))

    # flow records ------------------------------------------------------------------------------------
    def get_flow_record(self, scope: Scope, contact_id: str) -> FlowRecord | None:
        found = self.flow_runs.get((scope.account, scope.region, contact_id))
        return thaw(FlowRecord, found) if found is not None else None

    def put_flow_record(self, scope: Scope, record: FlowRecord) -> None:
        key = (scope.account, scope.region, record.contact_id)
        self._put(self.flow_runs, key, freeze(record))
        self._stamp(self.run_rowids, key)
        if record.live:
            self._put(self.live_runs, key, None)
        else:
            self._drop(self.live_runs, key)

    def live_flow_records(self) -> list[tuple[Scope, str]]:
        live = self.by_rowid(self.run_rowids, self.live_runs)
        return [(Scope(account, region), contact_id) for account, region, contact_id in live]

    # ClientToken records -----------------------------------------------------------------------------
    def get_idempotent(self, scope: Scope, key: str, now: datetime) -> tuple[str, str] | None:
        """The live record for `key`; every SWEEP_EVERY-th lookup also deletes the expired ones."""
        self._lookups += 1
        instant = now.timestamp()
        if self._lookups % SWEEP_EVERY == 0:
            self._sweep_idempotency(instant)
        found = self.idempotency.get((scope.account, scope.region, key))
        return (found[0], found[1]) if found is not None and found[2] > instant else None

    def _sweep_idempotency(self, instant: float) -> None:
        """Deletes the expired records from the oldest on, stopping at the first live one: records are kept in
        the order they were written and live one TTL each, so that is expiry order (a rewritten record keeps
        its place, and may hold back the expired ones behind it until it expires too: a lookup checks the
        expiry anyway). Scanning every record at every sweep cost 6 % of CreateParticipant at 90,000 records."""
        stale = []
        for key, (_, _, expires) in self.idempotency.items():
            if expires > instant:
                break
            stale.append(key)
        for key in stale:
            self._drop(self.idempotency, key)

    def put_idempotent(self, scope: Scope, key: str, fingerprint: str, response: str, expires: datetime) -> None:
        record: TokenRecord = (fingerprint, response, expires.timestamp())
        self._put(self.idempotency, (scope.account, scope.region, key), record)
