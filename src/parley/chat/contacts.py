"""Chat contacts: starting, stopping, describing, and their attributes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parley.chat import events, streams
from parley.chat.conversation import end_contact, record
from parley.chat.errors import (
    ActiveLimitExceeded,
    CallNotActive,
    ConstraintViolation,
    Invalid,
    NotFound,
)
from parley.chat.flows import find_flow
from parley.chat.instances import require_instance
from parley.chat.model import Contact, Item, Participant, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

CONTENT_TYPES = (
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
)
INTERACTIVE = frozenset(CONTENT_TYPES[3:])
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]+")
ATTRIBUTES_MAX_BYTES = 32768
CONNECTION_TYPES_SERVED = frozenset({"WEBSOCKET", "CONNECTION_CREDENTIALS"})


@dataclass(frozen=True, slots=True)
class NewChat:
    instance_id: str
    flow_id: str
    display_name: str
    attributes: dict[str, str] = field(default_factory=dict)
    initial_message: dict[str, str] | None = None
    duration_minutes: int | None = None
    content_types: list[str] | None = None
    persistent_chat: dict[str, str] | None = None
    related_contact_id: str | None = None
    segment_attributes: dict[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    disconnect_on_customer_exit: list[str] = field(default_factory=list)
    connection_types: list[str] = field(default_factory=list)
    response_mode: str | None = None
    streaming_endpoint: str | None = None
    streaming_route: streams.Route | None = None  # where the service routes the endpoint's topic


@dataclass(frozen=True, slots=True)
class StartedChat:
    contact: Contact
    customer: Participant
    items: list[Item]


@dataclass(frozen=True, slots=True)
class StoppedContact:
    contact: Contact
    items: list[Item]


def check_attributes(attributes: dict[str, str], member: str = "Attributes") -> None:
    for key in attributes:
        if not ATTRIBUTE_KEY.fullmatch(key):
            raise ConstraintViolation(
                f"Value '{key}' at '{member.lower()}' failed to satisfy constraint: "
                "Member keys may contain only letters, digits, '-' and '_'"
            )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
    if size > ATTRIBUTES_MAX_BYTES:
        raise ConstraintViolation(
            f"{member} total {size} bytes; the limit is {ATTRIBUTES_MAX_BYTES} bytes of keys and values"
        )


def check_content_types(types: list[str] | None) -> list[str]:
    if types is None:
        return ["text/plain"]
    unknown = [t for t in types if t not in CONTENT_TYPES]
    if unknown:
        raise ConstraintViolation(
            f"SupportedMessagingContentTypes has unsupported values {unknown}; allowed: {list(CONTENT_TYPES)}"
        )
    if "text/plain" not in types:
        raise ConstraintViolation("SupportedMessagingContentTypes must include text/plain")
    return list(dict.fromkeys(types))


def _check_segment_attributes(segment: dict[str, Any], types: list[str]) -> None:
    subtype = (segment.get("connect:Subtype") or {}).get("ValueString")
    if subtype == "connect:Guide" and not set(types) >= INTERACTIVE:
        raise Invalid(
            "SegmentAttributes connect:Subtype=connect:Guide requires SupportedMessagingContentTypes to include "
            "both interactive content types"
        )


def find_contact(repo: Repo, scope: Scope, instance_id: str, contact_id: str) -> Contact:
    instance = require_instance(repo, scope, instance_id)
    contact = repo.get_contact(scope, contact_id)
    if contact is None or contact.instance_id != instance.id:
        raise NotFound(f"Contact not found: {contact_id}")
    return contact


def _persistent_source(repo: Repo, scope: Scope, spec: NewChat, instance_id: str, now: datetime) -> Contact | None:
    persistent = spec.persistent_chat
    if not persistent:
        return None
    if spec.related_contact_id:
        raise Invalid("RelatedContactId cannot be used together with PersistentChat")
    rehydration, source_id = persistent.get("RehydrationType"), persistent.get("SourceContactId")
    if not rehydration or not source_id:
        raise Invalid("PersistentChat needs both RehydrationType and SourceContactId")
    source = find_contact(repo, scope, instance_id, source_id)
    if rehydration == "ENTIRE_PAST_SESSION":
        if source.initial_contact_id is not None:
            raise Invalid("For ENTIRE_PAST_SESSION, SourceContactId must be the past session's initial contact id")
        source = repo.latest_in_chain(scope, source.id) or source
    if not source.ended(now):
        raise Invalid(f"Contact {source.id} has not ended; only an ended chat can be continued")
    return source


def _check_limits(repo: Repo, scope: Scope, instance_id: str, now: datetime, policy: Policy) -> None:
    cap = policy.quota_active_chats
    if cap and repo.count_active_contacts(scope, instance_id, "CHAT", now, cap) >= cap:
        raise ActiveLimitExceeded(
            f"The instance has {cap} active chats, its quota of concurrent chats (PARLEY_QUOTA_ACTIVE_CHATS)"
        )


def start_chat(repo: Repo, scope: Scope, spec: NewChat, now: datetime, ids: IdSource, policy: Policy) -> StartedChat:
    flow = find_flow(repo, scope, spec.instance_id, spec.flow_id)
    types = check_content_types(spec.content_types)
    check_attributes(spec.attributes)
    _check_segment_attributes(spec.segment_attributes, types)
    unserved = [t for t in spec.connection_types if t not in CONNECTION_TYPES_SERVED]
    if unserved:
        raise Invalid(f"ConnectionTypes {unserved} cannot be returned for a chat contact")
    if spec.related_contact_id and not spec.persistent_chat:
        find_contact(repo, scope, flow.instance_id, spec.related_contact_id)
    if spec.streaming_endpoint:
        streams.check_topic(spec.streaming_endpoint, scope)
    source = _persistent_source(repo, scope, spec, flow.instance_id, now)
    repo.hold_instance(scope, flow.instance_id)
    _check_limits(repo, scope, flow.instance_id, now, policy)
    minutes = spec.duration_minutes or policy.default_chat_minutes
    contact = Contact(
        id=ids(),
        instance_id=flow.instance_id,
        channel="CHAT",
        initiation_method="API",
        flow_id=flow.id,
        initiated_at=now,
        scheduled_end=now + timedelta(minutes=minutes),
        related_contact_id=source.id if source else spec.related_contact_id,
        customer_id=spec.customer_id,
        attributes=dict(spec.attributes),
        segment_attributes=dict(spec.segment_attributes),
        content_types=types,
        disconnect_on_customer_exit=list(spec.disconnect_on_customer_exit),
        response_mode=spec.response_mode,
        initial_message=spec.initial_message,
        continued_from=source.id if source else None,
        last_updated=now,
    )
    customer = Participant(
        id=ids(),
        contact_id=contact.id,
        instance_id=contact.instance_id,
        role="CUSTOMER",
        display_name=spec.display_name,
        joined_at=now,
        joined_announced=True,
        connected_at=now if spec.connection_types else None,
    )
    if spec.streaming_endpoint:  # streaming starts with the chat's first item (its InitialMessage included)
        route = spec.streaming_route or streams.Route("capture")
        stream = streams.open_stream(repo, scope, contact, spec.streaming_endpoint, route, now, ids, policy)
        contact.streaming_id = stream.id
    repo.put_contact(scope, contact)
    repo.put_participant(scope, customer)
    items: list[Item] = []
    record(repo, scope, items, events.participant_event(events.JOINED, contact, customer, now, ids))
    if spec.initial_message:
        message = spec.initial_message
        record(
            repo, scope, items, events.message(contact, customer, message["ContentType"], message["Content"], now, ids)
        )
    return StartedChat(contact, customer, items)


def stop_contact(
    repo: Repo,
    scope: Scope,
    instance_id: str,
    contact_id: str,
    reason: str | None,
    now: datetime,
    ids: IdSource,
    policy: Policy,
) -> StoppedContact:
    contact = find_contact(repo, scope, instance_id, contact_id)
    if contact.ended(now):
        if contact.channel == "VOICE":
            raise CallNotActive(f"Contact {contact_id} is not active")
        if policy.stop_ended == "ok":
            return StoppedContact(contact, [])
        raise Invalid(f"Contact {contact_id} has already ended")
    return StoppedContact(contact, end_contact(repo, scope, contact, reason or "API", now, ids))


def _chain_root(repo: Repo, scope: Scope, instance_id: str, contact_id: str) -> Contact:
    contact = find_contact(repo, scope, instance_id, contact_id)
    if contact.initial_contact_id is None:
        return contact
    root = repo.get_contact(scope, contact.initial_contact_id)
    return root or contact


def get_attributes(repo: Repo, scope: Scope, instance_id: str, contact_id: str) -> dict[str, str]:
    return dict(_chain_root(repo, scope, instance_id, contact_id).attributes)


def update_attributes(
    repo: Repo, scope: Scope, instance_id: str, contact_id: str, attributes: dict[str, str], now: datetime
) -> None:
    """Merges, never replaces; allowed on ongoing and completed contacts (connect-api.md §10)."""
    root = _chain_root(repo, scope, instance_id, contact_id)
    merged = {**root.attributes, **attributes}
    check_attributes(merged)
    root.attributes = merged
    root.last_updated = now
    repo.put_contact(scope, root)
