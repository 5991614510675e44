"""PostgreSQL runs writing units at REPEATABLE READ, which lets two units that count the same rows and each
insert one both pass (write skew). Every rule the chat checks that way is guarded (PostgresDialect.guard):
two nodes on one database racing through the same check cannot both pass it. SQLite has one writer and
needs no test of this."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, cast

import pytest

from parley.chat.model import ACTIVE, Participant
from parley.chat.ports import UnitOfWork
from parley.store.postgres import PostgresStore
from tests.store import records as r
from tests.store.backends import fresh_postgres_database
from tests.store.records import INSTANCE, NOW, SCOPE

Check = Callable[[UnitOfWork, str], bool]  # a unit that inserts a row named by the id when its check passes
Count = Callable[[UnitOfWork], int]  # the rows the rule limits


@pytest.fixture
def two_nodes() -> Iterator[tuple[PostgresStore, PostgresStore]]:
    with fresh_postgres_database() as url:
        first, second = PostgresStore(url), PostgresStore(url)
        yield first, second
        first.close()
        second.close()


class _Holding:
    """A repo whose unit waits (up to a second) for the other node's before its first write: without a guard
    both have checked before either inserts; with one, the other is held at the guard and the wait ends alone."""

    def __init__(self, repo: UnitOfWork, barrier: threading.Barrier, held: threading.Event) -> None:
        self._repo, self._barrier, self._held = repo, barrier, held

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("put_", "delete_")) and not self._held.is_set():
            with contextlib.suppress(threading.BrokenBarrierError):  # the other was held at the guard
                self._barrier.wait()
        return getattr(self._repo, name)


def _race(nodes: tuple[PostgresStore, PostgresStore], check: Check) -> list[bool]:
    barrier, numbers = threading.Barrier(2, timeout=1), itertools.count()
    held = [threading.Event(), threading.Event()]

    def unit(node: int) -> Callable[[UnitOfWork], bool]:
        def run(repo: UnitOfWork) -> bool:
            try:
                return check(cast(UnitOfWork, _Holding(repo, barrier, held[node])), f"n{node}-{next(numbers)}")
            finally:
                held[node].set()  # a rerun checks and inserts at once

        return run

    async def both() -> list[bool]:
        return list(await asyncio.gather(nodes[0].run(unit(0)), nodes[1].run(unit(1))))

    return asyncio.run(both())


def active_chats(repo: UnitOfWork, new_id: str) -> bool:
    if repo.count_active_contacts(SCOPE, INSTANCE, "CHAT", NOW, 1) >= 1:
        return False
    repo.put_contact(SCOPE, r.contact(new_id))
    return True


def instances(repo: UnitOfWork, new_id: str) -> bool:
    if repo.count_instances(SCOPE) >= 1:
        return False
    repo.put_instance(SCOPE, r.instance(new_id, alias=None))
    return True


def aliases(repo: UnitOfWork, new_id: str) -> bool:
    if repo.alias_taken(SCOPE, "support"):
        return False
    repo.put_instance(SCOPE, r.instance(new_id, alias="support"))
    return True


def attachments(repo: UnitOfWork, new_id: str) -> bool:
    if repo.count_attachments(SCOPE, "c-1") >= 1:
        return False
    repo.put_attachment(SCOPE, r.attachment(new_id, "c-1"))
    return True


def queue_capacity(repo: UnitOfWork, new_id: str) -> bool:
    if repo.count_waiting(SCOPE, INSTANCE, "q-1", NOW) >= 1:
        return False
    repo.put_contact(SCOPE, r.queued(new_id, "q-1", NOW))
    return True


def streams(repo: UnitOfWork, new_id: str) -> bool:
    if any(stream.state == ACTIVE for stream in repo.chain_streams(SCOPE, "c-1")):
        return False
    repo.put_stream(SCOPE, r.stream(new_id, "c-1"))
    return True


def basic_hours(repo: UnitOfWork, new_id: str) -> bool:
    if repo.hours_by_name(SCOPE, INSTANCE, "Basic Hours") is not None:
        return False
    repo.put_hours(SCOPE, r.hours(new_id, "Basic Hours"))
    return True


def one_custom_bot(repo: UnitOfWork, new_id: str) -> bool:
    if any(p.role == "CUSTOM_BOT" and p.present for p in repo.participants(SCOPE, "c-1")):
        return False
    repo.put_participant(SCOPE, Participant(new_id, "c-1", INSTANCE, "CUSTOM_BOT", "Bot", NOW))
    return True


def instance_deleted_or_flow_added(repo: UnitOfWork, new_id: str) -> bool:
    """One node deletes the instance while the other adds a flow to it: the flow is refused or deleted too."""
    if repo.get_instance(SCOPE, INSTANCE) is None:
        return False
    if new_id.startswith("n0"):
        repo.delete_instance(SCOPE, INSTANCE)
    else:
        repo.put_flow(SCOPE, r.flow(new_id, "Late"))
    return True


def instance_deleted_or_chat_started(repo: UnitOfWork, new_id: str) -> bool:
    """One node deletes the instance (ending its active chats first, as DeleteInstance does) while the other
    starts a chat in it: the chat is refused or ended with the instance, never left active in a deleted one."""
    if repo.get_instance(SCOPE, INSTANCE) is None:
        return False
    if new_id.startswith("n0"):
        for contact in repo.active_contacts(SCOPE, INSTANCE):
            contact.ended_at = NOW
            repo.put_contact(SCOPE, contact)
        repo.delete_instance(SCOPE, INSTANCE)
    else:
        repo.hold_instance(SCOPE, INSTANCE)
        repo.put_contact(SCOPE, r.contact(new_id))
    return True


RULES: dict[str, tuple[Check, Count]] = {
    "active-chat quota": (active_chats, lambda repo: len(repo.active_contacts(SCOPE, INSTANCE))),
    "instance quota": (instances, lambda repo: repo.count_instances(SCOPE)),
    "instance alias": (aliases, lambda repo: repo.count_instances(SCOPE)),
    "attachments per chat": (attachments, lambda repo: repo.count_attachments(SCOPE, "c-1")),
    "queue MaxContacts": (queue_capacity, lambda repo: repo.count_waiting(SCOPE, INSTANCE, "q-1", NOW)),
    "streams of a chain": (streams, lambda repo: len(repo.chain_streams(SCOPE, "c-1"))),
    "one custom bot per chat": (one_custom_bot, lambda repo: len(repo.participants(SCOPE, "c-1"))),
    "Basic Hours by name": (basic_hours, lambda repo: len(repo.list_hours(SCOPE, INSTANCE, None, 10).items)),
}


def test_a_flow_added_while_another_node_deletes_its_instance_is_not_left_behind(
    two_nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    asyncio.run(two_nodes[0].run(lambda repo: repo.put_instance(SCOPE, r.instance())))
    _race(two_nodes, instance_deleted_or_flow_added)
    flows = asyncio.run(two_nodes[1].read(lambda repo: repo.list_flows(SCOPE, INSTANCE, frozenset(), None, 10)))
    assert asyncio.run(two_nodes[1].read(lambda repo: repo.get_instance(SCOPE, INSTANCE))) is None
    assert flows.items == []


def test_a_chat_started_while_another_node_deletes_its_instance_is_not_left_active(
    two_nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    asyncio.run(two_nodes[0].run(lambda repo: repo.put_instance(SCOPE, r.instance())))
    _race(two_nodes, instance_deleted_or_chat_started)
    assert asyncio.run(two_nodes[1].read(lambda repo: repo.get_instance(SCOPE, INSTANCE))) is None
    assert asyncio.run(two_nodes[1].read(lambda repo: repo.active_contacts(SCOPE, INSTANCE))) == []


@pytest.mark.parametrize("rule", sorted(RULES))
def test_two_nodes_racing_through_a_check_cannot_both_pass_it(
    two_nodes: tuple[PostgresStore, PostgresStore], rule: str
) -> None:
    check, count = RULES[rule]
    outcomes = _race(two_nodes, check)
    assert sorted(outcomes) == [False, True]
    assert asyncio.run(two_nodes[0].read(count)) == 1


def test_many_units_racing_on_one_quota_all_finish_and_keep_it(two_nodes: tuple[PostgresStore, PostgresStore]) -> None:
    """Contended guards queue (the reruns lock first) instead of failing each other until units give up."""
    cap, numbers = 5, itertools.count()

    def start_chat(repo: UnitOfWork) -> bool:
        if repo.count_active_contacts(SCOPE, INSTANCE, "CHAT", NOW, cap) >= cap:
            return False
        repo.put_contact(SCOPE, r.contact(f"c-{next(numbers)}", NOW - timedelta(seconds=1)))
        return True

    async def many() -> list[bool]:
        return list(await asyncio.gather(*(two_nodes[n % 2].run(start_chat) for n in range(40))))

    outcomes = asyncio.run(many())
    assert outcomes.count(True) == cap
    assert len(asyncio.run(two_nodes[1].read(lambda repo: repo.active_contacts(SCOPE, INSTANCE)))) == cap
