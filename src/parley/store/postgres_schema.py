"""The PostgreSQL schema, derived from the one schema of schema.py, and what differs in introspecting it.

schema.STATEMENTS is written for SQLite; each statement is translated word for word: REAL becomes DOUBLE
PRECISION, BLOB BYTEA, INTEGER BIGINT, an AUTOINCREMENT key a BIGSERIAL, and TEXT compares by code point
(COLLATE "C", SQLite's BINARY), so that lists, pages and `id > ?` continuations order alike on both engines
whatever the database's own collation. A table without its own `seq`
gets an explicit `rowid BIGSERIAL`: SQLite's implicit rowid, spelled out, so that `ORDER BY rowid` means
insertion order on both engines. Statements appended to schema.py later (new tables) come along unchanged.
"""

from __future__ import annotations

import re
from functools import cache

import psycopg

from parley.store import schema
from parley.store.dialect import ROWID, SEQUENCED, Db, Table, quoted

VERSION_KEY = "schema_version"  # the meta row holding the schema version (SQLite keeps it in user_version)
MIGRATION_LOCK = 0x5041524C4559  # pg_advisory_xact_lock key ("PARLEY"): one node migrates at a time

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


@cache
def statements() -> tuple[str, ...]:
    return tuple(translated(statement) for statement in schema.STATEMENTS)


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

    def __init__(self, db: Db) -> None:
        self._db = db

    def tables(self) -> dict[str, Table]:
        names = [name for name in table_names(self._db) if name not in schema.NOT_EXPORTED]
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
