"""Leases (several nodes on one store): claim, contention between two stores on one file, takeover of a
lapsed lease, renewal, release, and the service that keeps a lease while work runs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from parley.services.leases import NodeLeases
from parley.store.port import Store
from parley.store.postgres import PostgresStore
from parley.store.sqlite import SqliteStore
from tests.store.backends import BACKENDS, fresh_postgres_database


def in_loop(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        asyncio.run(test(*args, **kwargs))  # type: ignore[arg-type]

    return run


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with BACKENDS[request.param](tmp_path) as opened:
        yield opened


async def claim(store: Store, name: str, holder: str, now: float, ttl: float = 10.0) -> bool:
    return await store.run(lambda repo: repo.claim_lease(name, holder, now, ttl))


@in_loop
async def test_a_free_lease_is_taken_and_a_held_one_is_refused(store: Store) -> None:
    assert await claim(store, "flow:c1", "a", 100.0)
    assert not await claim(store, "flow:c1", "b", 105.0)
    assert await claim(store, "flow:c2", "b", 105.0)  # another name is another lease
    assert await store.read(lambda repo: repo.list_leases()) == [("flow:c1", "a", 110.0), ("flow:c2", "b", 115.0)]


@in_loop
async def test_the_holder_renews_and_the_lease_lasts_from_the_renewal(store: Store) -> None:
    assert await claim(store, "flow:c1", "a", 100.0)
    assert await claim(store, "flow:c1", "a", 108.0)
    assert not await claim(store, "flow:c1", "b", 115.0)  # lapsed at 110 without the renewal; now at 118
    assert await store.read(lambda repo: repo.list_leases()) == [("flow:c1", "a", 118.0)]


@in_loop
async def test_a_lapsed_lease_is_taken_over(store: Store) -> None:
    assert await claim(store, "stream:s1", "a", 100.0)
    assert await claim(store, "stream:s1", "b", 110.5)
    assert not await claim(store, "stream:s1", "a", 111.0)  # the old holder cannot take it back
    assert await store.read(lambda repo: repo.held_leases("stream:", 111.0)) == {"stream:s1": "b"}


@in_loop
async def test_release_frees_only_the_holders_lease(store: Store) -> None:
    assert await claim(store, "flow:c1", "a", 100.0)
    await store.run(lambda repo: repo.release_lease("flow:c1", "b"))
    assert not await claim(store, "flow:c1", "b", 101.0)
    await store.run(lambda repo: repo.release_lease("flow:c1", "a"))
    assert await claim(store, "flow:c1", "b", 101.0)


@in_loop
async def test_a_stopping_node_gives_up_every_lease_it_holds(store: Store) -> None:
    for name, holder in (("flow:c1", "a"), ("stream:s1", "a"), ("flow:c2", "b")):
        assert await claim(store, name, holder, 100.0)
    assert await store.run(lambda repo: repo.release_leases("a")) == 2
    assert await store.read(lambda repo: repo.held_leases("", 100.0)) == {"flow:c2": "b"}


@in_loop
async def test_held_leases_are_the_unexpired_ones_under_a_prefix(store: Store) -> None:
    for name, now in (("flow:c1", 100.0), ("flow:c2", 80.0), ("stream:s1", 100.0), ("flowx", 100.0)):
        assert await claim(store, name, "a", now)
    assert await store.read(lambda repo: repo.held_leases("flow:", 95.0)) == {"flow:c1": "a"}


@contextlib.contextmanager
def two_stores(backend: str, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two processes' worth of stores on one database: each its own writer (SQLite) or pool (PostgreSQL)."""
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            first: Store = SqliteStore(str(tmp_path))
            second: Store = SqliteStore(str(tmp_path))
        else:
            url = stack.enter_context(fresh_postgres_database())
            first, second = PostgresStore(url), PostgresStore(url)
        stack.callback(first.close)
        stack.callback(second.close)
        yield first, second


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_stores_on_one_database_never_both_hold_a_lease(backend: str, tmp_path: Path) -> None:
    async def race(first: Store, second: Store) -> None:
        for round_ in range(40):
            name = f"flow:c{round_}"
            won = await asyncio.gather(claim(first, name, "a", 100.0), claim(second, name, "b", 100.0))
            assert sorted(won) == [False, True]
            holders = await first.read(lambda repo: repo.held_leases("flow:", 100.0))
            assert holders[name] == ("a" if won[0] else "b")

    with two_stores(backend, tmp_path) as (first, second):
        asyncio.run(race(first, second))


@in_loop
async def test_a_renewed_lease_stays_and_a_taken_one_is_reported_lost(store: Store) -> None:
    clock = [100.0]
    mine = NodeLeases(store, "a", 0.3, wall=lambda: clock[0])
    theirs = NodeLeases(store, "b", 0.3, wall=lambda: clock[0])
    assert await mine.claim("flow:c1")
    async with mine.renewing("flow:c1") as renewal:
        clock[0] += 0.25
        await asyncio.sleep(0.15)  # one renewal (every ttl/3) has run: the lease lasts from it
        assert not await theirs.claim("flow:c1")
        assert not renewal.lost
    clock[0] += 1.0  # no renewal any more: it lapses, and another node takes it
    assert await theirs.claim("flow:c1")
    async with mine.renewing("flow:c1") as renewal:
        await asyncio.sleep(0.15)
        assert renewal.lost
    await theirs.release("flow:c1")
    assert await mine.held("flow:") == {}
