"""The store contract for units of work: all or nothing, ClientToken records that expire, the secret and the
cluster id; and on PostgreSQL, two nodes racing on one database produce one outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import psycopg
import pytest

from parley.chat.model import Item, Participant
from parley.chat.ports import UnitOfWork
from parley.store.postgres import PostgresStore
from parley.store.sql_repo import SWEEP_EVERY
from tests.store import records as r
from tests.store.backends import fresh_postgres_database
from tests.store.conftest import Node
from tests.store.records import INSTANCE, NOW, SCOPE


class Boom(Exception):
    pass


def test_a_unit_that_raises_leaves_nothing_behind(node: Node) -> None:
    node.run(lambda repo: repo.put_contact(SCOPE, r.contact("c-1")))

    def half_done(repo: UnitOfWork) -> None:
        repo.put_instance(SCOPE, r.instance())
        repo.append_item(SCOPE, r.item("m-1", "c-1"))
        ended = repo.get_contact(SCOPE, "c-1")
        assert ended is not None
        ended.ended_at = NOW
        repo.put_contact(SCOPE, ended)
        repo.put_idempotent(SCOPE, "key", "fp", "{}", NOW + timedelta(hours=1))
        raise Boom

    with pytest.raises(Boom):
        node.run(half_done)
    assert node.read(lambda repo: repo.get_instance(SCOPE, INSTANCE)) is None
    assert node.read(lambda repo: repo.chain_items(SCOPE, "c-1")) == []
    contact = node.read(lambda repo: repo.get_contact(SCOPE, "c-1"))
    assert contact is not None and contact.ended_at is None
    assert node.run(lambda repo: repo.get_idempotent(SCOPE, "key", NOW)) is None
    node.run(lambda repo: repo.put_instance(SCOPE, r.instance()))  # and the store goes on
    assert node.read(lambda repo: repo.count_instances(SCOPE)) == 1


def test_client_token_records_answer_until_they_expire(node: Node) -> None:
    expires = NOW + timedelta(minutes=5)
    node.run(lambda repo: repo.put_idempotent(SCOPE, "k-1", "fp-1", '{"Id":"x"}', expires))
    assert node.run(lambda repo: repo.get_idempotent(SCOPE, "k-1", NOW)) == ("fp-1", '{"Id":"x"}')
    assert node.run(lambda repo: repo.get_idempotent(r.OTHER, "k-1", NOW)) is None
    assert node.run(lambda repo: repo.get_idempotent(SCOPE, "k-1", expires)) is None
    node.run(lambda repo: repo.put_idempotent(SCOPE, "k-1", "fp-2", "{}", expires + timedelta(minutes=5)))
    assert node.run(lambda repo: repo.get_idempotent(SCOPE, "k-1", expires)) == ("fp-2", "{}")


def test_the_secret_and_the_cluster_id_are_stable(node: Node) -> None:
    secret, cluster = node.store.secret(), node.store.cluster_id()
    assert len(secret) == 32 and len(cluster) == 32
    assert node.store.secret() == secret and node.store.cluster_id() == cluster
    assert cluster != secret.hex()


@pytest.fixture
def two_nodes() -> tuple[PostgresStore, PostgresStore]:  # type: ignore[misc]
    with fresh_postgres_database() as url:
        first, second = PostgresStore(url), PostgresStore(url)
        yield first, second
        first.close()
        second.close()


def racing(unit: Callable[[UnitOfWork], object]) -> Callable[[UnitOfWork], object]:
    """The unit, held at a barrier after its reads on its first run, so that both nodes have read before
    either writes: the race is certain, not left to timing."""
    barrier, first_runs = threading.Barrier(2, timeout=10), threading.local()

    def held(repo: UnitOfWork) -> object:
        return unit(cast(UnitOfWork, _Holding(repo, barrier, first_runs)))

    return held


class _Holding:
    """A repo that waits at the barrier before its first write of each thread's first run."""

    def __init__(self, repo: UnitOfWork, barrier: threading.Barrier, runs: threading.local) -> None:
        self._repo, self._barrier, self._runs = repo, barrier, runs

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("put_", "append_")) and not getattr(self._runs, "held", False):
            self._runs.held = True
            self._barrier.wait()
        return getattr(self._repo, name)


async def both(stores: tuple[PostgresStore, PostgresStore], unit: Callable[[UnitOfWork], object]) -> list[object]:
    return list(await asyncio.gather(stores[0].run(unit), stores[1].run(unit)))


