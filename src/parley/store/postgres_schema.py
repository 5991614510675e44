"""The PostgreSQL schema, derived from the one schema of schema.py, and what differs in introspecting it.

schema.STATEMENTS is written for SQLite; each statement is translated word for word: REAL becomes DOUBLE
PRECISION, BLOB BYTEA, INTEGER BIGINT, an AUTOINCREMENT key a BIGSERIAL, and TEXT compares by code point
(COLLATE "C", SQLite's BINARY), so that lists, pages and `id > ?` continuations order alike on both engines
whatever the database's own collation. A table without its own `seq`
gets an explicit `rowid BIGSERIAL`: SQLite's implicit rowid, spelled out, so that `ORDER BY rowid` means
insertion order on both engines. Statements appended to schema.py later (new tables) come along unchanged.

Guards (`PostgresDialect.guard`). Writing units run at REPEATABLE READ (postgres.py), which refuses a unit
that writes a row a concurrent unit wrote, but not write skew: two units that count the same rows (a
quota) and each insert a new one both pass. A rule checked that way is guarded by a row of its own: the
unit takes a transaction advisory lock on the rule's slot and bumps the slot's row in `guards`. Two units
guarding one slot then conflict on that row, and the later one fails with 40001 and runs again on a fresh
snapshot. The lock alone would not do: a unit's snapshot is taken at its first statement, before it waits
for the lock, so it would not see what the holder inserted. The lock makes the reruns queue instead of
failing each other: a unit whose guarded attempt failed takes its slots' locks (session level) BEFORE its
next BEGIN, so that attempt's snapshot already holds every earlier guarded unit (postgres.py). A slot is a
hash of the rule's name into GUARD_SLOTS: two rules sharing one only wait for each other now and then.
"""

from __future__ import annotations

import re
import zlib
from functools import cache

import psycopg

from parley.store import schema
from parley.store.dialect import ROWID, SEQUENCED, Db, Table, quoted

VERSION_KEY = "schema_version"  # the meta row holding the schema version (SQLite keeps it in user_version)
MIGRATION_LOCK = 0x5041524C4559  # pg_advisory_xact_lock key ("PARLEY"): one node migrates at a time
GUARD_SPACE = 0x5047  # first key of the two-key advisory locks of guards ("PG"); MIGRATION_LOCK is one-key
GUARD_SLOTS = 1 << 16  # rows `guards` holds at most
GUARDS = "guards"  # PostgreSQL's own table, never exported
GUARD_TABLE = f"CREATE TABLE IF NOT EXISTS {GUARDS} (slot INTEGER PRIMARY KEY, bumps BIGINT NOT NULL)"
# the lock, then the bump, in one round trip: the row to insert is made only once the lock is held
GUARD = (
    f"INSERT INTO {GUARDS} (slot, bumps) SELECT ?, 1 FROM (SELECT pg_advisory_xact_lock(?, ?)) AS locked"
    f" ON CONFLICT (slot) DO UPDATE SET bumps={GUARDS}.bumps+1"
)

_WORDS = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
)
_CREATE_TABLE = re.compile(r"^\s*CREATE TABLE", re.IGNORECASE)


def translated(statement: str) -> str:
    """One SQLite schema statement as PostgreSQL says it."""
    for pattern, replacement in _WORDS:
        statement = pattern.sub(replacement, statement)
    if _CREATE_TABLE.match(statement) and "BIGSERIAL PRIMARY KEY" not in statement:
        end = statement.rstrip().rindex(")")
        statement = f"{statement[:end]}, {ROWID} BIGSERIAL NOT NULL{statement[end:]}"
    return statement


