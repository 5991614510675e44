"""WebRTC contacts (connect-api.md §6): a call on the VOICE channel whose participants join one meeting.

Parley keeps the meeting's and attendees' identifiers and the call's lifecycle; it carries no media."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parley.chat.contacts import check_attributes, find_contact
from parley.chat.errors import Invalid
from parley.chat.flows import find_flow
from parley.chat.model import Contact, Participant, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

SUBTYPE = "connect:Subtype"
WEBRTC_SUBTYPE = {"ValueString": "connect:WebRTC"}


@dataclass(frozen=True, slots=True)
class NewCall:
    instance_id: str
    flow_id: str
    display_name: str
    attributes: dict[str, str] = field(default_factory=dict)
    allowed_capabilities: dict[str, dict[str, str]] = field(default_factory=dict)
    related_contact_id: str | None = None
    references: dict[str, dict[str, str]] = field(default_factory=dict)
    description: str | None = None
    segment_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StartedCall:
    contact: Contact
    customer: Participant


def _check_references(references: dict[str, dict[str, str]]) -> None:
    size = sum(len(k.encode()) + len(str(r.get("Value", "")).encode()) for k, r in references.items())
    if size > 4096:
        raise Invalid(f"References total {size} bytes; the limit is 4096")


def start_call(repo: Repo, scope: Scope, spec: NewCall, now: datetime, ids: IdSource, policy: Policy) -> StartedCall:
    """StartWebRTCContact: the contact, its meeting, and the customer who started it (its first attendee)."""
    flow = find_flow(repo, scope, spec.instance_id, spec.flow_id)
    check_attributes(spec.attributes)
    _check_references(spec.references)
    if spec.related_contact_id:
        find_contact(repo, scope, flow.instance_id, spec.related_contact_id)
    repo.hold_instance(scope, flow.instance_id)
    contact = Contact(
        id=ids(),
        instance_id=flow.instance_id,
        channel="VOICE",
        initiation_method="WEBRTC_API",
        flow_id=flow.id,
        initiated_at=now,
        scheduled_end=now + timedelta(minutes=policy.call_max_minutes),
        related_contact_id=spec.related_contact_id,
        description=spec.description,
        attributes=dict(spec.attributes),
        segment_attributes={SUBTYPE: WEBRTC_SUBTYPE, **spec.segment_attributes},
        allowed_capabilities={k: dict(v) for k, v in spec.allowed_capabilities.items()},
        references={k: dict(v) for k, v in spec.references.items()},
        meeting_id=ids(),
        last_updated=now,
    )
    customer = Participant(
        id=ids(),
        contact_id=contact.id,
        instance_id=contact.instance_id,
        role="CUSTOMER",
        display_name=spec.display_name,
        joined_at=now,
        capabilities=dict(contact.allowed_capabilities.get("Customer", {})),
        attendee_id=ids(),
    )
    repo.put_contact(scope, contact)
    repo.put_participant(scope, customer)
    return StartedCall(contact, customer)
