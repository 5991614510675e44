"""What the flow interpreter may read of the world, served from the store inside the runner's unit of work:
queues, published flows, hours, the custom bot, and the contact as `$.` paths see it (flows.md §3.4)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from parley.chat import queues
from parley.chat.flow_record import FlowRecord
from parley.chat.flowlang import interpreter as fl
from parley.chat.flows import flow_ref
from parley.chat.model import Contact, ContactFlow, Scope


def find_published(repo: Any, scope: Scope, instance_id: str, ref: str) -> ContactFlow | None:
    ident, _ = flow_ref(ref)
    flow: ContactFlow | None = repo.get_flow(scope, instance_id, ident)
    if flow is None or flow.status != "PUBLISHED" or flow.state != "ACTIVE":
        return None
    return flow


def as_ref(scope: Scope, flow: ContactFlow) -> fl.FlowRef:
    return fl.FlowRef(id=flow.id, name=flow.name, type=flow.type, arn=flow.arn(scope), content=flow.content)


class RepoWorld:
    """`fl.World` over the Repo port, for one contact, inside one unit of work."""

    def __init__(self, repo: Any, scope: Scope, contact: Contact, now: datetime, draw: random.Random) -> None:
        self._repo = repo
        self._scope = scope
        self._contact = contact
        self._now = now
        self._draw = draw

    def queue(self, ref: str) -> fl.QueueRef | None:
        found = queues.find_queue(self._repo, self._scope, self._contact.instance_id, ref)
        if found is None:
            return None
        return fl.QueueRef(id=found.id, name=found.name, arn=found.arn(self._scope))

    def queue_at_capacity(self, queue_id: str) -> bool:
        found = queues.find_queue(self._repo, self._scope, self._contact.instance_id, queue_id)
        return found is not None and queues.queue_at_capacity(self._repo, self._scope, found, self._now)

    def flow(self, ref: str) -> fl.FlowRef | None:
        flow = find_published(self._repo, self._scope, self._contact.instance_id, ref)
        return None if flow is None else as_ref(self._scope, flow)

    def hours_exist(self, ref: str) -> bool:
        return queues.find_hours(self._repo, self._scope, self._contact.instance_id, ref) is not None

    def bot_present(self) -> bool:
        people = self._repo.participants(self._scope, self._contact.id)
        return any(p.present and p.role == "CUSTOM_BOT" for p in people)

    def queued(self) -> bool:
        return self._contact.waiting_in_queue(self._now)

    def percent(self) -> int:
        return self._draw.randint(1, 100)


def contact_data(
    repo: Any, scope: Scope, contact: Contact, rec: FlowRecord, state: fl.RunState | None, options: fl.FlowOptions
) -> fl.ContactData:
    """The contact as the `$.` paths and the Lambda event see it (flows.md §3.4, §5.2)."""
    root = contact if contact.chain_id == contact.id else (repo.get_contact(scope, contact.chain_id) or contact)
    instance_arn = scope.arn(f"instance/{contact.instance_id}")
    queue = rec.queue
    return fl.ContactData(
        contact_id=contact.id,
        initial_contact_id=contact.chain_id,
        previous_contact_id=contact.previous_contact_id or contact.id,
        instance_arn=instance_arn,
        customer_id=contact.customer_id,
        name=rec.name,
        description=contact.description,
        language_code=rec.language_code or options.language_code,
        attributes=dict(root.attributes),
        references=dict(contact.references),
        segment_attributes=dict(contact.segment_attributes),
        tags={"aws:connect:instanceId": contact.instance_id},
        related_contact_id=contact.related_contact_id,
        queue=None if queue is None else fl.QueueRef(id=queue["id"], name=queue["name"], arn=queue["arn"]),
        agent=None,
        external=dict(state.external) if state is not None else {},
        stored_input=state.stored_input if state is not None else None,
    )
