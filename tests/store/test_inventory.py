"""The store contract for the admin's view across scopes (select, remove) and for state snapshots (the
`Records` dump and load), on every backend; a snapshot of one backend loads into any other."""

from __future__ import annotations

from pathlib import Path

from parley.chat.flow_record import FlowRecord
from parley.chat.model import Participant, Selection
from parley.chat.ports import UnitOfWork
from tests.store import records as r
from tests.store.backends import sqlite_memory
from tests.store.conftest import Node
from tests.store.records import INSTANCE, NOW, OTHER, SCOPE


def populate(repo: UnitOfWork) -> None:
    """One instance in each of two scopes, a chat with a participant, transcript, attachment and stream."""
    for scope in (SCOPE, OTHER):
        repo.put_instance(scope, r.instance())
        repo.put_flow(scope, r.flow("f-1", "Inbound"))
        repo.put_queue(scope, r.queue("q-1", "Sales"))
        repo.put_hours(scope, r.hours("h-1", "Basic"))
        repo.put_lambda_function(scope, r.function("arn:fn"))
    repo.put_contact(SCOPE, r.queued("c-1", "q-1", NOW))
    repo.put_contact(SCOPE, r.contact("c-2", chain="c-1"))
    repo.put_participant(SCOPE, Participant("p-1", "c-1", INSTANCE, "CUSTOMER", "Ada", NOW))
    repo.append_item(SCOPE, r.item("m-1", "c-1"))
    repo.append_item(SCOPE, r.item("m-2", "c-1", persisted=False))
    repo.put_attachment(SCOPE, r.attachment("a-1", "c-1"))
    repo.put_attachment_data(SCOPE, "a-1", b"\x00\x01\x02")
    repo.put_flow_record(SCOPE, FlowRecord("c-1", INSTANCE, trail=[{"step": 1}]))
    repo.put_stream(SCOPE, r.stream("s-1", "c-1"))
    repo.stream_item(SCOPE, repo.append_item(SCOPE, r.item("m-3", "c-1")))
    repo.put_idempotent(SCOPE, f"connect.StartChatContact\x1f{INSTANCE}\x1ftok", "fp", "{}", NOW)


def test_selections_see_their_scope_instance_and_contact(node: Node) -> None:
    node.run(populate)
    mine = Selection(SCOPE.account, SCOPE.region)
    assert [s for s, _ in node.read(lambda repo: repo.select_instances(Selection()))] == [SCOPE, OTHER]
    assert [f.id for _, f in node.read(lambda repo: repo.select_flows(mine))] == ["f-1"]
    assert [c.id for _, c in node.read(lambda repo: repo.select_contacts(mine))] == ["c-1", "c-2"]
    assert [c.id for _, c in node.read(lambda repo: repo.select_contacts(Selection(contact_id="c-2")))] == ["c-2"]
    assert [p.id for _, p in node.read(lambda repo: repo.select_participants(mine))] == ["p-1"]
    assert [i.id for _, i in node.read(lambda repo: repo.select_items(mine))] == ["m-1", "m-3"]
    assert [q.id for _, q in node.read(lambda repo: repo.select_queues(Selection(instance_id=INSTANCE)))] == ["q-1"] * 2
    assert len(node.read(lambda repo: repo.select_hours(Selection()))) == 2
    assert len(node.read(lambda repo: repo.select_lambda_functions(mine))) == 1
    assert [(s, c.id) for s, c in node.read(lambda repo: repo.select_waiting(Selection()))] == [(SCOPE, "c-1")]


def test_removing_a_scope_removes_what_hangs_off_it_and_nothing_else(node: Node) -> None:
    node.run(populate)
    removed = node.run(lambda repo: repo.remove(Selection(SCOPE.account, SCOPE.region, INSTANCE)))
    assert removed.counts["contacts"] == 2 and removed.counts["items"] == 3 and removed.counts["participants"] == 1
    assert removed.counts["idempotencyRecords"] == 1 and removed.counts["streams"] == 1
    assert removed.counts["streamMessages"] == 1 and removed.counts["attachments"] == 1
    assert sorted(removed.contacts) == [(SCOPE, "c-1"), (SCOPE, "c-2")]
    assert node.read(lambda repo: repo.get_contact(SCOPE, "c-1")) is None
    assert node.read(lambda repo: repo.get_instance(OTHER, INSTANCE)) is not None
    assert node.read(lambda repo: repo.streams_with_pending()) == []


def test_removing_everything_restarts_the_item_numbers(node: Node) -> None:
    node.run(populate)
    node.run(lambda repo: repo.remove(Selection()))
    assert node.read(lambda repo: repo.select_instances(Selection())) == []
    assert node.run(lambda repo: repo.append_item(SCOPE, r.item("m-9", "c-9")).seq) == 1


def test_a_dump_loads_back_into_an_empty_store_and_numbering_continues(node: Node, tmp_path: Path) -> None:
    node.run(populate)
    dumped = node.read(lambda repo: repo.dump_records())
    assert "meta" not in dumped and "idempotency" not in dumped
    assert dumped["attachments"][0]["data"] == b"\x00\x01\x02" and dumped["attachments"][0]["doc"]["name"] == "a.txt"
    assert [row["id"] for row in dumped["items"]] == ["m-1", "m-2", "m-3"]
    node.run(lambda repo: repo.remove(Selection()))
    counts = node.run(lambda repo: repo.load_records(dumped))
    assert counts["items"] == 3 and counts["contacts"] == 2
    assert node.read(lambda repo: repo.dump_records()) == dumped
    fresh = node.run(lambda repo: repo.append_item(SCOPE, r.item("m-4", "c-1")).seq)
    assert fresh > max(row["seq"] for row in dumped["items"])


def test_every_backend_writes_the_snapshot_format_of_sqlite(node: Node, tmp_path: Path) -> None:
    node.run(populate)
    dumped = node.read(lambda repo: repo.dump_records())
    with sqlite_memory(tmp_path) as store:
        reference = Node(store)
        reference.run(populate)
        assert list(dumped) == list(reference.read(lambda repo: repo.dump_records()))
        reference.run(lambda repo: repo.remove(Selection()))
        reference.run(lambda repo: repo.load_records(dumped))
        assert reference.read(lambda repo: repo.dump_records()) == dumped
