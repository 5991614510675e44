"""What differs between the SQL engines, kept small: the connection shape the repository writes through
(`Db`), and the `Dialect` hook for the few things standard SQL cannot say alike on SQLite and PostgreSQL —
which tables and columns exist (for snapshots), and resetting or catching up the item numbering.

Every statement of the repository (sql_repo, sql_streams, sql_inventory, sql_tables) is one text run
unchanged on both engines; only the placeholder style differs, and the PostgreSQL session translates it.
Both engines order rows by insertion through a `rowid` column: SQLite's own, and on PostgreSQL an explicit
BIGSERIAL of that name (postgres_schema.py), hidden from snapshots as SQLite hides its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from parley.store import schema

ROWID = "rowid"  # the insertion order, on both engines
SEQUENCED = ("items", "stream_outbox")  # tables numbered by their own `seq` (SQLite AUTOINCREMENT, BIGSERIAL)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """A connection inside the caller's transaction: `?` placeholders, positional parameters."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...


@dataclass(frozen=True, slots=True)
class Table:
    """An exportable table: its columns in the schema's order, its key, and the order its rows dump in."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    order: str


class Dialect(Protocol):
    load_errors: tuple[type[BaseException], ...]  # what a malformed snapshot row raises

    def tables(self) -> dict[str, Table]:
        """Exportable tables (not schema.NOT_EXPORTED), in the order the schema creates them."""
        ...

    def restart_item_numbers(self) -> None:
        """After everything is removed: the next item is number 1 again, as on a fresh server."""
        ...

    def numbering_after_load(self) -> None:
        """After rows with explicit `seq` values were loaded: new rows are numbered after them."""
        ...


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteDialect:
    load_errors: tuple[type[BaseException], ...] = (
        sqlite3.IntegrityError,
        sqlite3.InterfaceError,
        sqlite3.ProgrammingError,
    )

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._db = conn

    def tables(self) -> dict[str, Table]:
        names = [
            row[0]
            for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY rowid")
            if not row[0].startswith("sqlite_") and row[0] not in schema.NOT_EXPORTED
        ]
        return {name: self._table(name) for name in names}

    def _table(self, name: str) -> Table:
        info = self._db.execute(f"PRAGMA table_info({quoted(name)})").fetchall()
        key = tuple(row[1] for row in sorted((row for row in info if row[5]), key=lambda row: row[5]))
        return Table(name, tuple(row[1] for row in info), key, ROWID)

    def restart_item_numbers(self) -> None:
        self._db.execute("DELETE FROM sqlite_sequence WHERE name='items'")

    def numbering_after_load(self) -> None:
        """SQLite's AUTOINCREMENT already continues after the largest number stored."""
