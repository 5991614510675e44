"""The in-memory store: what `parley serve` keeps when there is no --data-dir.

A unit of work runs inline on the event loop against dicts of the domain's records (no SQL, no JSON), so one
unit never interleaves with another and each is atomic: its changes are journaled, and undone if it raises.
Nothing is durable; `parley export` and `/_parley/state` still move the state to and from a durable store.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from parley.chat.ports import UnitOfWork
from parley.store.memory.leases import MemoryLeases
from parley.store.memory.records import COLUMNS

T = TypeVar("T")
Unit = Callable[[UnitOfWork], T]
# A new SQLite database creates these (schema.py, plus its AUTOINCREMENT bookkeeping); start-up asks.
TABLES = frozenset({"meta", "idempotency", "sqlite_sequence", *COLUMNS})


class MemoryRepo(MemoryLeases):
    """Every port of `UnitOfWork` over the in-memory tables."""


class MemoryStore:
    durable = False
    created_tables = TABLES

    def __init__(self) -> None:
        self._repo = MemoryRepo()
        self._secret: bytes | None = None
        self._cluster_id: str | None = None

    def secret(self) -> bytes:
        """The server secret for tokens, made on first use; it lives as long as the process, like the data."""
        if self._secret is None:
            self._secret = secrets.token_bytes(32)
        return self._secret

    def cluster_id(self) -> str:
        """Nobody else can share this data: an id of its own, per store object."""
        if self._cluster_id is None:
            self._cluster_id = secrets.token_hex(16)
        return self._cluster_id

    def close(self) -> None:
        """Nothing to release: the state goes with the process."""

    async def run(self, unit: Unit[T]) -> T:
        """Runs a writing unit atomically (a unit that raises leaves nothing behind)."""
        return self.run_now(unit)

    async def read(self, unit: Unit[T]) -> T:
        """Runs a read-only unit (the same way: a unit cannot tell reading from writing here)."""
        return self.run_now(unit)

    def run_now(self, unit: Unit[T]) -> T:
        repo = self._repo
        try:
            result = unit(repo)
        except BaseException:
            repo.rollback()
            raise
        repo.commit()
        return result

    @property
    def repo(self) -> MemoryRepo:
        """The repo itself, for tests that look inside."""
        return self._repo