def test_one_client_token_sent_to_two_nodes_at_once_creates_one_participant(
    two_nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    made: list[str] = []

    def create_participant(repo: UnitOfWork) -> object:
        found = repo.get_idempotent(SCOPE, "CreateParticipant\x1ftoken", NOW)
        if found is not None:
            return found[1]
        participant_id = f"p-{len(made)}"
        made.append(participant_id)
        repo.put_participant(SCOPE, Participant(participant_id, "c-1", INSTANCE, "CUSTOM_BOT", "Bot", NOW))
        repo.put_idempotent(SCOPE, "CreateParticipant\x1ftoken", "fp", participant_id, NOW + timedelta(hours=1))
        return participant_id

    outcomes = asyncio.run(both(two_nodes, racing(create_participant)))
    assert outcomes[0] == outcomes[1]
    assert len(made) >= 2  # both ran; the loser ran again and saw the winner's record
    found = asyncio.run(two_nodes[0].read(lambda repo: repo.participants(SCOPE, "c-1")))
    assert [p.id for p in found] == [outcomes[0]]


def test_a_chat_ended_by_two_nodes_at_once_ends_once(two_nodes: tuple[PostgresStore, PostgresStore]) -> None:
    asyncio.run(two_nodes[0].run(lambda repo: repo.put_contact(SCOPE, r.contact("c-1"))))

    def end_if_due(repo: UnitOfWork) -> bool:
        contact = repo.get_contact(SCOPE, "c-1")
        assert contact is not None
        if contact.ended_at is not None:
            return False
        contact.ended_at = NOW
        repo.put_contact(SCOPE, contact)
        repo.append_item(SCOPE, Item(f"ended-{id(repo)}", "c-1", "c-1", "EVENT", NOW, "chat.ended"))
        return True

    outcomes = asyncio.run(both(two_nodes, racing(end_if_due)))
    assert sorted(bool(outcome) for outcome in outcomes) == [False, True]
    events = asyncio.run(two_nodes[1].read(lambda repo: repo.chain_items(SCOPE, "c-1")))
    assert [i.content_type for i in events] == ["chat.ended"]


def test_nodes_on_one_database_share_the_secret_and_cluster_id(two_nodes: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = two_nodes
    assert first.secret() == second.secret() and first.cluster_id() == second.cluster_id()
    assert first.created_tables and not second.created_tables  # the second start found the schema made


def test_a_node_whose_connections_were_cut_runs_its_next_units_on_new_ones() -> None:
    """PostgreSQL restarted or a proxy dropped the pooled connections: the next unit begins on a fresh one."""
    with fresh_postgres_database() as url:
        store = PostgresStore(url)
        try:
            asyncio.run(store.run(lambda repo: repo.put_instance(SCOPE, r.instance())))
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname=current_database() AND pid <> pg_backend_pid()"
                )
            for _ in range(3):  # more units than the pool had connections open
                assert asyncio.run(store.read(lambda repo: repo.count_instances(SCOPE))) == 1
            asyncio.run(store.run(lambda repo: repo.put_contact(SCOPE, r.contact("c-1"))))
            assert asyncio.run(store.read(lambda repo: repo.get_contact(SCOPE, "c-1"))) is not None
        finally:
            store.close()


def test_expired_client_token_records_are_swept_as_lookups_go_on(node: Node) -> None:
    """Counted across units (a PostgreSQL store makes a repository per unit): the table stays bounded."""
    node.run(lambda repo: repo.put_idempotent(SCOPE, "old", "fp", "{}", NOW))
    later = NOW + timedelta(days=1)

    def look_up(repo: UnitOfWork) -> None:
        for number in range(32):
            repo.get_idempotent(SCOPE, f"k-{number}", later)

    for _ in range(SWEEP_EVERY // 32):
        node.run(look_up)
    assert node.run(lambda repo: repo.get_idempotent(SCOPE, "old", NOW - timedelta(days=1))) is None


def test_a_client_token_may_hold_any_character(node: Node) -> None:
    """A NUL (which PostgreSQL's TEXT cannot hold) and look-alikes stay distinct keys."""
    tokens = ["a\x00b", "a\ue0000b", "a\ue000\ue000b", "ab"]

    def keep(repo: UnitOfWork) -> None:
        for number, token in enumerate(tokens):
            repo.put_idempotent(SCOPE, token, f"fp-{number}", "{}", NOW + timedelta(hours=1))

    node.run(keep)
    found = [node.run(lambda repo, t=token: repo.get_idempotent(SCOPE, t, NOW)) for token in tokens]  # type: ignore[misc]
    assert found == [(f"fp-{number}", "{}") for number in range(len(tokens))]
