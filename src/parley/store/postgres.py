"""The PostgreSQL store: the `Store` port (store/port.py) over psycopg 3 and a psycopg_pool connection pool,
for several Parley nodes sharing one database.

Sync pool, units on worker threads. A unit of work is a synchronous domain function `unit(repo)` that
calls the repository many times and decides between the calls (chat/ports.py), so its statements cannot
be awaited one by one without making the whole domain async. Each unit therefore runs on one worker thread
holding one pooled connection for the whole transaction: one thread hop per unit, not per statement. With
an async pool the unit would still need a thread (its repository calls are synchronous), and a second
event-loop round trip per statement on top; asyncpg has the same problem plus no sync API at all. The hop
costs a few tens of microseconds beside a network round trip to PostgreSQL per statement, which dominates.
The worker pool is as large as the connection pool, so no unit waits for a connection while holding a thread.

Isolation. Every writing unit is ONE transaction at SERIALIZABLE isolation: PostgreSQL then guarantees the
outcome of some serial order of the units of every node, which is the contract the SQLite store gives by
running units one at a time. A unit that loses a race (SQLSTATE 40001 serialization failure, 40P01
deadlock, or 23505 unique violation from a concurrent insert of the same key) is rolled back and run
again from the start, up to MAX_ATTEMPTS times with a jittered backoff; the rerun sees the winner's
committed rows. This is what makes one ClientToken sent to two nodes at once create one participant, and
a timer checked by two nodes at once end a chat once. Read-only units run READ ONLY at REPEATABLE READ: one
consistent snapshot, never a serialization failure. A response is sent only after COMMIT returned. A unit
whose pooled connection turns out lost at BEGIN (PostgreSQL restarted, a proxy cut it) runs on another.

Schema: postgres_schema.py, applied at start inside one transaction holding an advisory lock, so several
nodes starting at once migrate once; the version is kept in `meta`. The secret and the cluster id are
created race-free (INSERT … ON CONFLICT DO NOTHING, then SELECT), so every node reads the same.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool

from parley.chat.ports import UnitOfWork
from parley.store import postgres_schema, schema
from parley.store.postgres_schema import MIGRATION_LOCK, VERSION_KEY, PostgresDialect
from parley.store.sql_repo import Lookups, SqlRepo

T = TypeVar("T")
Unit = Callable[[UnitOfWork], T]
log = logging.getLogger("parley.store")

POOL_SIZE = 8  # connections, and worker threads running units on them
CONNECT_TIMEOUT = 10  # seconds to reach the database at start
MAX_ATTEMPTS = 20  # runs of a unit that keeps losing races before its error is the answer
RETRIED = frozenset({"40001", "40P01", "23505"})  # serialization failure, deadlock, concurrent insert
BEGIN_WRITE = "BEGIN ISOLATION LEVEL SERIALIZABLE"
BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
# A sequential scan takes a predicate lock on the whole table under SERIALIZABLE, so while tables are small
# (and the planner prefers scanning them) every reader conflicts with every writer and units fail as
# serialization failures by the hundred; index scans lock only the pages they read (PostgreSQL's manual,
# "Serializable Isolation Level", advises encouraging index scans for that reason).
SESSION_OPTIONS = "-c enable_seqscan=off"


@lru_cache(maxsize=4096)
def _placeholders(sql: str) -> str:
    """The repository's `?` placeholders as psycopg's `%s` (a literal % doubled), once per statement text."""
    return sql.replace("%", "%%").replace("?", "%s")


NUL, ESCAPE = "\x00", "\ue000"  # ESCAPE: a private-use character


def _text(value: Any) -> Any:
    """PostgreSQL TEXT cannot hold NUL, which SQLite keeps and a request may carry (a ClientToken). A text
    parameter holding one is written with NUL as ESCAPE + "0" and ESCAPE doubled: one-to-one, so equality,
    keys and uniqueness hold as on SQLite. Records themselves are JSON documents, where NUL is escaped anyway."""
    if isinstance(value, str) and (NUL in value or ESCAPE in value):
        return value.replace(ESCAPE, ESCAPE * 2).replace(NUL, ESCAPE + "0")
    return value


class PgSession:
    """One pooled connection as the repository's `Db`: `?` placeholders translated, text made storable."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._conn.execute(_placeholders(sql), [_text(value) for value in parameters])


class StoreUnavailable(Exception):
    """The database cannot be reached or opened at start (the message says why, without the password)."""


