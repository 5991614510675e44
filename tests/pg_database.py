"""A PostgreSQL database of a test's own (random name, dropped afterwards) on the server `tests/backing.py`
names, so tests running in parallel never share one."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.backing import postgres_url


@contextlib.contextmanager
def own_database() -> Iterator[str]:
    """Yields the URL of a new, empty database; drops it (closing what still uses it) at the end."""
    server = postgres_url()
    name = f"parley_test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
