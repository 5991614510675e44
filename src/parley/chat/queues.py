"""Queues and the agents who answer them (flows.md §7): CreateQueue, DescribeQueue, ListQueues,
ListHoursOfOperations; putting a contact in a queue, and an agent accepting it.

Pure rules over the `Repo` port. A contact is QUEUED from `enqueue` until an agent accepts it or it ends;
the store keeps an index of queued contacts beside the contact documents, so capacity is one count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.chat.conversation import join_agent
from parley.chat.errors import AlreadyQueued, Duplicate, NotFound, NotQueued, QueueAtCapacity, StateConflict
from parley.chat.instances import require_instance
from parley.chat.model import Contact, HoursOfOperation, Item, Page, Participant, Queue, Scope
from parley.chat.policy import IdSource
from parley.chat.ports import Repo


@dataclass(frozen=True, slots=True)
class NewQueue:
    name: str
    hours_id: str
    description: str | None = None
    max_contacts: int | None = None
    outbound_caller_config: dict[str, str] | None = None
    quick_connect_ids: list[str] | None = None
    uses_email: bool = False  # OutboundEmailConfig or EmailAddressesConfig given
    tags: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """An agent accepted a queued contact: the agent's participant and the items to push
    (a custom bot's `participant.left`, then the agent's `participant.joined`)."""

    contact: Contact
    agent: Participant
    items: list[Item]


def _last_segment(ref: str, kind: str) -> str:
    """A queue or hours id, given as an id or as its ARN (`…/queue/{id}`, `…/operating-hours/{id}`)."""
    marker = f"/{kind}/"
    return ref.rsplit(marker, 1)[1] if ref.startswith("arn:") and marker in ref else ref


def find_queue(repo: Repo, scope: Scope, instance_id: str, ref: str) -> Queue | None:
    """The instance's queue named by id or ARN; None when there is none."""
    return repo.get_queue(scope, instance_id, _last_segment(ref, "queue"))


def require_queue(repo: Repo, scope: Scope, instance_id: str, ref: str) -> Queue:
    instance = require_instance(repo, scope, instance_id)
    queue = find_queue(repo, scope, instance.id, ref)
    if queue is None:
        raise NotFound(f"Queue not found: {ref}")
    return queue


def find_hours(repo: Repo, scope: Scope, instance_id: str, ref: str) -> HoursOfOperation | None:
    return repo.get_hours(scope, instance_id, _last_segment(ref, "operating-hours"))


def _check_references(repo: Repo, scope: Scope, instance_id: str, spec: NewQueue) -> HoursOfOperation:
    hours = find_hours(repo, scope, instance_id, spec.hours_id)
    if hours is None:
        raise NotFound(f"Hours of operation not found: {spec.hours_id}")
    if spec.quick_connect_ids:
        raise NotFound(f"Quick connect not found: {spec.quick_connect_ids[0]} (Parley has no quick connects)")
    if spec.uses_email:
        raise NotFound("Email address not found: Parley has no email addresses")
    config = spec.outbound_caller_config or {}
    if config.get("OutboundCallerIdNumberId"):
        raise NotFound(f"Phone number not found: {config['OutboundCallerIdNumberId']} (Parley has no phone numbers)")
    flow_id = config.get("OutboundFlowId")
    if flow_id and repo.get_flow(scope, instance_id, flow_id.rsplit("/contact-flow/", 1)[-1]) is None:
        raise NotFound(f"Contact flow not found: {flow_id}")
    return hours


def create_queue(repo: Repo, scope: Scope, instance_id: str, spec: NewQueue, now: datetime, ids: IdSource) -> Queue:
    instance = require_instance(repo, scope, instance_id)
    hours = _check_references(repo, scope, instance.id, spec)
    if repo.queue_by_name(scope, instance.id, spec.name) is not None:
        raise Duplicate(f"A queue named {spec.name} already exists in instance {instance.id}")
    queue = Queue(
        id=ids(),
        instance_id=instance.id,
        name=spec.name,
        hours_id=hours.id,
        modified_at=now,
        description=spec.description,
        max_contacts=spec.max_contacts,
        outbound_caller_config=spec.outbound_caller_config or None,
        tags=dict(spec.tags or {}),
    )
    repo.put_queue(scope, queue)
    return queue


def list_queues(
    repo: Repo, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
) -> Page[Queue]:
    instance = require_instance(repo, scope, instance_id)
    return repo.list_queues(scope, instance.id, types, after, limit)


def list_hours(repo: Repo, scope: Scope, instance_id: str, after: str | None, limit: int) -> Page[HoursOfOperation]:
    instance = require_instance(repo, scope, instance_id)
    return repo.list_hours(scope, instance.id, after, limit)


# -- contacts in queues ---------------------------------------------------------------------------------
def queue_at_capacity(repo: Repo, scope: Scope, queue: Queue, now: datetime) -> bool:
    """MaxContacts waiting contacts are in the queue (no MaxContacts: never full)."""
    if queue.max_contacts is None:
        return False
    return repo.count_waiting(scope, queue.instance_id, queue.id, now) >= queue.max_contacts


def set_target_queue(repo: Repo, scope: Scope, contact: Contact, ref: str, now: datetime) -> Queue:
    """UpdateContactTargetQueue: the queue TransferContactToQueue will use."""
    queue = find_queue(repo, scope, contact.instance_id, ref)
    if queue is None:
        raise NotFound(f"Queue not found: {ref}")
    contact.target_queue_id = queue.id
    contact.last_updated = now
    repo.put_contact(scope, contact)
    return queue


def enqueue(repo: Repo, scope: Scope, contact: Contact, queue_id: str, now: datetime) -> Contact:
    """TransferContactToQueue: the contact waits in the queue (QUEUED) until an agent accepts it.
    A queue at MaxContacts refuses it (QueueAtCapacity), and so does a contact already waiting."""
    if contact.ended(now):
        raise StateConflict(f"Contact {contact.id} has ended")
    queue = find_queue(repo, scope, contact.instance_id, queue_id)
    if queue is None:
        raise NotFound(f"Queue not found: {queue_id}")
    if contact.waiting_in_queue(now):
        raise AlreadyQueued(f"Contact {contact.id} is already waiting in queue {contact.queue_id}")
    if queue_at_capacity(repo, scope, queue, now):
        raise QueueAtCapacity(f"Queue {queue.name} holds its MaxContacts ({queue.max_contacts}) contacts")
    contact.target_queue_id = queue.id
    contact.queue_id = queue.id
    contact.enqueued_at = now
    contact.agent_id = contact.accepted_at = contact.connected_to_agent_at = None  # a new wait for a new agent
    contact.last_updated = now
    repo.put_contact(scope, contact)
    return contact


def accept(
    repo: Repo,
    scope: Scope,
    contact_id: str,
    display_name: str,
    agent_id: str | None,
    now: datetime,
    ids: IdSource,
) -> Accepted:
    """An agent accepts a QUEUED chat (§7.4): a custom bot present is disconnected, the agent joins, and
    AgentInfo is set (`agent_id`, or a new id). Anything not waiting in a queue is NotQueued."""
    contact = repo.get_contact(scope, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}")
    if not contact.waiting_in_queue(now):
        raise NotQueued(f"Contact {contact_id} is not waiting in a queue")
    agent, items = join_agent(repo, scope, contact, display_name, "AGENT", now, ids)
    contact.agent_id = agent_id or ids()
    contact.accepted_at = contact.connected_to_agent_at = now
    contact.last_updated = now
    repo.put_contact(scope, contact)
    return Accepted(contact, agent, items)