# schema.ACTIVE_COUNTS_TABLE kept by one trigger function (SQLite's three triggers, in plpgsql); a contact
# updated without a change to what it counts (most updates) fires nothing: the WHEN is checked first.
_SLOT = "right({row}.id, 1)"
ACTIVE_COUNTS_FUNCTION = f"""CREATE OR REPLACE FUNCTION parley_active_counts() RETURNS trigger LANGUAGE plpgsql
AS $body$ BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.active = 1 THEN
        UPDATE active_counts SET count = count - 1 WHERE account = OLD.account AND region = OLD.region
        AND instance_id = OLD.instance_id AND channel = OLD.channel AND slot = {_SLOT.format(row="OLD")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.active = 1 THEN
        INSERT INTO active_counts (account, region, instance_id, channel, slot, count) VALUES (NEW.account,
        NEW.region, NEW.instance_id, NEW.channel, {_SLOT.format(row="NEW")}, 1)
        ON CONFLICT ({schema.ACTIVE_COUNTS_KEY}) DO UPDATE SET count = active_counts.count + 1;
    END IF;
    RETURN NULL;
END $body$"""
_TRIGGERS = (
    ("active_counts_added", "AFTER INSERT ON contacts FOR EACH ROW WHEN (NEW.active = 1)"),
    (
        "active_counts_changed",
        "AFTER UPDATE ON contacts FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active"
        " OR OLD.instance_id IS DISTINCT FROM NEW.instance_id OR OLD.channel IS DISTINCT FROM NEW.channel)",
    ),
    ("active_counts_removed", "AFTER DELETE ON contacts FOR EACH ROW WHEN (OLD.active = 1)"),
)
# Created only where missing: CREATE [OR REPLACE] TRIGGER locks `contacts` against writes, which a node
# starting beside serving ones must not do at every start.
ACTIVE_COUNTS_TRIGGERS = tuple(
    f"DO $body$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{name}'"
    f" AND tgrelid = 'contacts'::regclass) THEN CREATE TRIGGER {name} {when}"
    f" EXECUTE FUNCTION parley_active_counts(); END IF; END $body$"
    for name, when in _TRIGGERS
)


@cache
def statements() -> tuple[str, ...]:
    return (
        *(translated(statement) for statement in schema.STATEMENTS),
        GUARD_TABLE,
        ACTIVE_COUNTS_FUNCTION,
        *ACTIVE_COUNTS_TRIGGERS,
        schema.active_counts_backfill("right(id, 1)"),
    )


def guard_slot(rule: str) -> int:
    return zlib.crc32(rule.encode()) % GUARD_SLOTS


def table_names(db: Db) -> list[str]:
    """This schema's tables, in the order they were created."""
    rows = db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace"
        " WHERE n.nspname=current_schema() AND c.relkind='r' ORDER BY c.oid"
    )
    return [row[0] for row in rows]


class PostgresDialect:
    load_errors: tuple[type[BaseException], ...] = (
        psycopg.errors.IntegrityError,
        psycopg.errors.DataError,
        psycopg.errors.ProgrammingError,
    )

    def __init__(self, db: Db, guarded: set[int] | None = None) -> None:
        """`guarded` collects the slots this unit guards (across its attempts); None in a read-only unit,
        which writes nothing, so its reads cannot break a rule."""
        self._db = db
        self._guarded = guarded
        self._bumped: set[int] = set()  # this attempt's: one bump per slot is enough

    def tables(self) -> dict[str, Table]:
        names = [name for name in table_names(self._db) if name not in schema.NOT_EXPORTED and name != GUARDS]
        return {name: self._table(name) for name in names}

    def _table(self, name: str) -> Table:
        columns = [
            row[0]
            for row in self._db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema=current_schema()"
                " AND table_name=? ORDER BY ordinal_position",
                (name,),
            )
        ]
        key = tuple(
            row[0]
            for row in self._db.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid=i.indrelid"
                " AND a.attnum = ANY(i.indkey) WHERE i.indrelid=?::regclass AND i.indisprimary"
                " ORDER BY array_position(i.indkey::int2[], a.attnum)",
                (quoted(name),),
            )
        )
        order = ROWID if ROWID in columns else ", ".join(quoted(column) for column in key) or "1"
        return Table(name, tuple(column for column in columns if column != ROWID), key, order)

    def restart_item_numbers(self) -> None:
        self._db.execute("SELECT setval(pg_get_serial_sequence('items', 'seq'), 1, false)")

    def numbering_after_load(self) -> None:
        for table in SEQUENCED:
            self._db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), COALESCE(MAX(seq), 0) + 1, false)"
                f" FROM {quoted(table)}"
            )

    def guard(self, rule: str) -> None:
        slot = guard_slot(rule)
        if self._guarded is None or slot in self._bumped:
            return
        self._bumped.add(slot)
        self._guarded.add(slot)  # before the statements: a failure here is what makes the next attempt lock first
        self._db.execute(GUARD, (slot, GUARD_SPACE, slot))
