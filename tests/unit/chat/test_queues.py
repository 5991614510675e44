"""Queues in the pure domain over the real SQLite repo: what a new instance holds, CreateQueue's rules,
putting chats in a queue (capacity, already queued, ended) and an agent accepting one (flows.md §7)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from parley.chat import contacts, defaults, instances, participants, queues
from parley.chat.errors import AlreadyQueued, Duplicate, NotFound, NotQueued, QueueAtCapacity, StateConflict
from parley.chat.model import Contact, Queue
from parley.chat.policy import Policy
from parley.store.codec import dump, load
from parley.store.sql_repo import SqlRepo
from tests.unit.chat.conftest import NOW, SCOPE, sequential_ids

POLICY = Policy(quota_active_chats=0)


def new_instance(repo: SqlRepo, ids: Any) -> str:
    spec = instances.NewInstance("CONNECT_MANAGED", True, True, alias="q")
    return instances.create_instance(repo, SCOPE, spec, NOW, ids, POLICY).id


def basic_queue(repo: SqlRepo, instance_id: str) -> Queue:
    queue = repo.queue_by_name(SCOPE, instance_id, "BasicQueue")
    assert queue is not None
    return queue


def new_chat(repo: SqlRepo, instance_id: str, ids: Any, now: Any = NOW) -> Contact:
    flow = repo.list_flows(SCOPE, instance_id, frozenset({"CONTACT_FLOW"}), None, 1).items[0]
    spec = contacts.NewChat(instance_id, flow.id, "Customer")
    return contacts.start_chat(repo, SCOPE, spec, now, ids, POLICY).contact


def test_a_new_instance_has_basic_hours_basic_queue_and_flows_that_name_them(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    queue = basic_queue(repo, instance_id)
    hours = repo.get_hours(SCOPE, instance_id, queue.hours_id)
    assert hours is not None and hours.name == "Basic Hours" and queue.type == "STANDARD"
    flows = {f.name: f for f in repo.list_flows(SCOPE, instance_id, frozenset(), None, 100).items}
    assert flows["Default queue transfer"].type == "QUEUE_TRANSFER"
    inbound = json.loads(flows["Default inbound flow"].content)
    assert inbound["Version"] == "2019-10-30" and inbound["StartAction"] == "set-disconnect-flow"
    steps = {a["Identifier"]: a for a in inbound["Actions"]}
    hook = steps["set-disconnect-flow"]["Parameters"]["EventHooks"]["CustomerRemaining"]
    assert hook == flows["Sample disconnect flow"].arn(SCOPE)
    assert steps["set-queue"]["Parameters"]["QueueId"] == queue.arn(SCOPE)
    assert (
        steps["transfer"]["Type"] == "TransferContactToQueue" and "NextAction" not in steps["transfer"]["Transitions"]
    )
    assert {e["ErrorType"] for e in steps["transfer"]["Transitions"]["Errors"]} == {
        "QueueAtCapacity",
        "NoMatchingError",
    }
    queue_flow = json.loads(flows["Default customer queue"].content)
    assert [a["Type"] for a in queue_flow["Actions"]] == ["EndFlowExecution"]
    for flow in flows.values():  # every NextAction names an action of its own document
        document = json.loads(flow.content)
        names = {a["Identifier"] for a in document["Actions"]}
        for action in document["Actions"]:
            transitions = action["Transitions"]
            targets = [transitions.get("NextAction")] + [
                b["NextAction"] for b in transitions.get("Conditions", []) + transitions.get("Errors", [])
            ]
            assert {t for t in targets if t} <= names, (flow.name, action["Identifier"])


def test_create_queue_rules(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    hours_id = basic_queue(repo, instance_id).hours_id
    made = queues.create_queue(repo, SCOPE, instance_id, queues.NewQueue("Billing", hours_id, max_contacts=2), NOW, ids)
    assert queues.require_queue(repo, SCOPE, instance_id, made.arn(SCOPE)).name == "Billing"
    with pytest.raises(Duplicate):
        queues.create_queue(repo, SCOPE, instance_id, queues.NewQueue("Billing", hours_id), NOW, ids)
    with pytest.raises(NotFound, match="Hours of operation"):
        queues.create_queue(repo, SCOPE, instance_id, queues.NewQueue("Other", "nope"), NOW, ids)
    with pytest.raises(NotFound, match="quick connects"):
        spec = queues.NewQueue("Other", hours_id, quick_connect_ids=["qc"])
        queues.create_queue(repo, SCOPE, instance_id, spec, NOW, ids)


def test_enqueue_sets_queue_info_and_lists_the_longest_waiting_first(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    queue = basic_queue(repo, instance_id)
    first, second = new_chat(repo, instance_id, ids), new_chat(repo, instance_id, ids)
    queues.enqueue(repo, SCOPE, second, queue.id, NOW + timedelta(seconds=5))
    queues.enqueue(repo, SCOPE, first, queue.arn(SCOPE), NOW + timedelta(seconds=9))
    later = NOW + timedelta(seconds=10)
    stored = repo.get_contact(SCOPE, first.id)
    assert stored is not None and stored.queue_id == queue.id and stored.enqueued_at == NOW + timedelta(seconds=9)
    assert [c.id for c in repo.waiting_contacts(SCOPE, instance_id, queue.id, later)] == [second.id, first.id]
    assert repo.count_waiting(SCOPE, instance_id, queue.id, later) == 2
    with pytest.raises(AlreadyQueued):
        queues.enqueue(repo, SCOPE, first, queue.id, later)


def test_a_full_queue_refuses_and_frees_a_place_when_a_contact_leaves_it(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    spec = queues.NewQueue("Small", basic_queue(repo, instance_id).hours_id, max_contacts=1)
    small = queues.create_queue(repo, SCOPE, instance_id, spec, NOW, ids)
    first, second = new_chat(repo, instance_id, ids), new_chat(repo, instance_id, ids)
    queues.enqueue(repo, SCOPE, first, small.id, NOW)
    assert queues.queue_at_capacity(repo, SCOPE, small, NOW)
    with pytest.raises(QueueAtCapacity):
        queues.enqueue(repo, SCOPE, second, small.id, NOW)
    queues.accept(repo, SCOPE, first.id, "Ann", "agent-1", NOW, ids)
    assert not queues.queue_at_capacity(repo, SCOPE, small, NOW)
    queues.enqueue(repo, SCOPE, second, small.id, NOW)
    with pytest.raises(NotFound):
        queues.enqueue(repo, SCOPE, new_chat(repo, instance_id, ids), "no-such-queue", NOW)


def test_an_ended_chat_is_neither_queued_nor_waiting(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    queue = basic_queue(repo, instance_id)
    chat = new_chat(repo, instance_id, ids)
    queues.enqueue(repo, SCOPE, chat, queue.id, NOW)
    contacts.stop_contact(repo, SCOPE, instance_id, chat.id, None, NOW, ids, POLICY)
    assert repo.waiting_contacts(SCOPE, instance_id, queue.id, NOW) == []
    ended = repo.get_contact(SCOPE, chat.id)
    assert ended is not None
    with pytest.raises(StateConflict):
        queues.enqueue(repo, SCOPE, ended, queue.id, NOW)
    with pytest.raises(NotQueued):
        queues.accept(repo, SCOPE, chat.id, "Ann", None, NOW, ids)
    expired = new_chat(repo, instance_id, ids)  # past its scheduled end before any timer ran
    queues.enqueue(repo, SCOPE, expired, queue.id, NOW)
    assert repo.count_waiting(SCOPE, instance_id, queue.id, expired.scheduled_end) == 0


def test_accept_disconnects_the_bot_joins_the_agent_and_sets_agent_info(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    chat = new_chat(repo, instance_id, ids)
    bot = participants.add_participant(
        repo, SCOPE, instance_id, chat.id, participants.NewParticipant("CUSTOM_BOT", "Bot"), NOW, ids, POLICY
    ).participant
    bot.connected_at, bot.joined_announced = NOW, True
    repo.put_participant(SCOPE, bot)
    with pytest.raises(NotQueued):
        queues.accept(repo, SCOPE, chat.id, "Ann", None, NOW, ids)
    queues.enqueue(repo, SCOPE, chat, basic_queue(repo, instance_id).id, NOW)
    at = NOW + timedelta(seconds=30)
    accepted = queues.accept(repo, SCOPE, chat.id, "Ann", None, at, ids)
    assert [(i.content_type or "").rsplit(".", 2)[-2:] for i in accepted.items] == [
        ["participant", "left"],
        ["participant", "joined"],
    ]
    assert accepted.items[0].participant_id == bot.id and accepted.items[1].participant_id == accepted.agent.id
    stored = repo.get_contact(SCOPE, chat.id)
    assert stored is not None and stored.agent_id and stored.agent_id != accepted.agent.id
    assert stored.accepted_at == stored.connected_to_agent_at == at and not stored.waiting_in_queue(at)
    assert stored.queue_id is not None  # QueueInfo stays after the accept
    with pytest.raises(NotQueued):
        queues.accept(repo, SCOPE, chat.id, "Bob", None, at, ids)
    with pytest.raises(NotFound):
        queues.accept(repo, SCOPE, "no-such-contact", "Bob", None, at, ids)


def test_set_target_queue_takes_an_id_or_an_arn(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    queue = basic_queue(repo, instance_id)
    chat = new_chat(repo, instance_id, ids)
    assert queues.set_target_queue(repo, SCOPE, chat, queue.arn(SCOPE), NOW).id == queue.id
    with pytest.raises(NotFound):
        queues.set_target_queue(repo, SCOPE, chat, "arn:aws:connect:us-east-1:1:instance/x/queue/none", NOW)


def test_a_contact_document_stored_by_v1_loads_without_the_queue_fields(repo: SqlRepo) -> None:
    ids = sequential_ids()
    chat = new_chat(repo, new_instance(repo, ids), ids)
    document = json.loads(dump(chat))
    for name in ("target_queue_id", "queue_id", "enqueued_at", "agent_id", "accepted_at", "connected_to_agent_at"):
        del document[name]
    old = load(Contact, json.dumps(document))
    assert old.queue_id is None and old.agent_id is None and not old.waiting_in_queue(NOW)


def test_upgrade_replaces_only_v1_placeholders_and_adds_the_missing_queue(repo: SqlRepo) -> None:
    ids = sequential_ids()
    instance_id = new_instance(repo, ids)
    instance = repo.get_instance(SCOPE, instance_id)
    assert instance is not None
    flows = {f.name: f for f in repo.list_flows(SCOPE, instance_id, frozenset(), None, 100).items}
    for name, flow in flows.items():  # make it look as v1 left it
        flow.content = defaults.v1_placeholder_content(name)
        flow.type = defaults.V1_TYPES.get(name, flow.type)
        repo.put_flow(SCOPE, flow)
    flows["Basic Settings"].content = '{"edited": true}'
    repo.put_flow(SCOPE, flows["Basic Settings"])
    repo._db.execute("DELETE FROM queues")
    repo._db.execute("DELETE FROM hours")
    changes = defaults.upgrade_instance(repo, SCOPE, instance, list(flows.values()), NOW, ids)
    assert sum("flow.upgraded" in c for c in changes) == len(defaults.DEFAULT_FLOWS) - 1
    assert any("queue.created" in c for c in changes) and any("hours.created" in c for c in changes)
    after = {f.name: f for f in repo.list_flows(SCOPE, instance_id, frozenset(), None, 100).items}
    assert after["Basic Settings"].content == '{"edited": true}'
    assert after["Default queue transfer"].type == "QUEUE_TRANSFER"
    queue = basic_queue(repo, instance_id)
    assert queue.arn(SCOPE) in after["Default inbound flow"].content
    assert after["Default inbound flow"].content_sha256 == defaults.sha256(after["Default inbound flow"].content)
    assert defaults.upgrade_instance(repo, SCOPE, instance, list(after.values()), NOW, ids) == []  # once only
