"""Streams and their outbox in memory (the `Repo` stream methods and the `Outbox` port).

An outbox row's `seq` is its stream's delivery order; rows are indexed by (streaming id, state), so the
worker's reads touch only the state they ask for. Counters live on the stream's row, as in SQLite.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from parley.chat.model import ACTIVE, Item, OutboxEntry, Scope, Selection, Stream, StreamCounts
from parley.store.memory.chats import MemoryChats
from parley.store.memory.copies import Row, copy, freeze, thaw
from parley.store.memory.state import MISSING, OutboxRow, StreamRow

TRIM_EVERY = 16  # as the SQLite store: the delivered history is trimmed now and then


def _entry(seq: int, row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        seq, row.streaming_id, thaw(Item, row.item), row.state, row.attempts, row.first_at, row.last_error, row.done_at
    )


class MemoryStreams(MemoryChats):
    # the domain's side ---------------------------------------------------------------------------
    def put_stream(self, scope: Scope, stream: Stream) -> None:
        key = (scope.account, scope.region, stream.id)
        old = self.streams.get(key)
        if old is None:
            self._put(self.streams, key, StreamRow(copy(stream)))
            self._stamp(self.stream_rowids, key)
            self._put(self.stream_keys, stream.id, key)
            self._add(self.chain_stream_ids, (key[0], key[1], stream.chain_id), stream.id)
        else:  # an upsert of the state and the document: the row keeps its place, counters and chain
            self._put(self.streams, key, dataclasses.replace(old, stream=copy(stream)))

    def get_stream(self, scope: Scope, streaming_id: str) -> Stream | None:
        row = self.streams.get((scope.account, scope.region, streaming_id))
        return copy(row.stream) if row is not None else None

    def chain_streams(self, scope: Scope, chain_id: str) -> list[Stream]:
        account, region = scope.account, scope.region
        return [copy(self.streams[key].stream) for key in self._chain_keys(account, region, chain_id)]

    def _chain_keys(self, account: str, region: str, chain_id: str) -> list[tuple[str, str, str]]:
        ids = self.chain_stream_ids.get((account, region, chain_id))
        if not ids:
            return []
        keys = [(account, region, i) for i in ids]
        return keys if len(keys) == 1 else self.by_rowid(self.stream_rowids, keys)

    def stream_item(self, scope: Scope, item: Item) -> None:
        account, region = scope.account, scope.region
        if (account, region, item.chain_id) not in self.chain_stream_ids:
            return
        kept: Row | None = None
        for key in self._chain_keys(account, region, item.chain_id):
            stream = self.streams[key].stream
            if stream.state == ACTIVE and item.type in stream.kinds:
                kept = kept or freeze(item)
                self._put_outbox(self._next_seq("stream_outbox"), OutboxRow(key[2], "pending", kept))

    def _put_outbox(self, seq: int, row: OutboxRow) -> None:
        old = self._put(self.outbox, seq, row)
        if old is not MISSING and (old.streaming_id, old.state) != (row.streaming_id, row.state):
            self._discard(self.outbox_states, (old.streaming_id, old.state), seq)
        if old is MISSING or (old.streaming_id, old.state) != (row.streaming_id, row.state):
            self._add(self.outbox_states, (row.streaming_id, row.state), seq)

    def _drop_outbox(self, seq: int) -> None:
        old = self._drop(self.outbox, seq)
        if old is not MISSING:
            self._discard(self.outbox_states, (old.streaming_id, old.state), seq)

    def _seqs(self, streaming_id: str, state: str, newest_first: bool = False) -> list[int]:
        found = self.outbox_states.get((streaming_id, state))
        return sorted(found, reverse=newest_first) if found else []

    def _update_stream(self, streaming_id: str, **changes: Any) -> None:
        key = self.stream_keys.get(streaming_id)
        if key is not None:
            self._put(self.streams, key, dataclasses.replace(self.streams[key], **changes))

    # the worker's side ---------------------------------------------------------------------------
    def find_stream(self, streaming_id: str) -> tuple[Scope, Stream] | None:
        key = self.stream_keys.get(streaming_id)
        return None if key is None else (Scope(key[0], key[1]), copy(self.streams[key].stream))

    def select_streams(self, selection: Selection) -> list[tuple[Scope, Stream]]:
        found = []
        for key in self.by_rowid(self.stream_rowids, self.streams):
            account, region, stream = key[0], key[1], self.streams[key].stream
            if (
                selection.account in (None, account)
                and selection.region in (None, region)
                and selection.instance_id in (None, stream.instance_id)
                and selection.contact_id in (None, stream.contact_id, stream.chain_id)
            ):
                found.append((Scope(account, region), copy(stream)))
        return found

    def streams_with_pending(self) -> list[str]:
        return [sid for sid, state in self.outbox_states if state == "pending"]

    def outbox_next(self, streaming_id: str, limit: int, after: int = 0) -> list[OutboxEntry]:
        seqs = [seq for seq in self._seqs(streaming_id, "pending") if seq > after][:limit]
        return [_entry(seq, self.outbox[seq]) for seq in seqs]

    def outbox_entries(self, streaming_id: str, state: str, limit: int) -> list[OutboxEntry]:
        seqs = self._seqs(streaming_id, state, newest_first=state == "delivered")[:limit]
        return [_entry(seq, self.outbox[seq]) for seq in seqs]

    def outbox_done(self, entry: OutboxEntry, filtered: bool, at: float, history: int) -> None:
        sid = entry.streaming_id
        row = self.outbox.get(entry.seq)
        if filtered or history == 0:
            self._drop_outbox(entry.seq)
        else:
            if row is not None:
                delivered = dataclasses.replace(row, state="delivered", done_at=at, attempts=entry.attempts)
                self._put_outbox(entry.seq, delivered)
            if entry.seq % TRIM_EVERY == 0:
                for seq in self._seqs(sid, "delivered", newest_first=True)[history:]:
                    self._drop_outbox(seq)
        row_of_stream = self.streams.get(self.stream_keys.get(sid, ("", "", "")))
        if row_of_stream is None:
            return
        if filtered:
            self._update_stream(sid, filtered=row_of_stream.filtered + 1)
        else:
            self._update_stream(sid, delivered=row_of_stream.delivered + 1, last_delivered_at=at)

    def outbox_failed(self, entry: OutboxEntry, dead: bool) -> bool:
        """False when the message is no longer pending (overflow moved it to the dead list meanwhile)."""
        row = self.outbox.get(entry.seq)
        updated = row is not None and row.state == "pending"
        if row is not None and updated:
            changed = dataclasses.replace(
                row,
                state="dead" if dead else "pending",
                attempts=entry.attempts,
                first_at=entry.first_at,
                last_error=entry.last_error,
            )
            self._put_outbox(entry.seq, changed)
        self._update_stream(entry.streaming_id, last_error=entry.last_error)
        return updated

    def streams_over(self, max_pending: int) -> list[str]:
        return [
            sid for (sid, state), seqs in self.outbox_states.items() if state == "pending" and len(seqs) > max_pending
        ]

    def outbox_overflow(self, streaming_id: str, max_pending: int) -> int:
        """Past `max_pending`, the oldest pending messages go to the dead list (reason `overflow`)."""
        oldest = self._seqs(streaming_id, "pending", newest_first=True)[max_pending:]
        for seq in oldest:
            self._put_outbox(seq, dataclasses.replace(self.outbox[seq], state="dead", last_error="overflow"))
        return len(oldest)

    def outbox_counts(self, streaming_id: str) -> StreamCounts:
        pending = self.outbox_states.get((streaming_id, "pending"), {})
        key = self.stream_keys.get(streaming_id)
        row = self.streams.get(key) if key is not None else None
        return StreamCounts(
            delivered=row.delivered if row else 0,
            pending=len(pending),
            retrying=sum(1 for seq in pending if self.outbox[seq].attempts > 0),
            dead=len(self.outbox_states.get((streaming_id, "dead"), ())),
            filtered=row.filtered if row else 0,
            last_error=row.last_error if row else None,
            last_delivered_at=row.last_delivered_at if row else None,
        )

    def outbox_redrive(self, streaming_id: str) -> int:
        dead = self._seqs(streaming_id, "dead")
        for seq in dead:
            self._put_outbox(seq, dataclasses.replace(self.outbox[seq], state="pending", attempts=0, first_at=None))
        return len(dead)

    def outbox_clear_dead(self, streaming_id: str) -> int:
        dead = self._seqs(streaming_id, "dead")
        for seq in dead:
            self._drop_outbox(seq)
        return len(dead)

    def outbox_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_, state), seqs in self.outbox_states.items():
            totals[state] = totals.get(state, 0) + len(seqs)
        return totals

    def drop_stream(self, key: tuple[str, str, str]) -> int:
        """Removes the stream and its outbox; answers how many outbox rows went with it."""
        row = self._drop(self.streams, key)
        if row is MISSING:
            return 0
        self._drop(self.stream_keys, key[2])
        self._drop(self.stream_rowids, key)
        self._discard(self.chain_stream_ids, (key[0], key[1], row.stream.chain_id), key[2])
        removed = 0
        for state in ("pending", "dead", "delivered"):
            for seq in self._seqs(key[2], state):
                self._drop_outbox(seq)
                removed += 1
        return removed
