"""The store port: what every part of Parley outside `app.py` holds a store as. `app.py` alone picks the
adapter behind it (SQLite in memory or on disk, PostgreSQL, or a dict-based memory store).

A store runs the domain's units of work: synchronous functions `unit(repo)` over the `UnitOfWork` of
chat/ports.py. `run` executes a writing unit as one atomic transaction and answers only once it is
committed (durably, when the store is durable); `read` executes a read-only unit on a consistent
snapshot. A unit that raises leaves nothing behind.

A store may run a unit more than once: PostgreSQL runs a writing unit again when it lost a race with
another node (only the last run commits). So a unit keeps its results in what it returns, or resets what
it collects outside itself when it starts; it performs no effect beyond the repository (pushes, timers,
calls out happen after `run` returns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from parley.chat.ports import UnitOfWork

T = TypeVar("T")


class Store(Protocol):
    durable: bool  # a committed unit survives a restart of the process
    created_tables: frozenset[str]  # the tables this opening created (all of them for a new database)

    async def run(self, unit: Callable[[UnitOfWork], T]) -> T:
        """Runs a writing unit atomically; returns once it has committed."""
        ...

    async def read(self, unit: Callable[[UnitOfWork], T]) -> T:
        """Runs a read-only unit on a consistent snapshot."""
        ...

    def secret(self) -> bytes:
        """The server secret kept with the data (created on first use), so that tokens, NextTokens and
        signed URLs outlive a restart and are the same on every node of one database."""
        ...

    def cluster_id(self) -> str:
        """A stable random id of the data: the same for every node on one database, created on first use.
        A store whose data lives in the process has one per store object."""
        ...

    def close(self) -> None: ...
