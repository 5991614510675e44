"""The SQLite store: units of work over the `Repo` port.

In memory (no data directory), a unit of work runs inline on the event loop: there is no disk
to wait for, and running it inline makes every unit atomic with respect to the others. `parley serve`
keeps its in-memory state in store/memory/ instead (no SQL, no JSON); SQLite in memory stays as the
reference the store tests hold that store to, and for tests that want SQL without a file.

Durable (`--data-dir`), every writing unit goes to ONE writer thread, which drains whatever is
queued, runs each unit in its own SAVEPOINT (a lone unit needs none: the batch is that unit), and commits
the batch once (WAL, synchronous=FULL):
group commit, so an fsync is shared by every request in the batch. A response is sent only after
its batch has committed. Read-only units run inline on a second connection (WAL readers never
wait for the writer).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import secrets
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from parley.chat.ports import UnitOfWork
from parley.store import schema
from parley.store.sql_repo import SqlRepo

T = TypeVar("T")
Unit = Callable[[UnitOfWork], T]
log = logging.getLogger("parley.store")

MAX_BATCH = 256


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=256)
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _migrate(conn: sqlite3.Connection) -> frozenset[str]:
    """Creates what is missing; answers the tables it created (all of them for a new database)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > schema.VERSION:
        raise RuntimeError(f"the database schema is version {version}; this Parley knows {schema.VERSION}")
    before = _tables(conn)
    for statement in (*schema.STATEMENTS, *schema.SQLITE_COUNTING, schema.active_counts_backfill("substr(id, -1)")):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version={schema.VERSION}")
    return frozenset(_tables(conn) - before)


def _run_unit(conn: sqlite3.Connection, repo: SqlRepo, unit: Unit[T]) -> T:
    """One unit inside the in-memory store's everlasting transaction: a SAVEPOINT, released or rolled back.

    An in-memory database has nothing to make durable, and SQLite's COMMIT on it costs time that grows
    with the database (169 µs at 43k chats, measured in bench/), so the memory store never commits."""
    conn.execute("SAVEPOINT unit")
    try:
        result = unit(repo)
    except BaseException:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        raise
    conn.execute("RELEASE unit")
    return result


def _deliver(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class SqliteStore:
    """The `Store` port over SQLite (store/port.py)."""

    def __init__(self, data_dir: str | None, synchronous: str = "FULL") -> None:
        self.path = os.path.join(data_dir, "parley.sqlite3") if data_dir else ":memory:"
        self.durable = data_dir is not None
        if data_dir:
            os.makedirs(data_dir, exist_ok=True)
        self._conn = _connect(self.path, synchronous)
        # Tables this opening created: a data directory written before queues existed gets them now, and
        # its instances need what a new instance starts with (services/upgrade.py).
        self.created_tables = _migrate(self._conn)
        if not self.durable:
            self._conn.execute("BEGIN")
        self._repo = SqlRepo(self._conn)
        self._known: dict[str, str] = {}  # meta values read (the secret, the cluster id)
        self._queue: queue.SimpleQueue[tuple[Unit[Any], asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader: sqlite3.Connection | None = None
        self._reader_repo: SqlRepo | None = None
        if self.durable:
            self._reader = _connect(self.path, synchronous)
            self._reader_repo = SqlRepo(self._reader)
            self._writer = threading.Thread(target=self._write_loop, name="parley-sqlite-writer", daemon=True)
            self._writer.start()

    # -- lifecycle ------------------------------------------------------------------------------
    def secret(self) -> bytes:
        """The server secret kept with the data, so tokens outlive a restart; created on first use."""
        return bytes.fromhex(self._meta("secret", secrets.token_bytes(32).hex()))

    def cluster_id(self) -> str:
        """Kept with the data like the secret: in memory, one per store."""
        return self._meta("cluster_id", secrets.token_hex(16))

    def _meta(self, key: str, fresh: str) -> str:
        """The meta value of `key`, set to `fresh` if it has none yet. Read once: it never changes, and the
        writer thread owns the connection once requests flow (app.py asks before serving)."""
        known = self._known.get(key)
        if known is None:
            self._conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, fresh))
            row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            known = self._known[key] = str(row[0])
        return known

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=10)
            self._writer = None
        if self._reader is not None:
            self._reader.close()
        self._conn.close()

    # -- units of work --------------------------------------------------------------------------
    async def run(self, unit: Unit[T]) -> T:
        """Runs a writing unit atomically; returns once it is committed."""
        if not self.durable:
            return _run_unit(self._conn, self._repo, unit)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put((unit, future))
        return await future

    async def read(self, unit: Unit[T]) -> T:
        """Runs a read-only unit on a consistent snapshot."""
        if self._reader is None or self._reader_repo is None:
            return _run_unit(self._conn, self._repo, unit)
        self._reader.execute("BEGIN")
        try:
            return unit(self._reader_repo)
        finally:
            self._reader.execute("COMMIT")

    # -- the writer thread ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit_batch(batch)
            if stop:
                return

    def _commit_batch(self, batch: list[tuple[Unit[Any], asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:  # a lone unit needs no SAVEPOINT: if it fails, the whole batch rolls back
                outcomes.append((batch[0][1], *self._run_alone(conn, batch[0][0])))
            else:
                for unit, future in batch:
                    outcomes.append((future, *self._run_in_savepoint(conn, unit)))
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:  # the batch is lost as a whole: every caller learns it
            log.exception("group commit failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(future, None, exc) for _, future in batch]
        # One wake-up of the event loop per batch, not per request.
        batch[0][1].get_loop().call_soon_threadsafe(_deliver, outcomes)

    def _run_alone(self, conn: sqlite3.Connection, unit: Unit[Any]) -> tuple[Any, BaseException | None]:
        try:
            return unit(self._repo), None
        except Exception as exc:
            conn.execute("ROLLBACK")
            return None, exc

    def _run_in_savepoint(self, conn: sqlite3.Connection, unit: Unit[Any]) -> tuple[Any, BaseException | None]:
        conn.execute("SAVEPOINT unit")
        try:
            result = unit(self._repo)
        except Exception as exc:
            conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
            return None, exc
        conn.execute("RELEASE unit")
        return result, None
