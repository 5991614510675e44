"""The `Records` port over SQL: every table's rows, generically, for state snapshots.

A snapshot holds what the schema holds, table by table, so tables added later come along without a
change here. Rows are `{column: value}`; a `doc` column (the JSON document of a record) is decoded to
its JSON value, and BLOBs stay bytes (the snapshot service encodes them). The tables of
`schema.NOT_EXPORTED` (the token secret, ClientToken records holding tokens) never leave or enter.
Which tables and columns exist is the dialect's to say; the statements are the same on every engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from parley.chat.errors import Invalid
from parley.store.dialect import Db, Dialect, Table, quoted

DOC = "doc"  # the column holding a record's JSON document, by the schema's convention


class SqlTables:
    _db: Db
    _dialect: Dialect

    def dump_records(self) -> dict[str, list[dict[str, Any]]]:
        """Every exportable table's rows, in insertion order."""
        dumped: dict[str, list[dict[str, Any]]] = {}
        for name, table in self._dialect.tables().items():
            listed = ", ".join(quoted(column) for column in table.columns)
            rows = self._db.execute(f"SELECT {listed} FROM {quoted(name)} ORDER BY {table.order}").fetchall()
            dumped[name] = [
                {
                    column: json.loads(value) if column == DOC else _plain(value)
                    for column, value in zip(table.columns, row, strict=True)
                }
                for row in rows
            ]
        return dumped

    def load_records(self, tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, int]:
        """Inserts the rows (a row with the key of an existing one replaces it); counts per table.
        Raises `Invalid` naming the table, column or constraint at fault; the caller's unit rolls back."""
        known = self._dialect.tables()
        counts: dict[str, int] = {}
        for name, rows in tables.items():
            table = known.get(name)
            if table is None:
                raise Invalid(f"unknown table {name!r}; this Parley stores {', '.join(sorted(known))}")
            counts[name] = sum(self._load_row(table, row) for row in rows)
        self._dialect.numbering_after_load()
        return counts

    def _load_row(self, table: Table, row: dict[str, Any]) -> int:
        extra = sorted(set(row) - set(table.columns))
        if extra:
            raise Invalid(f"table {table.name!r} has no column {extra[0]!r}")
        names = list(row)
        values = [_stored(row[name]) if name == DOC else row[name] for name in names]
        try:
            self._db.execute(_upsert(table, names), values)
        except self._dialect.load_errors as error:
            raise Invalid(f"a row of table {table.name!r} cannot be stored: {error}") from None
        return 1


def _upsert(table: Table, names: list[str]) -> str:
    """INSERT of the given columns; a row with the same key is replaced by the given values."""
    listed = ", ".join(quoted(name) for name in names)
    marks = ", ".join("?" for _ in names)
    changed = [name for name in names if name not in table.key]
    if not table.key:
        return f"INSERT INTO {quoted(table.name)} ({listed}) VALUES ({marks})"
    target = ", ".join(quoted(name) for name in table.key)
    if not changed:
        return f"INSERT INTO {quoted(table.name)} ({listed}) VALUES ({marks}) ON CONFLICT ({target}) DO NOTHING"
    updates = ", ".join(f"{quoted(name)}=excluded.{quoted(name)}" for name in changed)
    return (
        f"INSERT INTO {quoted(table.name)} ({listed}) VALUES ({marks}) ON CONFLICT ({target}) DO UPDATE SET {updates}"
    )


def _plain(value: Any) -> Any:
    """A column's value as a snapshot holds it: bytes as bytes, whatever buffer the driver answers."""
    return bytes(value) if isinstance(value, memoryview) else value


def _stored(doc: object) -> str:
    """A record's document as the store keeps it (compact JSON text)."""
    return doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))
