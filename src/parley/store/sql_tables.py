"""The `Records` port over SQLite: every table's rows, generically, for state snapshots.

A snapshot holds what the schema holds, table by table, so tables added later come along without a
change here. Rows are `{column: value}`; a `doc` column (the JSON document of a record) is decoded to
its JSON value, and BLOBs stay bytes (the snapshot service encodes them). The tables of
`schema.NOT_EXPORTED` (the token secret, ClientToken records holding tokens) never leave or enter.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from parley.chat.errors import Invalid
from parley.store import schema

DOC = "doc"  # the column holding a record's JSON document, by the schema's convention


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteTables:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._db = conn

    def _tables(self) -> dict[str, tuple[str, ...]]:
        """Exportable table -> its columns, in the schema's order."""
        names = [
            row[0]
            for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY rowid")
            if not row[0].startswith("sqlite_") and row[0] not in schema.NOT_EXPORTED
        ]
        return {
            name: tuple(info[1] for info in self._db.execute(f"PRAGMA table_info({_quoted(name)})")) for name in names
        }

    def dump_records(self) -> dict[str, list[dict[str, Any]]]:
        """Every exportable table's rows, in insertion order."""
        dumped: dict[str, list[dict[str, Any]]] = {}
        for table, columns in self._tables().items():
            listed = ", ".join(_quoted(column) for column in columns)
            try:
                rows = self._db.execute(f"SELECT {listed} FROM {_quoted(table)} ORDER BY rowid").fetchall()
            except sqlite3.OperationalError:  # a WITHOUT ROWID table: its key order will do
                rows = self._db.execute(f"SELECT {listed} FROM {_quoted(table)}").fetchall()
            dumped[table] = [
                {
                    column: json.loads(value) if column == DOC else value
                    for column, value in zip(columns, row, strict=True)
                }
                for row in rows
            ]
        return dumped

    def load_records(self, tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, int]:
        """Inserts the rows (a row with the key of an existing one replaces it); counts per table.
        Raises `Invalid` naming the table, column or constraint at fault; the caller's unit rolls back."""
        known = self._tables()
        counts: dict[str, int] = {}
        for table, rows in tables.items():
            columns = known.get(table)
            if columns is None:
                raise Invalid(f"unknown table {table!r}; this Parley stores {', '.join(sorted(known))}")
            counts[table] = sum(self._load_row(table, columns, row) for row in rows)
        return counts

    def _load_row(self, table: str, columns: tuple[str, ...], row: dict[str, Any]) -> int:
        extra = sorted(set(row) - set(columns))
        if extra:
            raise Invalid(f"table {table!r} has no column {extra[0]!r}")
        names = list(row)
        values = [_stored(row[name]) if name == DOC else row[name] for name in names]
        listed = ", ".join(_quoted(name) for name in names)
        marks = ", ".join("?" for _ in names)
        try:
            self._db.execute(f"INSERT OR REPLACE INTO {_quoted(table)} ({listed}) VALUES ({marks})", values)
        except (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError) as error:
            raise Invalid(f"a row of table {table!r} cannot be stored: {error}") from None
        return 1


def _stored(doc: object) -> str:
    """A record's document as the store keeps it (compact JSON text)."""
    return doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))
