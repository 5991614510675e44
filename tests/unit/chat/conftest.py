"""A real in-memory SQLite repo for domain tests, and a fixed clock."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from parley.chat.model import Scope
from parley.store import schema
from parley.store.sql_repo import SqlRepo

SCOPE = Scope("111122223333", "us-east-1")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def repo() -> SqlRepo:
    conn = sqlite3.connect(":memory:")
    for statement in schema.STATEMENTS:
        conn.execute(statement)
    return SqlRepo(conn)


def sequential_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter), version=4))