def _reachable(url: str) -> None:
    """One direct connection first: an unreachable server or a missing database fails at once and clearly,
    where the pool would retry in the background until its start-up timeout."""
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
    except psycopg.Error as error:
        raise StoreUnavailable(str(error).strip()) from None


class _NotBegun(Exception):
    """The transaction could not even begin (the connection was lost): the unit never ran, so running it
    again on another connection is safe. The pool discards the broken one."""

    def __init__(self, cause: psycopg.OperationalError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _roll_back(conn: psycopg.Connection[Any]) -> None:
    """Ends a failed transaction; on a lost connection there is nothing left to end (the pool drops it)."""
    try:
        if not conn.closed:
            conn.execute("ROLLBACK")
    except psycopg.OperationalError:
        log.debug("rollback on a lost connection")


def _backoff(attempt: int) -> None:
    """Up to 1, 2, 4 … 50 ms, at random: two nodes that collided do not collide again in step."""
    time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.05)))


class PostgresStore:
    """The `Store` port over PostgreSQL (see the module docstring for the choices)."""

    durable = True

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        _reachable(url)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "options": SESSION_OPTIONS},
            open=False,
            name="parley",
        )
        self._pool.open(wait=True, timeout=30)
        self._threads = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="parley-pg")
        self._known: dict[str, str] = {}
        self._lookups = Lookups()  # idempotency lookups of every unit, so expired records are swept
        try:
            self.created_tables = self._migrate()
        except BaseException:
            self.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------
    def _migrate(self) -> frozenset[str]:
        """Creates what is missing, one node at a time; answers the tables this opening created."""
        with self._pool.connection() as conn, conn.transaction():
            db = PgSession(conn)
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            before = set(postgres_schema.table_names(db))
            if "meta" in before:
                row = db.execute("SELECT value FROM meta WHERE key=?", (VERSION_KEY,)).fetchone()
                if row and int(row[0]) > schema.VERSION:
                    raise RuntimeError(f"the database schema is version {row[0]}; this Parley knows {schema.VERSION}")
            for statement in postgres_schema.statements():
                db.execute(statement)
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (VERSION_KEY, str(schema.VERSION)),
            )
            return frozenset(set(postgres_schema.table_names(db)) - before)

    def secret(self) -> bytes:
        """The server secret kept in the database: every node of it signs and checks with the same one."""
        return bytes.fromhex(self._meta("secret", secrets.token_bytes(32).hex()))

    def cluster_id(self) -> str:
        return self._meta("cluster_id", secrets.token_hex(16))

    def _meta(self, key: str, fresh: str) -> str:
        """The meta value of `key`; the first node to ask sets it to `fresh`, the others read that one.
        Such a value never changes once set, so it is read once."""
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._read_meta(key, fresh)
        return known

    def _read_meta(self, key: str, fresh: str) -> str:
        with self._pool.connection() as conn:
            db = PgSession(conn)
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, fresh))
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            assert row is not None  # inserted above, or by another node before
            return str(row[0])

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._pool.close()

    # -- units of work --------------------------------------------------------------------------
    async def run(self, unit: Unit[T]) -> T:
        """Runs a writing unit in one SERIALIZABLE transaction, again if it lost a race; returns once committed."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._write, unit)

    async def read(self, unit: Unit[T]) -> T:
        """Runs a read-only unit on one consistent snapshot."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._read, unit)

    def _write(self, unit: Unit[T]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._transaction(BEGIN_WRITE, unit)
            except _NotBegun as error:
                if attempt == MAX_ATTEMPTS:
                    raise error.cause from None
            except psycopg.Error as error:
                if error.sqlstate not in RETRIED or attempt == MAX_ATTEMPTS:
                    raise
                log.debug("unit lost a race (%s), attempt %d; running it again", error.sqlstate, attempt)
            _backoff(attempt)
        raise AssertionError("unreachable")

    def _read(self, unit: Unit[T]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._transaction(BEGIN_READ, unit)
            except _NotBegun as error:
                if attempt == MAX_ATTEMPTS:
                    raise error.cause from None
                _backoff(attempt)
        raise AssertionError("unreachable")

    def _transaction(self, begin: str, unit: Unit[T]) -> T:
        with self._pool.connection() as conn:
            session = PgSession(conn)
            try:
                session.execute(begin)
            except psycopg.OperationalError as error:  # a pooled connection the server dropped: nothing ran
                raise _NotBegun(error) from error
            try:
                result = unit(SqlRepo(session, PostgresDialect(session), self._lookups))
                session.execute("COMMIT")
            except BaseException:
                _roll_back(conn)
                raise
            return result
