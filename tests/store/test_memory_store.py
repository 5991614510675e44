"""The in-memory store against the SQLite store: the same calls on both give the same answers.

Each scenario runs as units of work on a fresh store of each kind; records use whole-second times, so the
SQLite store's round trip through epoch seconds returns them exactly. Also: a unit that raises leaves
nothing behind, and what a caller reads or puts never aliases what the store keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from parley.chat.errors import Invalid
from parley.chat.model import (
    ContactFlow,
    Removed,
    Scope,
    Selection,
)
from parley.chat.ports import UnitOfWork
from parley.store.memory.chats import SWEEP_EVERY
from parley.store.memory.records import COLUMNS
from parley.store.memory.store import MemoryStore
from parley.store.sqlite import SqliteStore
from tests.store.scenario import NOW, A, B, at, contact, instance, item, participant, populate, run

T = TypeVar("T")


@pytest.fixture
def stores() -> Iterator[tuple[SqliteStore, MemoryStore]]:
    sqlite, memory = SqliteStore(None), MemoryStore()
    yield sqlite, memory
    sqlite.close()
    memory.close()


def same(stores: tuple[SqliteStore, MemoryStore], unit: Callable[[UnitOfWork], T]) -> T:
    """Runs the unit on both stores; their answers must be equal (a raised error counts as an answer)."""
    answers: list[tuple[str, Any]] = []
    for store in stores:
        try:
            answers.append(("ok", run(store, unit)))
        except Exception as error:  # the error's kind and text are the answer
            answers.append(("error", f"{type(error).__name__}: {error}"))
    assert answers[0] == answers[1]
    kind, value = answers[0]
    assert kind == "ok", value
    result: T = value
    return result


# -- a unit that raises ---------------------------------------------------------------------------------


def test_a_unit_that_raises_leaves_nothing_behind(stores: tuple[SqliteStore, MemoryStore]) -> None:
    for store in stores:
        run(store, populate)
        before = run(store, lambda repo: repo.dump_records())
        before_order = run(
            store, lambda repo: [repo.participants(A, "ac1"), repo.live_contacts(), repo.live_flow_records()]
        )

        def broken(repo: UnitOfWork) -> None:
            repo.put_contact(A, contact("new", "a1"))
            changed = repo.get_contact(A, "ac1")
            assert changed is not None
            changed.ended_at = at(1)
            repo.put_contact(A, changed)
            repo.put_participant(A, participant("new-p", "ac1"))
            repo.append_item(A, item("new-m", "ac1"))
            repo.stream_item(A, item("new-s", "ac1"))
            repo.put_idempotent(A, "new", "fp", "{}", at(10))
            repo.delete_instance(A, "a1")
            repo.remove(Selection(B.account))
            raise RuntimeError("the unit fails")

        with pytest.raises(RuntimeError):
            run(store, broken)
        assert _normalized(run(store, lambda repo: repo.dump_records())) == _normalized(before)
        assert (
            run(store, lambda repo: [repo.participants(A, "ac1"), repo.live_contacts(), repo.live_flow_records()])
            == before_order
        )
        assert run(store, lambda repo: repo.count_active_contacts(A, "a1", "CHAT", NOW, 100)) == 5
        assert run(store, lambda repo: repo.get_idempotent(A, "new", NOW)) is None
    assert _normalized(run(stores[0], lambda r: r.dump_records())) == _normalized(
        run(stores[1], lambda r: r.dump_records())
    )


# -- the same answers --------------------------------------------------------------------------------------


def test_lists_page_in_key_order(stores: tuple[SqliteStore, MemoryStore]) -> None:
    for store in stores:
        run(store, populate)

    def pages(repo: UnitOfWork) -> list[Any]:
        found: list[Any] = [repo.list_instances(A, None, 2), repo.list_instances(A, "a2", 2), repo.count_instances(B)]
        found += [
            repo.list_flows(A, "a1", frozenset(), None, 1),
            repo.list_flows(A, "a1", frozenset({"AGENT_WHISPER"}), None, 5),
        ]
        found += [repo.list_queues(A, "a1", frozenset(), "q1", 5), repo.list_hours(A, "a1", None, 5)]
        found += [repo.list_lambda_functions(A, "a1", None, 5), repo.hours_by_name(A, "a1", "Basic")]
        found += [
            repo.queue_by_name(A, "a1", "queue 2"),
            repo.flow_name_taken(A, "a1", "flow 1"),
            repo.alias_taken(A, "alias-a2"),
        ]
        return found

    same(stores, pages)


def test_a_renamed_flow_frees_its_old_name(stores: tuple[SqliteStore, MemoryStore]) -> None:
    def rename(repo: UnitOfWork) -> list[Any]:
        repo.put_instance(A, instance("i1"))
        repo.put_flow(A, ContactFlow("f1", "i1", "one", "CONTACT_FLOW", "{}", "PUBLISHED", None, "x", at(0)))
        repo.put_flow(A, ContactFlow("f2", "i1", "two", "CONTACT_FLOW", "{}", "PUBLISHED", None, "x", at(0)))
        repo.put_flow(A, ContactFlow("f2", "i1", "three", "CONTACT_FLOW", "{}", "PUBLISHED", None, "x", at(0)))
        taken = [repo.flow_name_taken(A, "i1", name) for name in ("one", "two", "three")]
        return [repo.list_flows(A, "i1", frozenset(), None, 10), taken]

    same(stores, rename)


def test_contacts_chains_and_participants_in_store_order(stores: tuple[SqliteStore, MemoryStore]) -> None:
    def chats(repo: UnitOfWork) -> list[Any]:
        populate(repo)
        left = repo.participants(A, "ac1")[0]
        left.left_at = at(3)
        repo.put_participant(A, left)  # a replaced row keeps its place, as the SQL stores' upsert does
        return [
            repo.participants(A, "ac1"),
            repo.find_participant("bc2-p2"),
            repo.latest_in_chain(A, "ac1"),
            repo.find_contact_any("bc3"),
            repo.chain_items(A, "ac1"),
            repo.chain_items(A, "ac1", frozenset({"EVENT"})),
            sorted(repo.live_flow_records(), key=str),
            repo.count_attachments(A, "ac1"),
            repo.attachment_data(A, "ac1-at"),
            repo.find_attachment("bc1-at"),
            repo.get_view(B, "btoken"),
            sorted(c.id for c in repo.active_contacts(A, "a1")),
            sorted(((s, c.id) for s, c in repo.live_contacts()), key=str),
        ]

    same(stores, chats)


@pytest.mark.parametrize("minutes", [0, 4.99, 5, 59, 60, 119, 120, 500])
def test_active_chats_and_waiting_contacts_expire_by_the_clock(
    stores: tuple[SqliteStore, MemoryStore], minutes: float
) -> None:
    for store in stores:
        run(store, populate)
    now = at(minutes)
    same(
        stores,
        lambda repo: [
            repo.count_active_contacts(A, "a1", "CHAT", now, 100),
            repo.count_active_contacts(A, "a1", "CHAT", now, 2),
            repo.count_active_contacts(A, "a1", "VOICE", now, 100),
            repo.count_active_contacts(A, "a2", "CHAT", now, 100),
            repo.waiting_contacts(A, "a1", "q1", now),
            repo.count_waiting(A, "a1", "q1", now),
            repo.get_idempotent(A, "StartChatContact\x1fa1\x1f1", now),
        ],
    )


def test_an_ended_or_accepted_contact_leaves_the_counts(stores: tuple[SqliteStore, MemoryStore]) -> None:
    def end(repo: UnitOfWork) -> list[Any]:
        populate(repo)
        ended, accepted = repo.get_contact(A, "ac1"), repo.get_contact(A, "aq")
        assert ended is not None and accepted is not None
        ended.ended_at, accepted.accepted_at = at(1), at(1)
        repo.put_contact(A, ended)
        repo.put_contact(A, accepted)
        return [repo.count_active_contacts(A, "a1", "CHAT", NOW, 100), repo.count_waiting(A, "a1", "q1", NOW)]

    assert same(stores, end) == [4, 0]


@pytest.mark.parametrize(
    "selection",
    [
        Selection(),
        Selection(A.account),
        Selection(A.account, A.region, "a1"),
        Selection(B.account, B.region),
        Selection(region="nowhere"),
    ],
)
def test_selections_select_and_remove_the_same_records(
    stores: tuple[SqliteStore, MemoryStore], selection: Selection
) -> None:
    for store in stores:
        run(store, populate)
    select = Selection(selection.account, selection.region, selection.instance_id, "ac1")
    for chosen in (selection, select):

        def selected(repo: UnitOfWork, chosen: Selection = chosen) -> list[Any]:
            return [
                repo.select_instances(chosen),
                repo.select_flows(chosen),
                repo.select_queues(chosen),
                repo.select_hours(chosen),
                repo.select_lambda_functions(chosen),
                repo.select_contacts(chosen),
                repo.select_participants(chosen),
                repo.select_items(chosen),
                repo.select_waiting(chosen),
                repo.select_streams(chosen),
            ]

        same(stores, selected)
    same(stores, lambda repo: _sorted(repo.remove(selection)))
    assert not any(same(stores, lambda repo: repo.remove(selection)).counts.values())  # nothing is left to remove
    dumps = [_normalized(run(store, lambda repo: repo.dump_records())) for store in stores]
    assert dumps[0] == dumps[1]
    same(
        stores,
        lambda repo: [
            repo.append_item(A, item("after", "ac9")).seq,
            repo.get_idempotent(A, "StartChatContact\x1fa1\x1f1", NOW),
        ],
    )


def test_a_stream_outbox_delivers_fails_overflows_and_redrives_alike(stores: tuple[SqliteStore, MemoryStore]) -> None:
    def deliver(repo: UnitOfWork) -> list[Any]:
        populate(repo)
        for n in range(40):
            repo.stream_item(A, item(f"m{n}", "ac1", seq=n + 100))
        answers: list[Any] = [repo.streams_with_pending(), repo.streams_over(10), repo.outbox_counts("as")]
        first, second, third = repo.outbox_next("as", 3)
        repo.outbox_done(first, False, 1.5, 5)
        repo.outbox_done(second, True, 2.5, 5)
        third.attempts, third.last_error = 1, "boom"
        answers += [repo.outbox_failed(third, dead=False), repo.outbox_counts("as")]
        for entry in repo.outbox_next("as", 20, after=third.seq):
            repo.outbox_done(entry, False, 3.0, 5)
        answers += [repo.outbox_entries("as", "delivered", 10), repo.outbox_overflow("as", 4)]
        answers += [repo.outbox_entries("as", "dead", 100), repo.outbox_counts("as"), repo.outbox_totals()]
        answers += [repo.outbox_redrive("as"), repo.outbox_next("as", 100), repo.outbox_overflow("as", 2)]
        answers += [
            repo.outbox_clear_dead("as"),
            repo.outbox_totals(),
            repo.find_stream("bs"),
            repo.chain_streams(B, "bc1"),
        ]
        return answers

    same(stores, deliver)


def test_snapshots_move_between_the_stores_both_ways(stores: tuple[SqliteStore, MemoryStore]) -> None:
    sqlite, memory = stores
    run(sqlite, populate)
    dumped = run(sqlite, lambda repo: repo.dump_records())
    assert run(memory, lambda repo: repo.load_records(dumped)) == {table: len(rows) for table, rows in dumped.items()}
    assert _normalized(run(memory, lambda repo: repo.dump_records())) == _normalized(dumped)
    again = SqliteStore(None)
    try:
        from_memory = run(memory, lambda repo: repo.dump_records())
        run(again, lambda repo: repo.load_records(from_memory))
        assert _normalized(run(again, lambda repo: repo.dump_records())) == _normalized(dumped)
    finally:
        again.close()
    same(
        stores,
        lambda repo: [
            repo.chain_items(A, "ac1"),
            repo.outbox_next("as", 10),
            repo.append_item(A, item("n", "ac1")).seq,
        ],
    )


@pytest.mark.parametrize(
    "tables",
    [
        {"nope": []},
        {"instances": [{"bogus": 1}]},
        {"contacts": [{"account": "1", "region": "r"}]},
        {"instances": [{"account": "1", "region": "r", "id": "i", "doc": {"id": "i"}}]},
    ],
)
def test_a_bad_snapshot_is_refused(stores: tuple[SqliteStore, MemoryStore], tables: dict[str, Any]) -> None:
    def load(repo: UnitOfWork) -> None:
        repo.load_records(tables)
        try:  # as the snapshot service does: SQLite keeps a document as it is, and refuses it on reading
            repo.select_instances(Selection())
        except TypeError as error:
            raise Invalid(f"a record does not decode: {error}") from None

    refusals = []
    for store in stores:
        with pytest.raises(Invalid) as refused:
            run(store, load)
        refusals.append(str(refused.value).split(":")[0])
        assert run(store, lambda repo: repo.dump_records()) == {table: [] for table in COLUMNS}
    assert refusals[0] == refusals[1]


# -- what the store keeps is its own ----------------------------------------------------------------------


def test_what_a_caller_reads_or_puts_never_changes_the_store_without_a_put() -> None:
    store = MemoryStore()
    kept = contact("c1", "i1", attributes={"k": "v"}, segment_attributes={"a": {"ValueString": "b"}})
    run(store, lambda repo: repo.put_contact(A, kept))
    kept.attributes["k"] = "changed"
    read = run(store, lambda repo: repo.get_contact(A, "c1"))
    assert read is not None and read.attributes == {"k": "v"}
    read.segment_attributes["a"]["ValueString"] = "changed"
    read.ended_at = at(1)
    again = run(store, lambda repo: repo.get_contact(A, "c1"))
    assert again is not None and again.segment_attributes == {"a": {"ValueString": "b"}} and again.ended_at is None
    assert run(store, lambda repo: repo.count_active_contacts(A, "i1", "CHAT", NOW, 10)) == 1


def test_expired_client_token_records_are_swept() -> None:
    store = MemoryStore()

    def old(repo: UnitOfWork) -> None:
        for n in range(3000):
            repo.put_idempotent(A, f"old{n}", "f", "{}", NOW - timedelta(seconds=1))

    run(store, old)
    run(store, lambda repo: repo.put_idempotent(A, "live", "f", "{}", NOW + timedelta(days=1)))
    for n in range(SWEEP_EVERY):
        run(store, lambda repo, key=f"k{n}": repo.get_idempotent(A, key, NOW))  # type: ignore[misc]
    assert [key[2] for key in store.repo.idempotency] == ["live"]
    assert run(store, lambda repo: repo.get_idempotent(A, "live", NOW)) == ("f", "{}")


def _sorted(removed: Removed) -> tuple[dict[str, int], list[tuple[Scope, str]]]:
    """What a removal answers: its counts, and the contacts it removed (SQLite lists them in no set order)."""
    return removed.counts, sorted(removed.contacts, key=str)


def _normalized(dumped: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rows as sets per table, and an item's document without `seq` (SQLite keeps the number the item had when
    it was first written in the document, and the real one in its column; readers take the column's)."""
    result: dict[str, list[dict[str, Any]]] = {}
    for table, rows in dumped.items():
        cleaned = []
        for row in rows:
            row = dict(row)
            if table == "items":
                row["doc"] = {k: v for k, v in row["doc"].items() if k != "seq"}
            cleaned.append(row)
        result[table] = sorted(cleaned, key=repr)
    return result


