"""The `Records` port in memory: state snapshots in exactly the SQLite store's format.

A snapshot is `{table: [{column: value}]}` with the tables and columns of schema.py (sql_tables.py makes
them generically from SQLite's catalogue; here they are listed, and a test holds the two stores to the same
answers). A record's `doc` is its JSON document decoded (store/codec.py makes it, here and only here), so a
snapshot moves between the memory store and a durable one either way. ClientToken records never leave.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from parley.chat.errors import Invalid
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
from parley.store import codec
from parley.store.memory.chats import ITEM_CHAIN
from parley.store.memory.copies import freeze, thaw
from parley.store.memory.inventory import MemoryInventory
from parley.store.memory.state import OutboxRow, Queued, StreamRow

T = TypeVar("T")
Row = dict[str, Any]

# table -> (its columns in the schema's order, the NOT NULL ones a row must give), in the schema's table order
COLUMNS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "instances": (("account", "region", "id", "alias", "doc"), frozenset({"account", "region", "id", "doc"})),
    "flows": (("account", "region", "instance_id", "id", "name", "type", "doc"), frozenset()),
    "contacts": (
        (
            "account",
            "region",
            "id",
            "instance_id",
            "chain_id",
            "channel",
            "active",
            "scheduled_end",
            "initiated",
            "doc",
        ),
        frozenset(),
    ),
    "participants": (("account", "region", "id", "contact_id", "doc"), frozenset()),
    "items": (
        ("seq", "account", "region", "chain_id", "id", "type", "persisted", "doc"),
        frozenset({"account", "region", "chain_id", "id", "type", "persisted", "doc"}),
    ),
    "attachments": (
        ("account", "region", "id", "contact_id", "doc", "data"),
        frozenset({"account", "region", "id", "contact_id", "doc"}),
    ),
    "views": (("account", "region", "token", "doc"), frozenset()),
    "flow_runs": (("account", "region", "contact_id", "live", "doc"), frozenset()),
    "hours": (("account", "region", "instance_id", "id", "name", "doc"), frozenset()),
    "queues": (("account", "region", "instance_id", "id", "name", "type", "doc"), frozenset()),
    "lambda_functions": (("account", "region", "instance_id", "arn", "doc"), frozenset()),
    "queued": (
        ("account", "region", "contact_id", "instance_id", "queue_id", "enqueued", "scheduled_end"),
        frozenset(),
    ),
    "streams": (
        (
            "account",
            "region",
            "id",
            "chain_id",
            "instance_id",
            "contact_id",
            "state",
            "doc",
            "delivered",
            "filtered",
            "last_error",
            "last_delivered_at",
        ),
        frozenset({"account", "region", "id", "chain_id", "instance_id", "contact_id", "state", "doc"}),
    ),
    "stream_outbox": (
        ("seq", "streaming_id", "state", "attempts", "first_at", "last_error", "done_at", "item"),
        frozenset({"streaming_id", "state", "item"}),
    ),
}


def _counters(row: StreamRow) -> tuple[Any, ...]:
    return row.delivered, row.filtered, row.last_error, row.last_delivered_at


def _required(table: str) -> frozenset[str]:
    columns, required = COLUMNS[table]
    return required or frozenset(columns)  # an empty set: every column is NOT NULL


def _doc(record: Any) -> Any:
    return json.loads(codec.dump(record))


def _decoded(cls: type[T], doc: Any) -> T:
    try:
        return codec.load(cls, doc if isinstance(doc, str) else codec.dump_value(doc))
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise Invalid(f"a record does not decode: {error}") from None


class MemoryRecords(MemoryInventory):
    def dump_records(self) -> dict[str, list[Row]]:
        """Every exportable table's rows, in insertion order."""
        return {table: list(self._dump(table)) for table in COLUMNS}

    def _dump(self, table: str) -> Iterator[Row]:
        columns, _ = COLUMNS[table]
        values: Callable[[], Iterator[tuple[Any, ...]]] = getattr(self, f"_rows_{table}")
        for row in values():
            yield dict(zip(columns, row, strict=True))

    def _rows_instances(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, i), kept in self.instances.items():
            instance = thaw(Instance, kept)
            yield a, r, i, instance.alias, _doc(instance)

    def _rows_flows(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, instance_id, i), kept in self.flows.items():
            flow = thaw(ContactFlow, kept)
            yield a, r, instance_id, i, flow.name, flow.type, _doc(flow)

    def _rows_queues(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, instance_id, i), kept in self.queues.items():
            queue = thaw(Queue, kept)
            yield a, r, instance_id, i, queue.name, queue.type, _doc(queue)

    def _rows_hours(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, instance_id, i), kept in self.hours.items():
            hours = thaw(HoursOfOperation, kept)
            yield a, r, instance_id, i, hours.name, _doc(hours)

    def _rows_lambda_functions(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, instance_id, arn), kept in self.lambda_functions.items():
            yield a, r, instance_id, arn, _doc(thaw(LambdaFunction, kept))

    def _rows_contacts(self) -> Iterator[tuple[Any, ...]]:
        for a, r, i in self.by_rowid(self.contact_rowids, self.contacts):
            c = thaw(Contact, self.contacts[(a, r, i)])
            active, end, initiated = 0 if c.ended_at else 1, c.scheduled_end.timestamp(), c.initiated_at.timestamp()
            yield a, r, i, c.instance_id, c.chain_id, c.channel, active, end, initiated, _doc(c)

    def _rows_participants(self) -> Iterator[tuple[Any, ...]]:
        for a, r, i in self.by_rowid(self.participant_rowids, self.participant_rows):
            participant = thaw(Participant, self.participant_rows[(a, r, i)])
            yield a, r, i, participant.contact_id, _doc(participant)

    def _rows_items(self) -> Iterator[tuple[Any, ...]]:
        for seq in sorted(self.items):
            a, r, kept = self.items[seq]
            item = thaw(Item, kept)
            yield seq, a, r, item.chain_id, item.id, item.type, int(item.persisted), _doc(item)

    def _rows_attachments(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, i), kept in self.attachments.items():
            attachment = thaw(Attachment, kept)
            yield a, r, i, attachment.contact_id, _doc(attachment), self.attachment_bytes.get((a, r, i))

    def _rows_views(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, token), kept in self.views.items():
            yield a, r, token, _doc(thaw(View, kept))

    def _rows_flow_runs(self) -> Iterator[tuple[Any, ...]]:
        for a, r, contact_id in self.by_rowid(self.run_rowids, self.flow_runs):
            record = thaw(FlowRecord, self.flow_runs[(a, r, contact_id)])
            yield a, r, contact_id, int(record.live), _doc(record)

    def _rows_queued(self) -> Iterator[tuple[Any, ...]]:
        for (a, r, contact_id), queued in self.queued.items():
            yield a, r, contact_id, *queued

    def _rows_streams(self) -> Iterator[tuple[Any, ...]]:
        for a, r, i in self.by_rowid(self.stream_rowids, self.streams):
            row = self.streams[(a, r, i)]
            s = row.stream
            yield a, r, i, s.chain_id, s.instance_id, s.contact_id, s.state, _doc(s), *_counters(row)

    def _rows_stream_outbox(self) -> Iterator[tuple[Any, ...]]:
        for seq in sorted(self.outbox):
            o = self.outbox[seq]
            item = codec.dump(thaw(Item, o.item))
            yield seq, o.streaming_id, o.state, o.attempts, o.first_at, o.last_error, o.done_at, item

    # loading -----------------------------------------------------------------------------------------
    def load_records(self, tables: Mapping[str, list[Row]]) -> dict[str, int]:
        """Inserts the rows (a row with the key of an existing one replaces it); counts per table.
        Raises `Invalid` naming the table, column or constraint at fault; the caller's unit rolls back."""
        counts: dict[str, int] = {}
        for table, rows in tables.items():
            if table not in COLUMNS:
                raise Invalid(f"unknown table {table!r}; this Parley stores {', '.join(sorted(COLUMNS))}")
            load = self._loader(table)
            for row in rows:
                load(Scope(*_checked(table, row)), row)
            counts[table] = len(rows)
        return counts

    def _loader(self, table: str) -> Callable[[Scope, Row], None]:
        simple: dict[str, Callable[[Scope, Row], None]] = {
            "instances": lambda s, row: self.put_instance(s, _decoded(Instance, row["doc"])),
            "flows": lambda s, row: self.put_flow(s, _decoded(ContactFlow, row["doc"])),
            "contacts": lambda s, row: self.put_contact(s, _decoded(Contact, row["doc"])),
            "participants": lambda s, row: self.put_participant(s, _decoded(Participant, row["doc"])),
            "views": lambda s, row: self.put_view(s, _decoded(View, row["doc"])),
            "flow_runs": lambda s, row: self.put_flow_record(s, _decoded(FlowRecord, row["doc"])),
            "hours": lambda s, row: self.put_hours(s, _decoded(HoursOfOperation, row["doc"])),
            "queues": lambda s, row: self.put_queue(s, _decoded(Queue, row["doc"])),
            "lambda_functions": lambda s, row: self.put_lambda_function(s, _decoded(LambdaFunction, row["doc"])),
        }
        found = simple.get(table)
        if found is not None:
            return found
        return {
            "items": self._load_item,
            "attachments": self._load_attachment,
            "queued": self._load_queued,
            "streams": self._load_stream,
            "stream_outbox": self._load_outbox,
        }[table]

    def _load_item(self, scope: Scope, row: Row) -> None:
        item = _decoded(Item, row["doc"])
        item.seq = int(row.get("seq") or self.sequences["items"] + 1)
        item.chain_id, item.persisted = row["chain_id"], bool(row["persisted"])
        old = self.items.get(item.seq)
        if old is not None:
            self._discard(self.chain_item_seqs, (old[0], old[1], old[2][ITEM_CHAIN]), item.seq)
        self._put(self.items, item.seq, (scope.account, scope.region, freeze(item)))
        self._add(self.chain_item_seqs, (scope.account, scope.region, item.chain_id), item.seq)
        if item.seq > self.sequences["items"]:
            self._put(self.sequences, "items", item.seq)

    def _load_attachment(self, scope: Scope, row: Row) -> None:
        attachment = _decoded(Attachment, row["doc"])
        self.put_attachment(scope, attachment)
        key = (scope.account, scope.region, attachment.id)
        if row.get("data") is not None:
            self._put(self.attachment_bytes, key, bytes(row["data"]))
        else:
            self._drop(self.attachment_bytes, key)

    def _load_queued(self, scope: Scope, row: Row) -> None:
        key = (scope.account, scope.region, str(row["contact_id"]))
        queued: Queued = (row["instance_id"], row["queue_id"], float(row["enqueued"]), float(row["scheduled_end"]))
        self.drop_queued(key)
        self._put(self.queued, key, queued)
        self._add(self.queue_waiting, (key[0], key[1], row["instance_id"], row["queue_id"]), key[2])

    def _load_stream(self, scope: Scope, row: Row) -> None:
        stream = _decoded(Stream, row["doc"])
        key = (scope.account, scope.region, stream.id)
        if key in self.streams:
            self.drop_stream(key)  # its outbox rows come back with the snapshot's
        self.put_stream(scope, stream)
        counters = StreamRow(
            self.streams[key].stream,
            int(row.get("delivered") or 0),
            int(row.get("filtered") or 0),
            row.get("last_error"),
            row.get("last_delivered_at"),
        )
        self._put(self.streams, key, counters)

    def _load_outbox(self, scope: Scope, row: Row) -> None:
        seq = int(row.get("seq") or self.sequences["stream_outbox"] + 1)
        item = _decoded(Item, row["item"])
        entry = OutboxRow(
            row["streaming_id"],
            row["state"],
            freeze(item),
            int(row.get("attempts") or 0),
            row.get("first_at"),
            row.get("last_error"),
            row.get("done_at"),
        )
        self._put_outbox(seq, entry)
        if seq > self.sequences["stream_outbox"]:
            self._put(self.sequences, "stream_outbox", seq)


def _checked(table: str, row: Row) -> tuple[str, str]:
    """The row's scope, once its columns are known and the NOT NULL ones given (as SQLite would refuse)."""
    columns, _ = COLUMNS[table]
    extra = sorted(set(row) - set(columns))
    if extra:
        raise Invalid(f"table {table!r} has no column {extra[0]!r}")
    missing = sorted(column for column in _required(table) if row.get(column) is None)
    if missing:
        raise Invalid(f"a row of table {table!r} cannot be stored: NOT NULL constraint failed: {table}.{missing[0]}")
    if table == "stream_outbox":
        return ("", "")
    if not isinstance(row["account"], str) or not isinstance(row["region"], str):
        raise Invalid(f"a row of table {table!r} cannot be stored: account and region must be text")
    return (row["account"], row["region"])
