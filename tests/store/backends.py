"""The store backends the contract suite runs on, by name: adding one is one line in BACKENDS.

Each opens a fresh, empty store and closes (and drops) it afterwards. The PostgreSQL one creates its own
database with a random name on the server tests/backing.py names, and drops it, so suites run in parallel.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from parley.store.memory.store import MemoryStore
from parley.store.port import Store
from parley.store.postgres import PostgresStore
from parley.store.sqlite import SqliteStore
from tests.backing import postgres_url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty database (random name, ICU en-US collation) on the test server; dropped
    afterwards."""
    server = postgres_url()
    name = "parley_test_" + secrets.token_hex(6)
    with psycopg.connect(server, autocommit=True) as admin:
        # a collation that is not code-point order (as on most servers): Parley must not depend on it
        admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
        )
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def memory(_: Path) -> Iterator[Store]:
    store = MemoryStore()
    yield store
    store.close()


@contextmanager
def sqlite_memory(_: Path) -> Iterator[Store]:
    store = SqliteStore(None)
    yield store
    store.close()


@contextmanager
def sqlite_file(data_dir: Path) -> Iterator[Store]:
    store = SqliteStore(str(data_dir))
    yield store
    store.close()


@contextmanager
def postgresql(_: Path) -> Iterator[Store]:
    with fresh_postgres_database() as url:
        store = PostgresStore(url)
        yield store
        store.close()


Opener = Callable[[Path], AbstractContextManager[Store]]
BACKENDS: dict[str, Opener] = {
    "memory": memory,
    "sqlite-memory": sqlite_memory,
    "sqlite-file": sqlite_file,
    "postgresql": postgresql,
}
