"""The `Repo` and `Idempotency` ports over one SQL connection, inside a transaction the caller holds.

The statements run unchanged on SQLite and PostgreSQL (dialect.py): a record is written with
`INSERT … ON CONFLICT (key) DO UPDATE`, which keeps the row (and its place in insertion order), and a new
item learns its number through `RETURNING seq`."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from parley.chat.flow_record import FlowRecord
from parley.chat.model import (
    Attachment,
    Contact,
    ContactFlow,
    HoursOfOperation,
    Instance,
    Item,
    LambdaFunction,
    Page,
    Participant,
    Queue,
    Scope,
    View,
)
from parley.store.codec import dump, load
from parley.store.dialect import Db, Dialect
from parley.store.sql_leases import SqlLeases
from parley.store.sql_streams import SqlStreams
from parley.store.sql_tables import SqlTables

T = TypeVar("T")
SWEEP_EVERY = 1024  # idempotency lookups between two deletions of expired records


class Lookups:
    """Idempotency lookups so far; every SWEEP_EVERY-th one also sweeps expired records. Shared by threads
    without a lock: a count off by one moves a sweep, it loses nothing."""

    def __init__(self) -> None:
        self.count = 0

    def sweep_due(self) -> bool:
        self.count += 1
        return self.count % SWEEP_EVERY == 0


class SqlRepo(SqlStreams, SqlTables, SqlLeases):
    """The chat's records (the `Repo` and `Idempotency` ports); the admin's `Inventory`, the streams' `Outbox`,
    the snapshots' `Records` and the nodes' `Leases` come from the bases."""

    def __init__(self, db: Db, dialect: Dialect | None = None, lookups: Lookups | None = None) -> None:
        """`lookups` counts idempotency lookups across the repositories of one store (a PostgreSQL store
        makes a repository per unit); by default this repository counts its own."""
        super().__init__(db, dialect)
        self._lookups = lookups or Lookups()

    # instances -------------------------------------------------------------------------------
    def get_instance(self, scope: Scope, instance_id: str) -> Instance | None:
        row = self._db.execute(
            "SELECT doc FROM instances WHERE account=? AND region=? AND id=?",
            (scope.account, scope.region, instance_id),
        ).fetchone()
        return load(Instance, row[0]) if row else None

    def put_instance(self, scope: Scope, instance: Instance) -> None:
        self._db.execute(
            "INSERT INTO instances (account, region, id, alias, doc) VALUES (?,?,?,?,?)"
            " ON CONFLICT (account, region, id) DO UPDATE SET alias=excluded.alias, doc=excluded.doc",
            (scope.account, scope.region, instance.id, instance.alias, dump(instance)),
        )

    def delete_instance(self, scope: Scope, instance_id: str) -> None:
        self._guard_instance(scope, instance_id)
        self.hold_instance(scope, instance_id)  # its active contacts were ended: none is started meanwhile
        key = (scope.account, scope.region, instance_id)
        self._db.execute("DELETE FROM instances WHERE account=? AND region=? AND id=?", key)
        for table in ("flows", "queues", "hours", "lambda_functions", "queued"):
            self._db.execute(f"DELETE FROM {table} WHERE account=? AND region=? AND instance_id=?", key)

    def _guard_instance(self, scope: Scope, instance_id: str) -> None:
        """Deleting an instance and writing its flows, queues, hours or functions exclude each other: a write
        that read the instance as there, on another node, is not left behind in an instance deleted meanwhile."""
        self._dialect.guard(f"instance\x1f{scope.account}\x1f{scope.region}\x1f{instance_id}")

    def hold_instance(self, scope: Scope, instance_id: str) -> None:
        """A rule of its own, not the instance's guard: chats started at once in one instance do not wait for
        each other's flows, queues or functions."""
        self._dialect.guard(f"contacts\x1f{scope.account}\x1f{scope.region}\x1f{instance_id}")

    def list_instances(self, scope: Scope, after: str | None, limit: int) -> Page[Instance]:
        rows = self._db.execute(
            "SELECT id, doc FROM instances WHERE account=? AND region=? AND id>? ORDER BY id LIMIT ?",
            (scope.account, scope.region, after or "", limit + 1),
        ).fetchall()
        return _page([load(Instance, r[1]) for r in rows], [r[0] for r in rows], limit)

    def count_instances(self, scope: Scope) -> int:
        self._dialect.guard(f"instances\x1f{scope.account}\x1f{scope.region}")  # the quota and the aliases
        row = self._db.execute(
            "SELECT COUNT(*) FROM instances WHERE account=? AND region=?", (scope.account, scope.region)
        ).fetchone()
        return int(row[0])

    def alias_taken(self, scope: Scope, alias: str) -> bool:
        self._dialect.guard(f"instances\x1f{scope.account}\x1f{scope.region}")  # no unique index on aliases
        row = self._db.execute(
            "SELECT 1 FROM instances WHERE account=? AND region=? AND alias=?",
            (scope.account, scope.region, alias),
        ).fetchone()
        return row is not None

    # flows -----------------------------------------------------------------------------------
    def get_flow(self, scope: Scope, instance_id: str, flow_id: str) -> ContactFlow | None:
        row = self._db.execute(
            "SELECT doc FROM flows WHERE account=? AND region=? AND instance_id=? AND id=?",
            (scope.account, scope.region, instance_id, flow_id),
        ).fetchone()
        return load(ContactFlow, row[0]) if row else None

    def put_flow(self, scope: Scope, flow: ContactFlow) -> None:
        self._guard_instance(scope, flow.instance_id)
        self._db.execute(
            "INSERT INTO flows (account, region, instance_id, id, name, type, doc) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT (account, region, instance_id, id) DO UPDATE SET name=excluded.name, type=excluded.type,"
            " doc=excluded.doc",
            (scope.account, scope.region, flow.instance_id, flow.id, flow.name, flow.type, dump(flow)),
        )

    def flow_name_taken(self, scope: Scope, instance_id: str, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM flows WHERE account=? AND region=? AND instance_id=? AND name=?",
            (scope.account, scope.region, instance_id, name),
        ).fetchone()
        return row is not None

    def list_flows(
        self, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
    ) -> Page[ContactFlow]:
        sql = "SELECT id, doc FROM flows WHERE account=? AND region=? AND instance_id=? AND id>?"
        args: list[object] = [scope.account, scope.region, instance_id, after or ""]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            args.extend(sorted(types))
        rows = self._db.execute(sql + " ORDER BY id LIMIT ?", (*args, limit + 1)).fetchall()
        return _page([load(ContactFlow, r[1]) for r in rows], [r[0] for r in rows], limit)

    # contacts --------------------------------------------------------------------------------
    def get_contact(self, scope: Scope, contact_id: str) -> Contact | None:
        row = self._db.execute(
            "SELECT doc FROM contacts WHERE account=? AND region=? AND id=?",
            (scope.account, scope.region, contact_id),
        ).fetchone()
        return load(Contact, row[0]) if row else None

    def put_contact(self, scope: Scope, contact: Contact) -> None:
        self._db.execute(
            "INSERT INTO contacts (account, region, id, instance_id, chain_id, channel, active,"
            " scheduled_end, initiated, doc) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (account, region, id) DO UPDATE SET instance_id=excluded.instance_id,"
            " chain_id=excluded.chain_id, channel=excluded.channel, active=excluded.active,"
            " scheduled_end=excluded.scheduled_end, initiated=excluded.initiated, doc=excluded.doc",
            (
                scope.account,
                scope.region,
                contact.id,
                contact.instance_id,
                contact.chain_id,
                contact.channel,
                0 if contact.ended_at else 1,
                contact.scheduled_end.timestamp(),
                contact.initiated_at.timestamp(),
                dump(contact),
            ),
        )
        if contact.enqueued_at is not None:  # a contact never queued costs nothing more here
            self._index_queued(scope, contact)

    def _index_queued(self, scope: Scope, contact: Contact) -> None:
        if contact.accepted_at is None and contact.ended_at is None and contact.queue_id is not None:
            enqueued = contact.enqueued_at.timestamp() if contact.enqueued_at else 0.0
            self._db.execute(
                "INSERT INTO queued (account, region, contact_id, instance_id, queue_id, enqueued,"
                " scheduled_end) VALUES (?,?,?,?,?,?,?)"
                " ON CONFLICT (account, region, contact_id) DO UPDATE SET instance_id=excluded.instance_id,"
                " queue_id=excluded.queue_id, enqueued=excluded.enqueued, scheduled_end=excluded.scheduled_end",
                (
                    scope.account,
                    scope.region,
                    contact.id,
                    contact.instance_id,
                    contact.queue_id,
                    enqueued,
                    contact.scheduled_end.timestamp(),
                ),
            )
        else:
            self._db.execute(
                "DELETE FROM queued WHERE account=? AND region=? AND contact_id=?",
                (scope.account, scope.region, contact.id),
            )

    def count_active_contacts(self, scope: Scope, instance_id: str, channel: str, now: datetime, cap: int) -> int:
        """Active contacts, no more than `cap` (the quota it is compared with): the count the triggers keep
        (schema.ACTIVE_COUNTS_TABLE), less the contacts past their end that no timer has ended yet (an index
        range, nearly always empty), however many chats the instance holds."""
        self._dialect.guard(f"active\x1f{scope.account}\x1f{scope.region}\x1f{instance_id}\x1f{channel}")
        key = (scope.account, scope.region, instance_id, channel)
        where = "account=? AND region=? AND instance_id=? AND channel=?"
        kept = self._db.execute(f"SELECT COALESCE(SUM(count), 0) FROM active_counts WHERE {where}", key).fetchone()
        late = self._db.execute(
            f"SELECT COUNT(*) FROM contacts WHERE {where} AND active=1 AND scheduled_end<=?", (*key, now.timestamp())
        ).fetchone()
        return max(0, min(cap, int(kept[0]) - int(late[0])))

    def active_contacts(self, scope: Scope, instance_id: str) -> list[Contact]:
        rows = self._db.execute(
            "SELECT doc FROM contacts WHERE account=? AND region=? AND instance_id=? AND active=1"
            " ORDER BY initiated, id",
            (scope.account, scope.region, instance_id),
        ).fetchall()
        return [load(Contact, r[0]) for r in rows]

    def latest_in_chain(self, scope: Scope, chain_id: str) -> Contact | None:
        row = self._db.execute(
            "SELECT doc FROM contacts WHERE account=? AND region=? AND chain_id=? ORDER BY initiated DESC LIMIT 1",
            (scope.account, scope.region, chain_id),
        ).fetchone()
        return load(Contact, row[0]) if row else None

    # participants ----------------------------------------------------------------------------
    def participants(self, scope: Scope, contact_id: str) -> list[Participant]:
        rows = self._db.execute(
            "SELECT doc FROM participants WHERE account=? AND region=? AND contact_id=? ORDER BY rowid",
            (scope.account, scope.region, contact_id),
        ).fetchall()
        return [load(Participant, r[0]) for r in rows]

    def put_participant(self, scope: Scope, participant: Participant) -> None:
        """Guarded on the chat: who may join depends on who is present (one custom bot, none beside an agent),
        read earlier in the same unit, and the writer of a participant is the one place every such unit passes."""
        self._dialect.guard(f"participants\x1f{scope.account}\x1f{scope.region}\x1f{participant.contact_id}")
        self._db.execute(
            "INSERT INTO participants (account, region, id, contact_id, doc) VALUES (?,?,?,?,?)"
            " ON CONFLICT (account, region, id) DO UPDATE SET contact_id=excluded.contact_id, doc=excluded.doc",
            (scope.account, scope.region, participant.id, participant.contact_id, dump(participant)),
        )

    def find_participant(self, participant_id: str) -> tuple[Scope, Participant] | None:
        row = self._db.execute("SELECT account, region, doc FROM participants WHERE id=?", (participant_id,)).fetchone()
        return (Scope(row[0], row[1]), load(Participant, row[2])) if row else None

    # items -----------------------------------------------------------------------------------
    def append_item(self, scope: Scope, item: Item) -> Item:
        row = self._db.execute(
            "INSERT INTO items (account, region, chain_id, id, type, persisted, doc) VALUES (?,?,?,?,?,?,?)"
            " RETURNING seq",
            (scope.account, scope.region, item.chain_id, item.id, item.type, int(item.persisted), dump(item)),
        ).fetchone()
        item.seq = int(row[0])
        return item

    def update_item(self, scope: Scope, item: Item) -> None:
        self._db.execute(
            "UPDATE items SET persisted=?, doc=? WHERE account=? AND region=? AND seq=?",
            (int(item.persisted), dump(item), scope.account, scope.region, item.seq),
        )

    def chain_items(self, scope: Scope, chain_id: str, types: frozenset[str] | None = None) -> list[Item]:
        sql = "SELECT seq, doc FROM items WHERE account=? AND region=? AND chain_id=? AND persisted=1"
        args: list[object] = [scope.account, scope.region, chain_id]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            args.extend(sorted(types))
        items = []
        for seq, doc in self._db.execute(sql + " ORDER BY seq", args).fetchall():
            item = load(Item, doc)
            item.seq = seq
            items.append(item)
        return items

    # attachments -----------------------------------------------------------------------------
    def put_attachment(self, scope: Scope, attachment: Attachment) -> None:
        """Inserts or updates the record; the bytes, once uploaded, are left as they are."""
        self._db.execute(
            "INSERT INTO attachments (account, region, id, contact_id, doc) VALUES (?,?,?,?,?)"
            " ON CONFLICT (account, region, id) DO UPDATE SET doc=excluded.doc",
            (scope.account, scope.region, attachment.id, attachment.contact_id, dump(attachment)),
        )

    def get_attachment(self, scope: Scope, attachment_id: str) -> Attachment | None:
        row = self._db.execute(
            "SELECT doc FROM attachments WHERE account=? AND region=? AND id=?",
            (scope.account, scope.region, attachment_id),
        ).fetchone()
        return load(Attachment, row[0]) if row else None

    def find_attachment(self, attachment_id: str) -> tuple[Scope, Attachment] | None:
        row = self._db.execute("SELECT account, region, doc FROM attachments WHERE id=?", (attachment_id,)).fetchone()
        return (Scope(row[0], row[1]), load(Attachment, row[2])) if row else None

    def count_attachments(self, scope: Scope, contact_id: str) -> int:
        self._dialect.guard(f"attachments\x1f{scope.account}\x1f{scope.region}\x1f{contact_id}")
        row = self._db.execute(
            "SELECT COUNT(*) FROM attachments WHERE account=? AND region=? AND contact_id=?",
            (scope.account, scope.region, contact_id),
        ).fetchone()
        return int(row[0])

    def put_attachment_data(self, scope: Scope, attachment_id: str, data: bytes) -> None:
        self._db.execute(
            "UPDATE attachments SET data=? WHERE account=? AND region=? AND id=?",
            (data, scope.account, scope.region, attachment_id),
        )

    def attachment_data(self, scope: Scope, attachment_id: str) -> bytes | None:
        row = self._db.execute(
            "SELECT data FROM attachments WHERE account=? AND region=? AND id=?",
            (scope.account, scope.region, attachment_id),
        ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    # views -----------------------------------------------------------------------------------
    def put_view(self, scope: Scope, view: View) -> None:
        self._db.execute(
            "INSERT INTO views (account, region, token, doc) VALUES (?,?,?,?)"
            " ON CONFLICT (account, region, token) DO UPDATE SET doc=excluded.doc",
            (scope.account, scope.region, view.token, dump(view)),
        )

    def get_view(self, scope: Scope, token: str) -> View | None:
        row = self._db.execute(
            "SELECT doc FROM views WHERE account=? AND region=? AND token=?", (scope.account, scope.region, token)
        ).fetchone()
        return load(View, row[0]) if row else None

    def find_contact_any(self, contact_id: str) -> tuple[Scope, Contact] | None:
        row = self._db.execute("SELECT account, region, doc FROM contacts WHERE id=?", (contact_id,)).fetchone()
        return (Scope(row[0], row[1]), load(Contact, row[2])) if row else None

    def live_contacts(self) -> list[tuple[Scope, Contact]]:
        rows = self._db.execute("SELECT account, region, doc FROM contacts WHERE active=1").fetchall()
        return [(Scope(r[0], r[1]), load(Contact, r[2])) for r in rows]

    # flow runs -------------------------------------------------------------------------------
    def get_flow_record(self, scope: Scope, contact_id: str) -> FlowRecord | None:
        row = self._db.execute(
            "SELECT doc FROM flow_runs WHERE account=? AND region=? AND contact_id=?",
            (scope.account, scope.region, contact_id),
        ).fetchone()
        return load(FlowRecord, row[0]) if row else None

    def put_flow_record(self, scope: Scope, record: FlowRecord) -> None:
        self._db.execute(
            "INSERT INTO flow_runs (account, region, contact_id, live, doc) VALUES (?,?,?,?,?)"
            " ON CONFLICT (account, region, contact_id) DO UPDATE SET live=excluded.live, doc=excluded.doc",
            (scope.account, scope.region, record.contact_id, int(record.live), dump(record)),
        )

    def live_flow_records(self) -> list[tuple[Scope, str]]:
        rows = self._db.execute("SELECT account, region, contact_id FROM flow_runs WHERE live=1").fetchall()
        return [(Scope(r[0], r[1]), r[2]) for r in rows]

    # queues, hours, Lambda functions ----------------------------------------------------------
    def get_queue(self, scope: Scope, instance_id: str, queue_id: str) -> Queue | None:
        row = self._db.execute(
            "SELECT doc FROM queues WHERE account=? AND region=? AND instance_id=? AND id=?",
            (scope.account, scope.region, instance_id, queue_id),
        ).fetchone()
        return load(Queue, row[0]) if row else None

    def queue_by_name(self, scope: Scope, instance_id: str, name: str) -> Queue | None:
        row = self._db.execute(
            "SELECT doc FROM queues WHERE account=? AND region=? AND instance_id=? AND name=?",
            (scope.account, scope.region, instance_id, name),
        ).fetchone()
        return load(Queue, row[0]) if row else None

    def put_queue(self, scope: Scope, queue: Queue) -> None:
        self._guard_instance(scope, queue.instance_id)
        self._db.execute(
            "INSERT INTO queues (account, region, instance_id, id, name, type, doc) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT (account, region, instance_id, id) DO UPDATE SET name=excluded.name, type=excluded.type,"
            " doc=excluded.doc",
            (scope.account, scope.region, queue.instance_id, queue.id, queue.name, queue.type, dump(queue)),
        )

    def list_queues(
        self, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
    ) -> Page[Queue]:
        sql = "SELECT id, doc FROM queues WHERE account=? AND region=? AND instance_id=? AND id>?"
        args: list[object] = [scope.account, scope.region, instance_id, after or ""]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            args.extend(sorted(types))
        rows = self._db.execute(sql + " ORDER BY id LIMIT ?", (*args, limit + 1)).fetchall()
        return _page([load(Queue, r[1]) for r in rows], [r[0] for r in rows], limit)

    def waiting_contacts(self, scope: Scope, instance_id: str, queue_id: str, now: datetime) -> list[Contact]:
        rows = self._db.execute(
            "SELECT c.doc FROM queued q JOIN contacts c ON c.account=q.account AND c.region=q.region"
            " AND c.id=q.contact_id WHERE q.account=? AND q.region=? AND q.instance_id=? AND q.queue_id=?"
            " AND q.scheduled_end>? ORDER BY q.enqueued, q.contact_id",
            (scope.account, scope.region, instance_id, queue_id, now.timestamp()),
        ).fetchall()
        return [load(Contact, r[0]) for r in rows]

    def count_waiting(self, scope: Scope, instance_id: str, queue_id: str, now: datetime) -> int:
        self._dialect.guard(f"queue\x1f{scope.account}\x1f{scope.region}\x1f{instance_id}\x1f{queue_id}")
        row = self._db.execute(
            "SELECT COUNT(*) FROM queued WHERE account=? AND region=? AND instance_id=? AND queue_id=?"
            " AND scheduled_end>?",
            (scope.account, scope.region, instance_id, queue_id, now.timestamp()),
        ).fetchone()
        return int(row[0])

    def get_hours(self, scope: Scope, instance_id: str, hours_id: str) -> HoursOfOperation | None:
        row = self._db.execute(
            "SELECT doc FROM hours WHERE account=? AND region=? AND instance_id=? AND id=?",
            (scope.account, scope.region, instance_id, hours_id),
        ).fetchone()
        return load(HoursOfOperation, row[0]) if row else None

    def hours_by_name(self, scope: Scope, instance_id: str, name: str) -> HoursOfOperation | None:
        self._dialect.guard(f"hours\x1f{scope.account}\x1f{scope.region}\x1f{instance_id}\x1f{name}")  # no unique index
        row = self._db.execute(
            "SELECT doc FROM hours WHERE account=? AND region=? AND instance_id=? AND name=? ORDER BY id LIMIT 1",
            (scope.account, scope.region, instance_id, name),
        ).fetchone()
        return load(HoursOfOperation, row[0]) if row else None

    def put_hours(self, scope: Scope, hours: HoursOfOperation) -> None:
        self._guard_instance(scope, hours.instance_id)
        self._db.execute(
            "INSERT INTO hours (account, region, instance_id, id, name, doc) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (account, region, instance_id, id) DO UPDATE SET name=excluded.name, doc=excluded.doc",
            (scope.account, scope.region, hours.instance_id, hours.id, hours.name, dump(hours)),
        )

    def list_hours(self, scope: Scope, instance_id: str, after: str | None, limit: int) -> Page[HoursOfOperation]:
        rows = self._db.execute(
            "SELECT id, doc FROM hours WHERE account=? AND region=? AND instance_id=? AND id>? ORDER BY id LIMIT ?",
            (scope.account, scope.region, instance_id, after or "", limit + 1),
        ).fetchall()
        return _page([load(HoursOfOperation, r[1]) for r in rows], [r[0] for r in rows], limit)

    def get_lambda_function(self, scope: Scope, instance_id: str, arn: str) -> LambdaFunction | None:
        row = self._db.execute(
            "SELECT doc FROM lambda_functions WHERE account=? AND region=? AND instance_id=? AND arn=?",
            (scope.account, scope.region, instance_id, arn),
        ).fetchone()
        return load(LambdaFunction, row[0]) if row else None

    def put_lambda_function(self, scope: Scope, function: LambdaFunction) -> None:
        self._guard_instance(scope, function.instance_id)
        self._db.execute(
            "INSERT INTO lambda_functions (account, region, instance_id, arn, doc) VALUES (?,?,?,?,?)"
            " ON CONFLICT (account, region, instance_id, arn) DO UPDATE SET doc=excluded.doc",
            (scope.account, scope.region, function.instance_id, function.arn, dump(function)),
        )

    def delete_lambda_function(self, scope: Scope, instance_id: str, arn: str) -> bool:
        cursor = self._db.execute(
            "DELETE FROM lambda_functions WHERE account=? AND region=? AND instance_id=? AND arn=?",
            (scope.account, scope.region, instance_id, arn),
        )
        return cursor.rowcount > 0

    def list_lambda_functions(
        self, scope: Scope, instance_id: str, after: str | None, limit: int
    ) -> Page[LambdaFunction]:
        rows = self._db.execute(
            "SELECT arn, doc FROM lambda_functions WHERE account=? AND region=? AND instance_id=? AND arn>?"
            " ORDER BY arn LIMIT ?",
            (scope.account, scope.region, instance_id, after or "", limit + 1),
        ).fetchall()
        return _page([load(LambdaFunction, r[1]) for r in rows], [r[0] for r in rows], limit)

    # idempotency -----------------------------------------------------------------------------
    def get_idempotent(self, scope: Scope, key: str, now: datetime) -> tuple[str, str] | None:
        """The live record for `key`. Runs inside a writing unit, so every SWEEP_EVERY-th lookup also deletes
        expired records: the table holds at most what --idempotency-ttl seconds of requests leave."""
        if self._lookups.sweep_due():
            self._db.execute("DELETE FROM idempotency WHERE expires<=?", (now.timestamp(),))
        row = self._db.execute(
            "SELECT fingerprint, response FROM idempotency WHERE account=? AND region=? AND key=? AND expires>?",
            (scope.account, scope.region, key, now.timestamp()),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put_idempotent(self, scope: Scope, key: str, fingerprint: str, response: str, expires: datetime) -> None:
        self._db.execute(
            "INSERT INTO idempotency (account, region, key, fingerprint, response, expires)"
            " VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (account, region, key) DO UPDATE SET fingerprint=excluded.fingerprint,"
            " response=excluded.response, expires=excluded.expires",
            (scope.account, scope.region, key, fingerprint, response, expires.timestamp()),
        )


def _page(items: list[T], keys: list[str], limit: int) -> Page[T]:
    if len(items) > limit:
        return Page(items[:limit], keys[limit - 1])
    return Page(items, None)
