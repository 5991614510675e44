"""What the web console reads that the admin API does not already answer: one summary row per contact
(for a live list of a thousand chats without their transcripts) and an attachment's bytes for the
contact page. Reads only; the console changes state through the AWS APIs and the admin API like any client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parley.chat.model import Contact, Item, Participant, Scope, Selection
from parley.chat.ports import UnitOfWork
from parley.clock import Clock
from parley.lazy import LazyModule
from parley.services.base import Store

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import attachments
else:
    attachments = LazyModule("parley.chat.attachments", globals())

SAID = frozenset({"MESSAGE", "ATTACHMENT"})


@dataclass(frozen=True, slots=True)
class Download:
    name: str
    content_type: str
    data: bytes


def contact_state(contact: Contact, people: list[Participant], now: datetime) -> str:
    """connecting, in flow, queued, with agent or ended, as the console's list shows it."""
    if contact.ended(now):
        return "ended"
    if any(p.present and p.role == "AGENT" for p in people):
        return "with agent"
    if contact.waiting_in_queue(now):
        return "queued"
    customer = next((p for p in people if p.role == "CUSTOMER"), None)
    if customer is None or customer.connected_at is None:
        return "connecting"
    return "in flow"


def _person(participant: Participant) -> dict[str, Any]:
    return {
        "id": participant.id,
        "role": participant.role,
        "displayName": participant.display_name,
        "present": participant.present,
    }


@dataclass(slots=True)
class Said:
    """How much was said in a contact, and the last of it."""

    messages: int = 0
    last: str | None = None

    def add(self, item: Item) -> None:
        self.messages += 1
        name = item.display_name or item.role or "?"
        self.last = f"{name}: {item.content if item.type == 'MESSAGE' else '(attachment)'}"


def summary(scope: Scope, contact: Contact, people: list[Participant], said: Said, now: datetime) -> dict[str, Any]:
    return {
        "id": contact.id,
        "account": scope.account,
        "region": scope.region,
        "instanceId": contact.instance_id,
        "channel": contact.channel,
        "state": contact_state(contact, people, now),
        "queue": contact.queue_id,
        "flowId": contact.flow_id,
        "initialContactId": contact.initial_contact_id,
        "initiatedAt": contact.initiated_at,
        "endedAt": contact.end_time(now),
        "disconnectReason": contact.end_reason(now),
        "participants": [_person(p) for p in people],
        "messages": said.messages,
        "lastMessage": said.last,
    }


def _summaries(repo: UnitOfWork, wanted: Selection, now: datetime) -> list[dict[str, Any]]:
    people: dict[str, list[Participant]] = {}
    for _, participant in repo.select_participants(wanted):
        people.setdefault(participant.contact_id, []).append(participant)
    said: dict[str, Said] = {}
    for _, item in repo.select_items(wanted):
        if item.type in SAID:
            said.setdefault(item.contact_id, Said()).add(item)
    contacts = repo.select_contacts(wanted)
    rows = [summary(scope, c, people.get(c.id, []), said.get(c.id, Said()), now) for scope, c in contacts]
    rows.sort(key=lambda row: row["initiatedAt"], reverse=True)
    return rows


class ConsoleService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def contacts(self, wanted: Selection) -> list[dict[str, Any]]:
        """Every contact of the selection, newest first, with its participants and state."""
        now = self._clock.now()
        return await self._store.read(lambda repo: _summaries(repo, wanted, now))

    async def attachment(self, attachment_id: str) -> Download:
        """An approved attachment's bytes (raises the domain's refusal otherwise)."""
        found, data = await self._store.read(lambda repo: attachments.download(repo, attachment_id))
        return Download(found.name, found.content_type, data)
