"""Units of work per second and their latency on each store backend, measured in one run.

Each writing unit is what a CreateParticipant with a ClientToken does to the store, roughly: look the
token up, read the contact and its participants, write a participant, an item and the token record.
`--concurrency` units are in flight at once (as requests would be). Usage:

    python -m bench.store_units [--units 2000] [--concurrency 32] [--postgres postgresql://…]

The PostgreSQL figures are for one node on a fresh database of that server (created and dropped here).
The machine is noisy: compare the ratios within one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg

from parley.chat.model import Contact, Item, Participant, Scope
from parley.chat.ports import UnitOfWork
from parley.store.port import Store
from parley.store.postgres import PostgresStore
from parley.store.sqlite import SqliteStore

SCOPE = Scope("111122223333", "us-east-1")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CHATS = 100


def chat(contact_id: str) -> Contact:
    return Contact(contact_id, "i-1", "CHAT", "API", "f-1", NOW, NOW + timedelta(hours=1))


def create_participant(number: int) -> Callable[[UnitOfWork], str]:
    contact_id, key = f"c-{number % CHATS}", f"token-{number}"

    def unit(repo: UnitOfWork) -> str:
        found = repo.get_idempotent(SCOPE, key, NOW)
        if found is not None:
            return found[1]
        contact = repo.get_contact(SCOPE, contact_id)
        assert contact is not None
        repo.participants(SCOPE, contact_id)
        participant = Participant(f"p-{number}", contact_id, "i-1", "CUSTOM_BOT", "Bot", NOW)
        repo.put_participant(SCOPE, participant)
        repo.append_item(SCOPE, Item(f"e-{number}", contact_id, contact_id, "EVENT", NOW, "participant.joined"))
        repo.put_idempotent(SCOPE, key, "fp", participant.id, NOW + timedelta(days=1))
        return participant.id

    return unit


def open_chats(repo: UnitOfWork) -> None:
    for number in range(CHATS):
        repo.put_contact(SCOPE, chat(f"c-{number}"))


async def measure(store: Store, units: int, concurrency: int) -> tuple[float, list[float]]:
    await store.run(open_chats)
    numbers, latencies = itertools.count(), []

    async def worker() -> None:
        for number in iter(lambda: next(numbers), None):
            if number >= units:
                return
            started = time.perf_counter()
            await store.run(create_participant(number))
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return units / (time.perf_counter() - began), sorted(latencies)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    name = "parley_bench_" + secrets.token_hex(4)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(name: str, rate: float, latencies: list[float]) -> None:
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    print(f"{name:14} {rate:8.0f} units/s   p50 {p50 * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a database is created there)")
    args = parser.parse_args()
    memory = SqliteStore(None)
    report("sqlite-memory", *asyncio.run(measure(memory, args.units, args.concurrency)))
    memory.close()
    with tempfile.TemporaryDirectory() as data_dir:
        durable = SqliteStore(data_dir)
        report("sqlite-file", *asyncio.run(measure(durable, args.units, args.concurrency)))
        durable.close()
    if args.postgres:
        with fresh_database(args.postgres) as url:
            shared = PostgresStore(url)
            report("postgresql", *asyncio.run(measure(shared, args.units, args.concurrency)))
            shared.close()


if __name__ == "__main__":
    main()
