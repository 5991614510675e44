"""Events Amazon Connect emits from its own timers and flows, which Parley has neither: the admin API
injects them (participant-api.md §5). Idle, returned and auto-disconnection are live only; transfers are
kept in the transcript; the rest are live only unless PARLEY_PERSIST_EXTRA_EVENTS."""

from __future__ import annotations

from datetime import datetime

from parley.chat import events
from parley.chat.conversation import end_contact, leave, record
from parley.chat.errors import Invalid, NotFound, StateConflict
from parley.chat.model import Contact, Item, Participant, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

ABOUT_A_PARTICIPANT = frozenset(
    {
        "participant.idle",
        "participant.returned",
        "participant.autodisconnection",
        "participant.active",
        "participant.inactive",
        "participant.displayname.updated",
    }
)
ABOUT_THE_CHAT = frozenset(
    {
        "transfer.succeeded",
        "transfer.failed",
        "chat.rehydrated",
        "authentication.timeout",
        "authentication.expired",
        "workflow.cancelled",
    }
)
INJECTABLE = ABOUT_A_PARTICIPANT | ABOUT_THE_CHAT
KEPT = frozenset({"transfer.succeeded", "transfer.failed"})
LIVE_ONLY = frozenset({"participant.idle", "participant.returned", "participant.autodisconnection"})


def _subject(repo: Repo, scope: Scope, contact: Contact, suffix: str, participant_id: str | None) -> Participant | None:
    if participant_id is None:
        if suffix in ABOUT_A_PARTICIPANT:
            raise Invalid(f"{suffix} is about a participant: give participantId")
        return None
    for participant in repo.participants(scope, contact.id):
        if participant.id == participant_id and participant.present:
            return participant
    raise NotFound(f"No participant {participant_id} is present on contact {contact.id}")


def inject(
    repo: Repo,
    scope: Scope,
    contact: Contact,
    suffix: str,
    participant_id: str | None,
    content: str | None,
    now: datetime,
    ids: IdSource,
    policy: Policy,
) -> list[Item]:
    """Emits `application/vnd.amazonaws.connect.event.<suffix>`; an auto-disconnection also makes its
    participant leave, and a customer's ends the chat."""
    if suffix not in INJECTABLE:
        raise Invalid(f"event must be one of {', '.join(sorted(INJECTABLE))}, got {suffix!r}")
    if contact.channel != "CHAT" or contact.ended(now):
        raise StateConflict(f"Contact {contact.id} is not a live chat")
    who = _subject(repo, scope, contact, suffix, participant_id)
    content_type = events.PREFIX + suffix
    if who is None:
        item = events.system_event(contact, content_type, now, ids, content)
    else:
        item = events.participant_event(content_type, contact, who, now, ids, content)
    item.persisted = suffix in KEPT or (suffix not in LIVE_ONLY and policy.persist_extra_events)
    items: list[Item] = []
    record(repo, scope, items, item)
    if suffix == "participant.autodisconnection" and who is not None:
        items += leave(repo, scope, contact, who, now, ids)
        if who.role == "CUSTOMER":
            items += end_contact(repo, scope, contact, "OTHER", now, ids)
    return items