def test_the_active_chat_count_follows_replacement_removal_and_import(stores: tuple[SqliteStore, MemoryStore]) -> None:
    def counts(repo: UnitOfWork) -> list[int]:
        return [repo.count_active_contacts(scope, f"{p}1", "CHAT", NOW, 10**6) for scope, p in ((A, "a"), (B, "b"))]

    def churn(repo: UnitOfWork) -> list[list[int]]:
        populate(repo)
        seen = [counts(repo)]
        for contact_id in ("ac1", "ac1", "bc3"):
            again = repo.get_contact(A if contact_id[0] == "a" else B, contact_id)
            assert again is not None
            repo.put_contact(A if contact_id[0] == "a" else B, again)  # replaced as it was: counted once
        seen.append(counts(repo))
        moved = contact("ac9", "b1")
        repo.put_contact(A, moved)
        moved.instance_id = "a1"
        repo.put_contact(A, moved)  # another instance now: counted there only
        seen.append(counts(repo))
        snapshot = repo.dump_records()
        repo.remove(Selection(A.account))
        seen.append(counts(repo))
        repo.load_records(snapshot)
        repo.load_records(snapshot)  # every row replaced by itself
        seen.append(counts(repo))
        return seen

    assert same(stores, churn) == [[5, 5], [5, 5], [6, 5], [0, 5], [6, 5]]
