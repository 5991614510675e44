"""The in-memory store's tables, its secondary indexes, and the undo journal that makes a unit atomic.

A table is a dict keyed by the SQLite schema's primary key (schema.py), holding the domain record as a
frozen row (copies.py): no JSON on the hot path, nothing shared with a caller, nothing for the garbage
collector to walk. An index maps a bucket (say, a contact's (account, region, chain_id)) to the ordered set
(a dict of None) of its members' keys, maintained on every write.

Every change goes through `_put`, `_drop`, `_add`, `_discard`, `_insort` or `_unsort`, which journal how to
undo it; `rollback` replays the journal backwards, so a unit that raises leaves nothing behind. Units run
inline on the event loop one at a time (the store never awaits inside one), so nothing needs a lock.

A row keeps its place in its dict when it is replaced, so the journal restores order exactly too. Where the
port's answers follow the SQL stores' rowid order (participants, live contacts, live flow records, streams:
insertion order, which an upsert keeps), the row's rowid is kept beside it (`_stamp`) and reads sort by
it. Elsewhere dict order is only the order a snapshot lists rows in (a row deleted and then restored by a
rollback comes last there; rows are keyed, their order in a snapshot carries no meaning).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TypeVar

from parley.chat.model import Stream
from parley.collector import permanent
from parley.store.memory.copies import Row

V = TypeVar("V")
Key = tuple[str, str, str]  # (account, region, id)
Owned = tuple[str, str, str, str]  # (account, region, instance_id, id): an instance's flows, queues, hours, functions
Index = dict[Any, dict[Any, None]]  # bucket -> ordered set of member keys
MISSING: Final[Any] = object()


# A row of the `queued` index table, a contact waiting in a queue (kept by put_contact, as SQLite does):
# (instance_id, queue_id, enqueued, scheduled_end), a plain tuple like every row kept per chat.
Queued = tuple[str, str, float, float]


@dataclass(frozen=True, slots=True)
class StreamRow:
    stream: Stream
    delivered: int = 0
    filtered: int = 0
    last_error: str | None = None
    last_delivered_at: float | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    streaming_id: str
    state: str  # pending | dead | delivered
    item: Row  # the item's frozen row, shared by every stream's row for it
    attempts: int = 0
    first_at: float | None = None
    last_error: str | None = None
    done_at: float | None = None


TokenRecord = tuple[str, str, float]  # a ClientToken record: fingerprint, stored response, expiry (a plain tuple)
# How to undo one change: (table, key, the value it held or MISSING), or a call for a sorted list's entry.
# A plain tuple for the many dict changes a unit makes: a third of a `partial`'s cost to build.
Undo = tuple[dict[Any, Any], Any, Any] | Callable[[], object]


def _remove_sorted(entries: list[Any], entry: Any) -> None:
    index = bisect_left(entries, entry)
    if index < len(entries) and entries[index] == entry:
        del entries[index]


class MemoryState:
    """The tables and indexes; the repo mixins read them directly and change them through the journal."""

    def __init__(self) -> None:
        self._journal: list[Undo] = []
        self._scopes: dict[tuple[str, str], tuple[str, str]] = {}
        # records as frozen rows (copies.py): an Instance, a ContactFlow, a Contact, … by the table's key
        self.instances: dict[Key, Row] = {}
        self.flows: dict[Owned, Row] = {}
        self.contacts: dict[Key, Row] = {}
        self.participant_rows: dict[Key, Row] = {}
        self.items: dict[int, tuple[str, str, Row]] = {}  # seq -> (account, region, the item's row)
        self.idempotency: dict[Key, TokenRecord] = {}
        self.attachments: dict[Key, Row] = {}
        self.attachment_bytes: dict[Key, bytes] = {}
        self.views: dict[Key, Row] = {}
        self.flow_runs: dict[Key, Row] = {}
        self.hours: dict[Owned, Row] = {}
        self.queues: dict[Owned, Row] = {}
        self.lambda_functions: dict[Owned, Row] = {}
        self.queued: dict[Key, Queued] = {}
        self.streams: dict[Key, StreamRow] = {}
        self.outbox: dict[int, OutboxRow] = {}
        self.sequences: dict[str, int] = {"items": 0, "stream_outbox": 0, "rowid": 0}  # the last values given
        self.contact_rowids: dict[Key, int] = {}
        self.participant_rowids: dict[Key, int] = {}
        self.run_rowids: dict[Key, int] = {}
        self.stream_rowids: dict[Key, int] = {}
        self.leases: dict[str, tuple[str, float]] = {}  # name -> (holder, expires): never exported
        self.meta: dict[str, str] = {}  # the cluster's shared values (the virtual clock): never exported
        self._indexes()
        for table in vars(self).values():  # launch.py's freeze takes them: no full collection walks a table
            if type(table) is dict:
                permanent(table)

    def _indexes(self) -> None:
        self.scope_instances: Index = {}  # (account, region) -> instance ids
        self.instance_rows: Index = {}  # (table, account, region, instance_id) -> ids of flows, queues, hours, arns
        self.unique_names: dict[tuple[str, str, str, str, str], str] = {}  # (table, a, r, instance, name) -> id
        self.contact_scopes: Index = {}  # contact id -> (account, region)s
        self.chain_contacts: Index = {}  # (account, region, chain_id) -> contact ids
        # (account, region, instance_id) -> its contacts not ended, as sorted (channel, scheduled_end, id): the
        # order of SQLite's contacts_active index, and a count of a channel's active chats is two bisections
        self.active: dict[Key, list[tuple[str, float, str]]] = {}
        self.contact_participants: Index = {}  # (account, region, contact_id) -> participant ids
        self.participant_scopes: Index = {}  # participant id -> (account, region)s
        self.chain_item_seqs: Index = {}  # (account, region, chain_id) -> seqs
        self.contact_attachments: Index = {}  # (account, region, contact_id) -> attachment ids
        self.attachment_scopes: Index = {}  # attachment id -> (account, region)s
        self.live_runs: dict[Key, None] = {}  # flow records still live
        self.queue_waiting: Index = {}  # (account, region, instance_id, queue_id) -> contact ids
        self.chain_stream_ids: Index = {}  # (account, region, chain_id) -> streaming ids
        self.stream_keys: dict[str, Key] = {}  # streaming id -> its key
        self.outbox_states: Index = {}  # (streaming_id, state) -> seqs

    # -- the journal ----------------------------------------------------------------------------------
    def commit(self) -> None:
        """The unit succeeded: its changes stay, and the journal lets go of what they replaced."""
        self._journal.clear()

    def rollback(self) -> None:
        journal = self._journal
        while journal:
            undo = journal.pop()
            if isinstance(undo, tuple):  # (table, key, what it held): the common case, a row set or deleted
                table, key, old = undo
                if old is MISSING:
                    table.pop(key, None)
                else:
                    table[key] = old
            else:
                undo()

    # -- journaled changes ----------------------------------------------------------------------------
    def _put(self, table: dict[Any, V], key: Hashable, value: V) -> Any:
        """Sets the row; answers the row it replaced (or MISSING)."""
        old = table.get(key, MISSING)
        table[key] = value
        self._journal.append((table, key, old))
        return old

    def _drop(self, table: dict[Any, V], key: Hashable) -> Any:
        """Deletes the row if there is one; answers it (or MISSING)."""
        old = table.pop(key, MISSING)
        if old is not MISSING:
            self._journal.append((table, key, old))
        return old

    def _add(self, index: Index, bucket: Hashable, member: Hashable) -> None:
        members = index.get(bucket)
        if members is None:
            members = {}
            self._put(index, bucket, members)
        if member not in members:
            self._put(members, member, None)

    def _stamp(self, rowids: dict[Any, int], key: Hashable) -> None:
        """A rowid for a new row, so it sorts last; a replaced row keeps its own (the SQL stores' upsert does)."""
        if key not in rowids:
            self._put(rowids, key, self._next_seq("rowid"))

    def by_rowid(self, rowids: dict[Any, int], keys: Any) -> list[Any]:
        return sorted(keys, key=rowids.__getitem__)

    def _discard(self, index: Index, bucket: Hashable, member: Hashable) -> None:
        members = index.get(bucket)
        if members is not None and member in members:
            self._drop(members, member)
            if not members:
                self._drop(index, bucket)

    def _insort(self, entries: list[Any], entry: Any) -> None:
        insort(entries, entry)
        self._journal.append(partial(_remove_sorted, entries, entry))

    def _unsort(self, entries: list[Any], entry: Any) -> None:
        index = bisect_left(entries, entry)
        if index < len(entries) and entries[index] == entry:
            del entries[index]
            self._journal.append(partial(insort, entries, entry))

    def _next_seq(self, table: str) -> int:
        seq = self.sequences[table] + 1
        self._put(self.sequences, table, seq)
        return seq

    def scope_key(self, account: str, region: str) -> tuple[str, str]:
        """One (account, region) tuple per scope, shared by every index entry naming it: a set of them then
        holds only untracked values, and the garbage collector stops walking it."""
        return self._scopes.setdefault((account, region), (account, region))

    def members(self, index: Index, bucket: Hashable) -> list[Any]:
        """The bucket's members, in index order (a copy: callers may change the index while walking it)."""
        found = index.get(bucket)
        return list(found) if found else []
