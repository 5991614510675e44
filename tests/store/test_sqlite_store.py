"""The SQLite store's own duties: a lone durable unit without a SAVEPOINT, and which store `parley serve`
keeps its state in."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from parley.app import build_app
from parley.chat.ports import UnitOfWork
from parley.settings import configure
from parley.store.memory.store import MemoryStore
from parley.store.sqlite import SqliteStore
from tests.store.scenario import A, at, contact, instance, run


def test_a_durable_unit_that_raises_leaves_nothing_alone_or_in_a_batch(tmp_path: Path) -> None:
    """A lone unit runs without a SAVEPOINT (its batch is itself); in a batch, each keeps its own."""
    store = SqliteStore(str(tmp_path))

    def put_then_fail(repo: UnitOfWork) -> None:
        repo.put_instance(A, instance("failed"))
        raise RuntimeError("the unit fails")

    async def batch() -> list[Any]:
        units = [lambda repo, n=n: repo.put_instance(A, instance(f"kept{n}")) for n in range(3)]
        return await asyncio.gather(*(store.run(u) for u in [*units, put_then_fail]), return_exceptions=True)

    try:
        with pytest.raises(RuntimeError):
            run(store, put_then_fail)
        run(store, lambda repo: repo.put_instance(A, instance("after")))
        answers = asyncio.run(batch())
        assert [type(a).__name__ for a in answers] == ["NoneType", "NoneType", "NoneType", "RuntimeError"]
        listed = run(store, lambda repo: repo.list_instances(A, None, 10))
        assert [i.id for i in listed.items] == ["after", "kept0", "kept1", "kept2"]
    finally:
        store.close()


def test_a_database_from_before_the_active_counts_gets_them_when_it_is_opened(tmp_path: Path) -> None:
    """A data directory written before the counts existed (no table, no triggers) is counted once at start."""
    store = SqliteStore(str(tmp_path))

    def start(repo: UnitOfWork) -> None:
        for n in range(10):
            repo.put_contact(A, contact(f"c-{n}", ended_at=at(0) if n < 3 else None))

    try:
        run(store, start)
    finally:
        store.close()
    [database] = [path for path in tmp_path.iterdir() if path.suffix in (".db", ".sqlite", ".sqlite3")]
    with sqlite3.connect(database) as old:
        for trigger in ("active_counts_added", "active_counts_changed", "active_counts_removed"):
            old.execute(f"DROP TRIGGER {trigger}")
        old.execute("DROP TABLE active_counts")
    store = SqliteStore(str(tmp_path))
    try:
        assert run(store, lambda repo: repo.count_active_contacts(A, "i1", "CHAT", at(0), 100)) == 7
        run(store, lambda repo: repo.put_contact(A, contact("c-new")))
        assert run(store, lambda repo: repo.count_active_contacts(A, "i1", "CHAT", at(0), 100)) == 8
    finally:
        store.close()


def test_serve_keeps_state_in_memory_without_a_data_dir_and_in_sqlite_with_one(tmp_path: Path) -> None:
    for settings, kind in ((configure(), MemoryStore), (configure(data_dir=str(tmp_path)), SqliteStore)):
        app = build_app(settings)
        try:
            assert type(app.store) is kind and app.store.durable is (kind is SqliteStore)
            assert "queues" in app.store.created_tables  # a new store: start-up gives its instances their queues
        finally:
            app.close()
