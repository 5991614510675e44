"""CreateParticipant: who may join which contact, and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parley.chat.contacts import find_contact
from parley.chat.errors import Invalid, QuotaExceeded, StateConflict
from parley.chat.model import Contact, Participant, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

CHAT_BLOCKERS = frozenset({"AGENT", "LEX_BOT"})  # a custom bot cannot join while one of these is present


@dataclass(frozen=True, slots=True)
class NewParticipant:
    role: str | None
    display_name: str | None
    capabilities: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AddedParticipant:
    participant: Participant
    contact: Contact
    present: list[Participant]  # everyone present now, the new participant included


def _check_chat(present: list[Participant], spec: NewParticipant, policy: Policy) -> None:
    if spec.role != "CUSTOM_BOT":
        raise Invalid(f"ParticipantRole must be CUSTOM_BOT for a CHAT contact, not {spec.role or 'absent'}")
    if not spec.display_name:
        raise Invalid("ParticipantDetails.DisplayName is required for a CUSTOM_BOT participant")
    if spec.capabilities and policy.chat_capabilities == "reject":
        raise Invalid("ParticipantCapabilities apply to WebRTC contacts only (PARLEY_CHAT_CAPABILITIES=reject)")
    blockers = sorted({p.role for p in present if p.role in CHAT_BLOCKERS})
    if blockers:
        raise StateConflict(f"A custom bot cannot be added while {' and '.join(blockers)} is on the contact")
    if any(p.role == "CUSTOM_BOT" for p in present):
        raise QuotaExceeded("The contact already has a custom bot participant; a chat allows one")


def _check_call(contact: Contact, present: list[Participant], spec: NewParticipant, policy: Policy) -> None:
    if spec.role != "CUSTOMER":
        raise Invalid(f"ParticipantRole must be CUSTOMER for a VOICE contact, not {spec.role or 'absent'}")
    if contact.initial_contact_id is not None:
        raise Invalid(f"ContactId must be the initial contact id of the call ({contact.initial_contact_id})")
    if not any(p.role == "AGENT" for p in present):
        raise Invalid("A participant can be added to a call only once an agent is connected")
    allowed = contact.allowed_capabilities.get("Customer", {})
    refused = sorted(k for k, v in spec.capabilities.items() if allowed.get(k) != v)
    if refused:
        raise Invalid(f"ParticipantCapabilities {refused} are not allowed for customers on this contact")
    if len(present) >= policy.call_participant_cap:
        raise QuotaExceeded(f"The call already has {len(present)} participants, its limit")


def add_participant(
    repo: Repo,
    scope: Scope,
    instance_id: str,
    contact_id: str,
    spec: NewParticipant,
    now: datetime,
    ids: IdSource,
    policy: Policy,
) -> AddedParticipant:
    contact = find_contact(repo, scope, instance_id, contact_id)
    if contact.ended(now):
        raise StateConflict(f"Contact {contact.id} has ended")
    present = [p for p in repo.participants(scope, contact.id) if p.present]
    if contact.channel == "CHAT":
        _check_chat(present, spec, policy)
    else:
        _check_call(contact, present, spec, policy)
    participant = Participant(
        id=ids(),
        contact_id=contact.id,
        instance_id=contact.instance_id,
        role=spec.role or "",
        display_name=spec.display_name or "",
        joined_at=now,
        capabilities=dict(spec.capabilities) if contact.channel != "CHAT" else {},
        attendee_id=ids() if contact.channel == "VOICE" else None,
    )
    repo.put_participant(scope, participant)
    return AddedParticipant(participant, contact, [*present, participant])
