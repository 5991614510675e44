"""The store contract, record by record: what a unit writes, a later unit reads back, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parley.chat.flow_record import FlowRecord
from parley.chat.model import Participant, Selection, View
from parley.chat.ports import UnitOfWork
from tests.store import records as r
from tests.store.conftest import Node
from tests.store.records import INSTANCE, NOW, OTHER, SCOPE


def test_instances_are_kept_listed_in_pages_and_deleted(node: Node) -> None:
    def create(repo: UnitOfWork) -> None:
        for number in range(3):
            repo.put_instance(SCOPE, r.instance(f"i-{number}", alias=f"alias-{number}"))
        repo.put_instance(OTHER, r.instance("i-9", alias="alias-0"))

    node.run(create)
    first = node.read(lambda repo: repo.list_instances(SCOPE, None, 2))
    assert [i.id for i in first.items] == ["i-0", "i-1"] and first.after == "i-1"
    rest = node.read(lambda repo: repo.list_instances(SCOPE, first.after, 2))
    assert [i.id for i in rest.items] == ["i-2"] and rest.after is None
    assert node.read(lambda repo: repo.count_instances(SCOPE)) == 3
    taken = node.read(lambda repo: (repo.alias_taken(SCOPE, "alias-2"), repo.alias_taken(SCOPE, "nope")))
    assert taken == (True, False)
    assert node.read(lambda repo: repo.get_instance(SCOPE, "i-0")) == r.instance("i-0", alias="alias-0")
    node.run(lambda repo: repo.delete_instance(SCOPE, "i-0"))
    assert node.read(lambda repo: repo.get_instance(SCOPE, "i-0")) is None
    assert node.read(lambda repo: repo.get_instance(OTHER, "i-9")) is not None  # scopes never mix


def test_flows_are_replaced_by_id_listed_by_type_and_found_by_name(node: Node) -> None:
    def create(repo: UnitOfWork) -> None:
        repo.put_flow(SCOPE, r.flow("f-1", "Inbound"))
        repo.put_flow(SCOPE, r.flow("f-2", "Hold", "CUSTOMER_HOLD"))
        repo.put_flow(SCOPE, r.flow("f-1", "Renamed"))  # the same id: replaced

    node.run(create)
    assert node.read(lambda repo: repo.get_flow(SCOPE, INSTANCE, "f-1")) == r.flow("f-1", "Renamed")
    assert node.read(lambda repo: repo.flow_name_taken(SCOPE, INSTANCE, "Inbound")) is False
    assert node.read(lambda repo: repo.flow_name_taken(SCOPE, INSTANCE, "Renamed")) is True
    page = node.read(lambda repo: repo.list_flows(SCOPE, INSTANCE, frozenset({"CUSTOMER_HOLD"}), None, 10))
    assert [f.id for f in page.items] == ["f-2"]
    everything = node.read(lambda repo: repo.list_flows(SCOPE, INSTANCE, frozenset(), None, 10))
    assert [f.id for f in everything.items] == ["f-1", "f-2"]


def test_contacts_count_as_active_until_they_end_and_chains_know_their_latest(node: Node) -> None:
    def create(repo: UnitOfWork) -> None:
        repo.put_contact(SCOPE, r.contact("c-1"))
        repo.put_contact(SCOPE, r.contact("c-2", NOW + timedelta(seconds=1), chain="c-1"))
        repo.put_contact(SCOPE, r.contact("c-3", minutes=1))

    node.run(create)
    count = node.read(lambda repo: repo.count_active_contacts(SCOPE, INSTANCE, "CHAT", NOW, 10))
    assert count == 3
    later = NOW + timedelta(minutes=2)  # c-3 is past its scheduled end
    assert node.read(lambda repo: repo.count_active_contacts(SCOPE, INSTANCE, "CHAT", later, 10)) == 2
    assert node.read(lambda repo: repo.count_active_contacts(SCOPE, INSTANCE, "CHAT", NOW, 2)) == 2  # capped

    def end(repo: UnitOfWork) -> None:
        ended = repo.get_contact(SCOPE, "c-1")
        assert ended is not None
        ended.ended_at = NOW
        repo.put_contact(SCOPE, ended)

    node.run(end)
    assert [c.id for c in node.read(lambda repo: repo.active_contacts(SCOPE, INSTANCE))] == ["c-3", "c-2"]
    latest = node.read(lambda repo: repo.latest_in_chain(SCOPE, "c-1"))
    assert latest is not None and latest.id == "c-2"
    second = r.contact("c-2", NOW + timedelta(seconds=1), "c-1")
    assert node.read(lambda repo: repo.find_contact_any("c-2")) == (SCOPE, second)
    assert {c.id for _, c in node.read(lambda repo: repo.live_contacts())} == {"c-2", "c-3"}


def test_the_active_count_follows_every_start_end_and_removal_whatever_the_instance_holds(node: Node) -> None:
    """The quota check's count, against the contacts themselves: starts (in several instances and channels),
    ends, an end undone, and a removal of the whole selection."""
    ids = [f"{number:08x}-0000-4000-8000-{number:012x}" for number in range(40)]  # every last hex digit

    def start(repo: UnitOfWork) -> None:
        for contact_id in ids:
            repo.put_contact(SCOPE, r.contact(contact_id))
        voice = r.contact("v-1")
        voice.channel = "VOICE"
        repo.put_contact(SCOPE, voice)
        elsewhere = r.contact("o-1")
        elsewhere.instance_id = "other-instance"
        repo.put_contact(SCOPE, elsewhere)

    def counted(cap: int = 1000) -> int:
        return node.read(lambda repo: repo.count_active_contacts(SCOPE, INSTANCE, "CHAT", NOW, cap))

    node.run(start)
    assert counted() == 40 and counted(cap=7) == 7

    def end(repo: UnitOfWork) -> None:
        for contact_id in ids[:15]:
            ended = repo.get_contact(SCOPE, contact_id)
            assert ended is not None
            ended.ended_at = NOW
            repo.put_contact(SCOPE, ended)
            repo.put_contact(SCOPE, ended)  # written again, still ended: counted once

    node.run(end)
    assert counted() == 25
    assert node.read(lambda repo: repo.count_active_contacts(SCOPE, INSTANCE, "VOICE", NOW, 1000)) == 1
    assert node.read(lambda repo: repo.count_active_contacts(SCOPE, "other-instance", "CHAT", NOW, 1000)) == 1
    node.run(lambda repo: repo.put_contact(SCOPE, r.contact(ids[0])))  # put back as it started
    assert counted() == 26
    assert counted() == len(node.read(lambda repo: repo.active_contacts(SCOPE, INSTANCE))) - 1  # less the voice

    def fail(repo: UnitOfWork) -> None:
        ended = repo.get_contact(SCOPE, ids[1])
        assert ended is not None
        repo.put_contact(SCOPE, r.contact("late-start"))
        raise RuntimeError("the unit fails: nothing it wrote is counted")

    with pytest.raises(RuntimeError):
        node.run(fail)
    assert counted() == 26
    node.run(lambda repo: repo.remove(Selection(SCOPE.account, SCOPE.region, INSTANCE)))
    assert counted() == 0
    node.run(lambda repo: repo.put_contact(SCOPE, r.contact("after-removal")))
    assert counted() == 1


def test_participants_keep_their_join_order_through_updates(node: Node) -> None:
    def join(repo: UnitOfWork) -> None:
        for number, role in enumerate(("CUSTOMER", "CUSTOM_BOT", "AGENT")):
            repo.put_participant(SCOPE, Participant(f"p-{number}", "c-1", INSTANCE, role, role.title(), NOW))

    node.run(join)

    def leave(repo: UnitOfWork) -> None:
        first = repo.participants(SCOPE, "c-1")[0]
        first.left_at = NOW
        repo.put_participant(SCOPE, first)

    node.run(leave)
    found = node.read(lambda repo: repo.participants(SCOPE, "c-1"))
    assert [p.id for p in found] == ["p-0", "p-1", "p-2"]
    assert found[0].left_at == NOW
    assert node.read(lambda repo: repo.find_participant("p-1")) == (SCOPE, found[1])
    assert node.read(lambda repo: repo.find_participant("p-9")) is None


def test_items_are_numbered_in_arrival_order_and_only_persisted_ones_are_the_transcript(node: Node) -> None:
    def append(repo: UnitOfWork) -> list[int]:
        kinds = ("MESSAGE", "EVENT", "MESSAGE", "MESSAGEMETADATA")
        return [repo.append_item(SCOPE, r.item(f"m-{n}", "c-1", kind, n != 1)).seq for n, kind in enumerate(kinds)]

    numbers = node.run(append)
    assert numbers == sorted(numbers) and len(set(numbers)) == 4
    transcript = node.read(lambda repo: repo.chain_items(SCOPE, "c-1"))
    assert [(i.id, i.seq) for i in transcript] == [("m-0", numbers[0]), ("m-2", numbers[2]), ("m-3", numbers[3])]
    messages = node.read(lambda repo: repo.chain_items(SCOPE, "c-1", frozenset({"MESSAGE"})))
    assert [i.id for i in messages] == ["m-0", "m-2"]

    def edit(repo: UnitOfWork) -> None:
        hidden = repo.chain_items(SCOPE, "c-1")[0]
        hidden.persisted, hidden.content = False, "gone"
        repo.update_item(SCOPE, hidden)

    node.run(edit)
    assert [i.id for i in node.read(lambda repo: repo.chain_items(SCOPE, "c-1"))] == ["m-2", "m-3"]


def test_attachments_keep_their_bytes_beside_the_record(node: Node) -> None:
    node.run(lambda repo: repo.put_attachment(SCOPE, r.attachment("a-1", "c-1")))
    assert node.read(lambda repo: repo.attachment_data(SCOPE, "a-1")) is None
    node.run(lambda repo: repo.put_attachment_data(SCOPE, "a-1", b"\x00\xffabc"))
    done = r.attachment("a-1", "c-1")
    done.completed_at, done.status = NOW, "APPROVED"
    node.run(lambda repo: repo.put_attachment(SCOPE, done))  # updating the record leaves the bytes
    assert node.read(lambda repo: repo.attachment_data(SCOPE, "a-1")) == b"\x00\xffabc"
    assert node.read(lambda repo: repo.get_attachment(SCOPE, "a-1")) == done
    assert node.read(lambda repo: repo.find_attachment("a-1")) == (SCOPE, done)
    assert node.read(lambda repo: repo.count_attachments(SCOPE, "c-1")) == 1


def test_views_and_flow_records_are_kept_by_key(node: Node) -> None:
    view = View("v-1", "Guide", 1, {"Template": {"Head": "x"}}, "tok-1", "arn:view")
    record = FlowRecord("c-1", INSTANCE, run={"at": "block-1"}, deadline=NOW, trail=[{"step": 1}])

    def keep(repo: UnitOfWork) -> None:
        repo.put_view(SCOPE, view)
        repo.put_flow_record(SCOPE, record)

    node.run(keep)
    assert node.read(lambda repo: repo.get_view(SCOPE, "tok-1")) == view
    assert node.read(lambda repo: repo.get_view(OTHER, "tok-1")) is None
    assert node.read(lambda repo: repo.get_flow_record(SCOPE, "c-1")) == record
    assert node.read(lambda repo: repo.live_flow_records()) == [(SCOPE, "c-1")]
    record.closed = True
    node.run(lambda repo: repo.put_flow_record(SCOPE, record))
    assert node.read(lambda repo: repo.live_flow_records()) == []


def test_queues_list_and_hold_their_waiting_contacts_longest_first(node: Node) -> None:
    def create(repo: UnitOfWork) -> None:
        repo.put_queue(SCOPE, r.queue("q-1", "Sales"))
        repo.put_queue(SCOPE, r.queue("q-2", "Support"))
        repo.put_contact(SCOPE, r.queued("c-late", "q-1", NOW + timedelta(seconds=5)))
        repo.put_contact(SCOPE, r.queued("c-early", "q-1", NOW))

    node.run(create)
    assert node.read(lambda repo: repo.queue_by_name(SCOPE, INSTANCE, "Support")) == r.queue("q-2", "Support")
    assert node.read(lambda repo: repo.get_queue(SCOPE, INSTANCE, "q-1")) == r.queue("q-1", "Sales")
    page = node.read(lambda repo: repo.list_queues(SCOPE, INSTANCE, frozenset({"STANDARD"}), None, 1))
    assert [q.id for q in page.items] == ["q-1"] and page.after == "q-1"
    waiting = node.read(lambda repo: repo.waiting_contacts(SCOPE, INSTANCE, "q-1", NOW))
    assert [c.id for c in waiting] == ["c-early", "c-late"]
    assert node.read(lambda repo: repo.count_waiting(SCOPE, INSTANCE, "q-1", NOW)) == 2

    def accept(repo: UnitOfWork) -> None:
        taken = repo.get_contact(SCOPE, "c-early")
        assert taken is not None
        taken.accepted_at = NOW
        repo.put_contact(SCOPE, taken)

    node.run(accept)
    assert [c.id for c in node.read(lambda repo: repo.waiting_contacts(SCOPE, INSTANCE, "q-1", NOW))] == ["c-late"]
    assert node.read(lambda repo: repo.count_waiting(SCOPE, INSTANCE, "q-1", NOW + timedelta(hours=2))) == 0


def test_hours_and_lambda_functions_are_kept_listed_and_removed(node: Node) -> None:
    def create(repo: UnitOfWork) -> None:
        repo.put_hours(SCOPE, r.hours("h-2", "Basic"))
        repo.put_hours(SCOPE, r.hours("h-1", "Night"))
        repo.put_lambda_function(SCOPE, r.function("arn:fn:b"))
        repo.put_lambda_function(SCOPE, r.function("arn:fn:a"))

    node.run(create)
    assert node.read(lambda repo: repo.get_hours(SCOPE, INSTANCE, "h-1")) == r.hours("h-1", "Night")
    assert node.read(lambda repo: repo.hours_by_name(SCOPE, INSTANCE, "Basic")) == r.hours("h-2", "Basic")
    assert [h.id for h in node.read(lambda repo: repo.list_hours(SCOPE, INSTANCE, None, 10)).items] == ["h-1", "h-2"]
    functions = node.read(lambda repo: repo.list_lambda_functions(SCOPE, INSTANCE, None, 10)).items
    assert [f.arn for f in functions] == ["arn:fn:a", "arn:fn:b"]
    assert node.read(lambda repo: repo.get_lambda_function(SCOPE, INSTANCE, "arn:fn:a")) == r.function("arn:fn:a")
    assert node.run(lambda repo: repo.delete_lambda_function(SCOPE, INSTANCE, "arn:fn:a")) is True
    assert node.run(lambda repo: repo.delete_lambda_function(SCOPE, INSTANCE, "arn:fn:a")) is False


def test_texts_order_by_code_point_whatever_the_database_collation(node: Node) -> None:
    """As SQLite compares (BINARY): upper case first, '-' before '_' before letters."""
    names = ["ab", "B", "a_c", "aa", "a-b"]

    def create(repo: UnitOfWork) -> None:
        for name in names:
            repo.put_flow(SCOPE, r.flow(name, f"flow {name}"))

    node.run(create)
    first = node.read(lambda repo: repo.list_flows(SCOPE, INSTANCE, frozenset(), None, 3))
    rest = node.read(lambda repo: repo.list_flows(SCOPE, INSTANCE, frozenset(), first.after, 3))
    assert [f.id for f in [*first.items, *rest.items]] == sorted(names) == ["B", "a-b", "a_c", "aa", "ab"]
    assert [f.name for _, f in node.read(lambda repo: repo.select_flows(Selection()))] == [
        f"flow {n}" for n in sorted(names)
    ]
