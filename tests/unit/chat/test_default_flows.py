"""The default flows of a real instance, run by the flow interpreter over the real SQLite repo, with their
effects applied through the queue domain as the runner applies them: an unconfigured chat waits in
BasicQueue, a full queue ends it, and the sample disconnect flow queues a returning customer again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parley.chat import contacts, conversation, instances, queues
from parley.chat.flowlang import effects as fx
from parley.chat.flowlang.interpreter import Advance, Resume, advance, start
from parley.chat.flowlang.state import ContactData, FlowOptions, FlowRef, QueueRef
from parley.chat.model import Contact
from parley.chat.policy import Policy
from parley.store.sql_repo import SqlRepo
from tests.unit.chat.conftest import NOW, SCOPE, sequential_ids

POLICY = Policy(quota_active_chats=0)


@dataclass
class StoreWorld:
    """The interpreter's World answered from the store, as the runner's is."""

    repo: SqlRepo
    contact_id: str
    now: datetime = NOW

    def _contact(self) -> Contact:
        contact = self.repo.get_contact(SCOPE, self.contact_id)
        assert contact is not None
        return contact

    def queue(self, ref: str) -> QueueRef | None:
        found = queues.find_queue(self.repo, SCOPE, self._contact().instance_id, ref)
        return None if found is None else QueueRef(found.id, found.name, found.arn(SCOPE))

    def queue_at_capacity(self, queue_id: str) -> bool:
        found = queues.find_queue(self.repo, SCOPE, self._contact().instance_id, queue_id)
        return found is not None and queues.queue_at_capacity(self.repo, SCOPE, found, self.now)

    def flow(self, ref: str) -> FlowRef | None:
        flow = self.repo.get_flow(SCOPE, self._contact().instance_id, ref.rsplit("/contact-flow/", 1)[-1])
        if flow is None or flow.status != "PUBLISHED":
            return None
        return FlowRef(flow.id, flow.name, flow.type, flow.arn(SCOPE), flow.content)

    def hours_exist(self, ref: str) -> bool:
        return queues.find_hours(self.repo, SCOPE, self._contact().instance_id, ref) is not None

    def bot_present(self) -> bool:
        return any(p.present and p.role == "CUSTOM_BOT" for p in self.repo.participants(SCOPE, self.contact_id))

    def queued(self) -> bool:
        return self._contact().waiting_in_queue(self.now)

    def percent(self) -> int:
        return 50


def run(repo: SqlRepo, world: StoreWorld, flow: FlowRef, resume: Resume | None = None, state: Any = None) -> Advance:
    """One advance, its effects applied through the domain (what the runner does in its unit of work)."""
    data = ContactData(contact_id=world.contact_id, instance_arn="arn:aws:connect:instance")
    done = advance(state or start(flow, data), data, world, FlowOptions(), world.now, resume)
    for effect in done.effects:
        contact = world._contact()
        if isinstance(effect, fx.SetTargetQueue):
            queues.set_target_queue(repo, SCOPE, contact, effect.queue.id, world.now)
        elif isinstance(effect, fx.Enqueue):
            queues.enqueue(repo, SCOPE, contact, effect.queue.id, world.now)
        elif isinstance(effect, fx.EndContact):
            conversation.end_contact(repo, SCOPE, contact, "OTHER", world.now, sequential_ids())
    return done


def setup(repo: SqlRepo) -> tuple[str, dict[str, FlowRef], Contact]:
    ids = sequential_ids()
    spec = instances.NewInstance("CONNECT_MANAGED", True, True, alias="d")
    instance_id = instances.create_instance(repo, SCOPE, spec, NOW, ids, POLICY).id
    flows = {
        f.name: FlowRef(f.id, f.name, f.type, f.arn(SCOPE), f.content)
        for f in repo.list_flows(SCOPE, instance_id, frozenset(), None, 100).items
    }
    chat = contacts.start_chat(
        repo, SCOPE, contacts.NewChat(instance_id, flows["Default inbound flow"].id, "Customer"), NOW, ids, POLICY
    )
    return instance_id, flows, chat.contact


def test_an_unconfigured_chat_waits_in_basic_queue(repo: SqlRepo) -> None:
    instance_id, flows, chat = setup(repo)
    world = StoreWorld(repo, chat.id)
    done = run(repo, world, flows["Default inbound flow"])
    assert done.state.outcome == "queued"
    hooks = [e for e in done.effects if isinstance(e, fx.SetEventHook)]
    assert [(h.key, h.flow_id) for h in hooks] == [("CustomerRemaining", flows["Sample disconnect flow"].id)]
    basic = repo.queue_by_name(SCOPE, instance_id, "BasicQueue")
    assert basic is not None
    stored = world._contact()
    assert stored.queue_id == basic.id and stored.waiting_in_queue(NOW) and not stored.ended(NOW)
    assert [c.id for c in repo.waiting_contacts(SCOPE, instance_id, basic.id, NOW)] == [chat.id]
    queue_flow = run(repo, world, flows["Default customer queue"])  # plays while it waits: ends at once
    assert queue_flow.state.outcome == "end" and queue_flow.effects == [] and world._contact().ended_at is None


def test_a_full_basic_queue_ends_the_chat(repo: SqlRepo) -> None:
    instance_id, flows, chat = setup(repo)
    basic = repo.queue_by_name(SCOPE, instance_id, "BasicQueue")
    assert basic is not None
    basic.max_contacts = 0
    repo.put_queue(SCOPE, basic)
    done = run(repo, StoreWorld(repo, chat.id), flows["Default inbound flow"])
    assert ("transfer", "QueueAtCapacity") in [(t.action, t.branch) for t in done.trail]
    assert done.state.outcome == "disconnect"
    stored = repo.get_contact(SCOPE, chat.id)
    assert stored is not None and stored.ended_at is not None and stored.queue_id is None


def test_the_disconnect_flow_queues_a_returning_customer_again(repo: SqlRepo) -> None:
    _, flows, chat = setup(repo)
    world = StoreWorld(repo, chat.id)
    run(repo, world, flows["Default inbound flow"])
    queues.accept(repo, SCOPE, chat.id, "Ann", "ann", NOW, sequential_ids())
    waiting = run(repo, world, flows["Sample disconnect flow"])  # the agent left
    assert waiting.state.status == "waiting" and waiting.state.events == ["CustomerReturned"]
    [told] = [e.text for e in waiting.effects if isinstance(e, fx.SendMessage)]
    assert told.startswith("The agent has left")
    world.now = NOW + timedelta(minutes=3)
    back = run(repo, world, flows["Sample disconnect flow"], fx.WaitEvent("CustomerReturned"), waiting.state)
    assert back.state.outcome == "queued"
    stored = world._contact()
    assert stored.waiting_in_queue(world.now) and stored.enqueued_at == world.now and stored.agent_id is None
