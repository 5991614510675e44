"""The `Inventory` port over SQL: the admin API's view across scopes, and removing a selection.

A `Selection` becomes one WHERE clause per table; rows hang off contacts by (account, region, id)
and transcripts by (account, region, chain_id), so a removal is a handful of set-based DELETEs in the
caller's transaction. The `meta` table (the token secret) is never touched.
"""

from __future__ import annotations

from parley.chat.model import (
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
from parley.store.codec import load
from parley.store.dialect import Db, Dialect, SqliteDialect


def where(selection: Selection, instance: str, contact: str | None = None) -> tuple[str, list[object]]:
    """`col=? AND …` for the selection's set fields; `instance`/`contact` name this table's columns."""
    pairs = (
        ("account", selection.account),
        ("region", selection.region),
        (instance, selection.instance_id),
        (contact, selection.contact_id),
    )
    used = [(column, value) for column, value in pairs if column and value is not None]
    return " AND ".join(f"{column}=?" for column, _ in used) or "1=1", [value for _, value in used]


def _of_contacts(selection: Selection, key: str) -> tuple[str, list[object]]:
    """Rows whose (account, region, `key`) belong to a selected contact."""
    sql, args = where(selection, "instance_id", "id")
    column = "id" if key == "contact_id" else key
    return f"(account, region, {key}) IN (SELECT account, region, {column} FROM contacts WHERE {sql})", args


TABLES = {
    "hoursOfOperations": "hours",
    "lambdaFunctions": "lambda_functions",
    "flowRuns": "flow_runs",
}  # count -> table


class SqlInventory:
    def __init__(self, db: Db, dialect: Dialect | None = None) -> None:
        """`dialect` defaults to SQLite's, for which `db` must then be a sqlite3 connection."""
        self._db = db
        self._dialect: Dialect = dialect if dialect is not None else SqliteDialect(db)  # type: ignore[arg-type]

    def select_instances(self, selection: Selection) -> list[tuple[Scope, Instance]]:
        sql, args = where(selection, "id")
        rows = self._db.execute(
            f"SELECT account, region, doc FROM instances WHERE {sql} ORDER BY account, region, id", args
        ).fetchall()
        return [(Scope(r[0], r[1]), load(Instance, r[2])) for r in rows]

    def select_flows(self, selection: Selection) -> list[tuple[Scope, ContactFlow]]:
        sql, args = where(selection, "instance_id")
        rows = self._db.execute(
            f"SELECT account, region, doc FROM flows WHERE {sql} ORDER BY account, region, instance_id, name", args
        ).fetchall()
        return [(Scope(r[0], r[1]), load(ContactFlow, r[2])) for r in rows]

    def select_queues(self, selection: Selection) -> list[tuple[Scope, Queue]]:
        sql, args = where(selection, "instance_id")
        rows = self._db.execute(
            f"SELECT account, region, doc FROM queues WHERE {sql} ORDER BY account, region, instance_id, name", args
        ).fetchall()
        return [(Scope(r[0], r[1]), load(Queue, r[2])) for r in rows]

    def select_hours(self, selection: Selection) -> list[tuple[Scope, HoursOfOperation]]:
        sql, args = where(selection, "instance_id")
        rows = self._db.execute(
            f"SELECT account, region, doc FROM hours WHERE {sql} ORDER BY account, region, instance_id, name", args
        ).fetchall()
        return [(Scope(r[0], r[1]), load(HoursOfOperation, r[2])) for r in rows]

    def select_lambda_functions(self, selection: Selection) -> list[tuple[Scope, LambdaFunction]]:
        sql, args = where(selection, "instance_id")
        rows = self._db.execute(
            f"SELECT account, region, doc FROM lambda_functions WHERE {sql} ORDER BY account, region, instance_id, arn",
            args,
        ).fetchall()
        return [(Scope(r[0], r[1]), load(LambdaFunction, r[2])) for r in rows]

    def select_waiting(self, selection: Selection) -> list[tuple[Scope, Contact]]:
        """Contacts waiting in a queue (not accepted, not ended), the longest-waiting first."""
        sql, args = where(selection, "instance_id")
        rows = self._db.execute(
            f"SELECT q.account, q.region, c.doc FROM (SELECT * FROM queued WHERE {sql}) q JOIN contacts c"
            " ON c.account=q.account AND c.region=q.region AND c.id=q.contact_id ORDER BY q.enqueued, q.contact_id",
            args,
        ).fetchall()
        return [(Scope(r[0], r[1]), load(Contact, r[2])) for r in rows]

    def select_contacts(self, selection: Selection) -> list[tuple[Scope, Contact]]:
        sql, args = where(selection, "instance_id", "id")
        rows = self._db.execute(
            f"SELECT account, region, doc FROM contacts WHERE {sql} ORDER BY initiated, id", args
        ).fetchall()
        return [(Scope(r[0], r[1]), load(Contact, r[2])) for r in rows]

    def select_participants(self, selection: Selection) -> list[tuple[Scope, Participant]]:
        sql, args = _of_contacts(selection, "contact_id")
        rows = self._db.execute(f"SELECT account, region, doc FROM participants WHERE {sql} ORDER BY rowid", args)
        return [(Scope(r[0], r[1]), load(Participant, r[2])) for r in rows.fetchall()]

    def select_items(self, selection: Selection) -> list[tuple[Scope, Item]]:
        """Transcript items (persisted ones) of the selected contacts, in arrival order."""
        sql, args = _of_contacts(selection, "chain_id")
        rows = self._db.execute(
            f"SELECT account, region, seq, doc FROM items WHERE persisted=1 AND {sql} ORDER BY seq", args
        ).fetchall()
        found = []
        for account, region, seq, doc in rows:
            item = load(Item, doc)
            item.seq = seq
            if selection.contact_id is None or item.contact_id == selection.contact_id:
                found.append((Scope(account, region), item))
        return found

    def remove(self, selection: Selection) -> Removed:
        if selection.contact_id is not None:
            raise ValueError("a removal selects accounts, regions or instances, not one contact")
        contacts = [(Scope(r[0], r[1]), r[2]) for r in self._contact_keys(selection)]
        counts = {"idempotencyRecords": self._remove_client_tokens(selection)}
        if selection.instance_id is None:  # views belong to an account and region, not to an instance
            sql, args = where(Selection(selection.account, selection.region), "-")
            counts["views"] = self._db.execute(f"DELETE FROM views WHERE {sql}", args).rowcount
        for table, (sql, args) in (
            ("attachments", _of_contacts(selection, "contact_id")),
            ("flowRuns", _of_contacts(selection, "contact_id")),
            ("items", _of_contacts(selection, "chain_id")),
            ("participants", _of_contacts(selection, "contact_id")),
            ("queued", where(selection, "instance_id")),
            ("contacts", where(selection, "instance_id")),
            ("flows", where(selection, "instance_id")),
            ("queues", where(selection, "instance_id")),
            ("hoursOfOperations", where(selection, "instance_id")),
            ("lambdaFunctions", where(selection, "instance_id")),
            ("instances", where(selection, "id")),
        ):
            counts[table] = self._db.execute(f"DELETE FROM {TABLES.get(table, table)} WHERE {sql}", args).rowcount
        del counts["queued"]  # an index of the contacts, not something a user created
        if selection == Selection():  # everything: arrival numbers restart too, as on a fresh server
            self._dialect.restart_item_numbers()
        return Removed(counts, contacts)

    def _contact_keys(self, selection: Selection) -> list[tuple[str, str, str]]:
        sql, args = where(selection, "instance_id")
        return self._db.execute(f"SELECT account, region, id FROM contacts WHERE {sql}", args).fetchall()

    def _remove_client_tokens(self, selection: Selection) -> int:
        """ClientToken records of the selection: the Participant Service keeps them per participant (the
        participant's id in the region column); Connect's key holds the InstanceId between separators,
        and a CreateInstance record names the instance in its stored response."""
        if selection == Selection():
            return self._db.execute("DELETE FROM idempotency").rowcount
        sql, args = _of_contacts(selection, "contact_id")
        owned = self._db.execute(
            f"DELETE FROM idempotency WHERE region IN (SELECT id FROM participants WHERE {sql})", args
        ).rowcount
        sql, args = where(Selection(selection.account, selection.region), "-")
        if selection.instance_id is not None:
            # `replace(text, part, '') <> text`: "text contains part", said alike on SQLite and PostgreSQL
            sql += " AND (replace(key, ?, '') <> key OR replace(response, ?, '') <> response)"
            args += [f"\x1f{selection.instance_id}\x1f", selection.instance_id]
        return owned + self._db.execute(f"DELETE FROM idempotency WHERE {sql}", args).rowcount
