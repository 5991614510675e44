"""What participants do once they hold a token: connect, talk, read the transcript, leave.

Every operation resolves its caller inside the unit of work, so a token is judged against the
state the operation will change. Operations return the items they created; the service pushes
them to the contact's sockets once the unit has committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from parley.chat import events, streams
from parley.chat.errors import AccessDenied, ConstraintViolation, Invalid, StateConflict, UnknownToken
from parley.chat.model import Contact, Item, Participant, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo
from parley.chat.transcript import TranscriptPage, TranscriptQuery, page

MESSAGE_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "application/json",
        "application/vnd.amazonaws.connect.message.interactive.response",
    }
)
# Older published limits (characters for text, bytes otherwise): PARLEY_MESSAGE_LIMITS=legacy.
LEGACY_LIMITS = {"text/plain": 1024, "text/markdown": 1024, "application/json": 12000}
MESSAGE_MAX_BYTES = 16384
INTERACTIVE_RESPONSE_LEGACY = 12288


@dataclass(frozen=True, slots=True)
class Caller:
    scope: Scope
    participant: Participant
    contact: Contact


@dataclass(slots=True)
class Outcome:
    """Items to push once committed, and the caller the operation acted for."""

    caller: Caller
    items: list[Item] = field(default_factory=list)
    item: Item | None = None  # the item the operation answers with (SendMessage, SendEvent)


def resolve(repo: Repo, participant_id: str | None, now: datetime) -> Caller:
    """The caller a verified token names, refused once it has left or its chat has ended."""
    if participant_id is None:
        raise UnknownToken()
    found = repo.find_participant(participant_id)
    if found is None:
        raise UnknownToken()
    scope, participant = found
    contact = repo.get_contact(scope, participant.contact_id)
    if contact is None:
        raise UnknownToken()
    if not participant.present or contact.ended(now):
        raise AccessDenied()
    return Caller(scope, participant, contact)


def record(repo: Repo, scope: Scope, items: list[Item], item: Item) -> Item:
    """Keeps the item (if persisted) and queues it on its chain's streams, in the same unit of work."""
    stored = repo.append_item(scope, item) if item.persisted else item
    repo.stream_item(scope, stored)
    items.append(stored)
    return stored


def connect(
    repo: Repo,
    caller: Caller,
    types: list[str],
    connect_participant: bool,
    now: datetime,
    ids: IdSource,
    strict: bool = False,
) -> Outcome:
    """CreateParticipantConnection: validates the asked-for blocks; a bot's first connection announces it.
    `strict` (PARLEY_CONNECT_PARTICIPANT_STRICT): a customer's ConnectParticipant needs an active stream."""
    channel = caller.contact.channel
    if strict and connect_participant and caller.participant.role == "CUSTOMER":
        chain = caller.contact.chain_id
        if not any(s.state == "active" for s in repo.chain_streams(caller.scope, chain)):
            raise ConstraintViolation(
                "ConnectParticipant only works for a customer when message streaming is enabled on the chat "
                "(PARLEY_CONNECT_PARTICIPANT_STRICT=true)"
            )
    if "WEBRTC_CONNECTION" in types and channel != "VOICE":
        raise ConstraintViolation("Type WEBRTC_CONNECTION is only for WebRTC (VOICE) contacts")
    if "WEBSOCKET" in types and channel == "VOICE":
        raise ConstraintViolation("Type WEBSOCKET is only for chat contacts")
    outcome = Outcome(caller)
    participant = caller.participant
    if participant.connected_at is None and (connect_participant or participant.role != "CUSTOM_BOT"):
        participant.connected_at = now
        if not participant.joined_announced and caller.contact.channel == "CHAT":
            participant.joined_announced = True
            record(
                repo,
                caller.scope,
                outcome.items,
                events.participant_event(events.JOINED, caller.contact, participant, now, ids),
            )
        repo.put_participant(caller.scope, participant)
    return outcome


def _check_message(contact: Contact, content_type: str, content: str, policy: Policy) -> None:
    if content_type not in MESSAGE_TYPES or (
        content_type != "text/plain" and content_type not in contact.content_types
    ):
        enabled = sorted(t for t in contact.content_types if t in MESSAGE_TYPES)
        raise ConstraintViolation(
            f"ContentType {content_type} is not enabled for this chat; enabled: {enabled} "
            "(see StartChatContact SupportedMessagingContentTypes)"
        )
    size = len(content.encode())
    if size > MESSAGE_MAX_BYTES:
        raise ConstraintViolation(f"Content is {size} bytes; the limit is {MESSAGE_MAX_BYTES} bytes")
    if policy.message_limits == "legacy":
        limit = LEGACY_LIMITS.get(content_type, INTERACTIVE_RESPONSE_LEGACY)
        measured = len(content) if content_type.startswith("text/") else size
        if measured > limit:
            raise ConstraintViolation(
                f"Content is longer than {limit} for {content_type} (PARLEY_MESSAGE_LIMITS=legacy)"
            )


def send_message(
    repo: Repo, caller: Caller, content_type: str, content: str, now: datetime, ids: IdSource, policy: Policy
) -> Outcome:
    _check_message(caller.contact, content_type, content, policy)
    outcome = Outcome(caller)
    item = events.message(caller.contact, caller.participant, content_type, content, now, ids)
    outcome.item = record(repo, caller.scope, outcome.items, item)
    return outcome


def _receipt_target(repo: Repo, caller: Caller, content: str | None) -> Item:
    try:
        message_id = json.loads(content or "")["messageId"]
    except (ValueError, KeyError, TypeError):
        raise ConstraintViolation('A receipt needs Content {"messageId":"<Id>"}') from None
    for item in repo.chain_items(caller.scope, caller.contact.chain_id, frozenset({"MESSAGE", "ATTACHMENT"})):
        if item.id == message_id:
            if item.participant_id == caller.participant.id:
                raise ConstraintViolation("A participant cannot send a receipt for its own message")
            return item
    raise ConstraintViolation(f"messageId {message_id} is not a message of this chat")


def _send_receipt(
    repo: Repo, caller: Caller, kind: str, content: str | None, now: datetime, ids: IdSource, policy: Policy
) -> Outcome:
    target = _receipt_target(repo, caller, content)
    outcome = Outcome(caller)
    active = [p for p in repo.participants(caller.scope, caller.contact.id) if p.present]
    if len(active) > 2:
        if policy.receipts_multiparty == "conflict":
            raise StateConflict("Operation can not be performed due to the state of the contact.")
        outcome.item = events.receipt(caller.contact, caller.participant, target.id, kind, now, ids)
        return outcome
    # Keep the latest receipt per (message, reader) in the transcript.
    for old in repo.chain_items(caller.scope, caller.contact.chain_id, frozenset({"MESSAGEMETADATA"})):
        meta = old.message_metadata or {}
        readers = {r.get("RecipientParticipantId") for r in meta.get("Receipts", [])}
        if meta.get("MessageId") == target.id and caller.participant.id in readers:
            old.persisted = False
            repo.update_item(caller.scope, old)
    item = events.receipt(caller.contact, caller.participant, target.id, kind, now, ids)
    outcome.item = record(repo, caller.scope, outcome.items, item)
    return outcome


def send_event(
    repo: Repo, caller: Caller, content_type: str, content: str | None, now: datetime, ids: IdSource, policy: Policy
) -> Outcome:
    if content_type not in events.SENDABLE:
        raise ConstraintViolation(f"ContentType {content_type} is not an event a participant can send")
    if content_type in events.RECEIPTS:
        return _send_receipt(repo, caller, content_type, content, now, ids, policy)
    if content_type == events.ACKNOWLEDGED:
        outcome = connect(repo, caller, [], True, now, ids)
        outcome.item = events.participant_event(content_type, caller.contact, caller.participant, now, ids)
        return outcome
    outcome = Outcome(caller)
    item = events.participant_event(content_type, caller.contact, caller.participant, now, ids, content)
    outcome.item = record(repo, caller.scope, outcome.items, item)
    return outcome


def end_contact(
    repo: Repo, scope: Scope, contact: Contact, reason: str | None, now: datetime, ids: IdSource
) -> list[Item]:
    """Ends a live contact: `chat.ended` for a chat, then every token is refused."""
    contact.ended_at = now
    contact.disconnect_reason = reason
    contact.last_updated = now
    repo.put_contact(scope, contact)
    if contact.channel != "CHAT":
        return []
    items: list[Item] = []
    record(repo, scope, items, events.chat_ended(contact, now, ids))
    streams.close_chain(repo, scope, contact, now)
    return items


def leave(
    repo: Repo, scope: Scope, contact: Contact, who: Participant, now: datetime, ids: IdSource, announce: bool = True
) -> list[Item]:
    who.left_at = now
    repo.put_participant(scope, who)
    items: list[Item] = []
    if announce and contact.channel == "CHAT":
        record(repo, scope, items, events.participant_event(events.LEFT, contact, who, now, ids))
    return items


def disconnect(repo: Repo, caller: Caller, now: datetime, ids: IdSource) -> Outcome:
    """DisconnectParticipant: `participant.left`; a customer leaving ends the chat (CUSTOMER_DISCONNECT);
    a call ends when its last customer leaves."""
    outcome = Outcome(caller)
    outcome.items += leave(repo, caller.scope, caller.contact, caller.participant, now, ids)
    if caller.contact.channel == "VOICE":
        others = [p for p in repo.participants(caller.scope, caller.contact.id) if p.present and p.role == "CUSTOMER"]
        if caller.participant.role == "CUSTOMER" and not others:
            outcome.items += end_contact(repo, caller.scope, caller.contact, "CUSTOMER_DISCONNECT", now, ids)
        return outcome
    if caller.participant.role == "CUSTOMER" and caller.contact.channel == "CHAT":
        if "AGENT" in caller.contact.disconnect_on_customer_exit:
            for other in repo.participants(caller.scope, caller.contact.id):
                if other.present and other.role == "AGENT":
                    outcome.items += leave(repo, caller.scope, caller.contact, other, now, ids)
        outcome.items += end_contact(repo, caller.scope, caller.contact, "CUSTOMER_DISCONNECT", now, ids)
    return outcome


def transcript(repo: Repo, caller: Caller, contact_id: str | None, query: TranscriptQuery) -> TranscriptPage:
    chain = caller.contact.chain_id
    if contact_id is not None and contact_id not in (caller.contact.id, chain):
        target = repo.get_contact(caller.scope, contact_id)
        if target is None or target.chain_id != chain:
            raise Invalid(f"ContactId {contact_id} is not part of this participant's contact")
    items = repo.chain_items(caller.scope, chain)
    if caller.contact.related_contact_id and caller.contact.continued_from:
        items = repo.chain_items(caller.scope, caller.contact.continued_from) + items
    return page(items, query)


def next_deadline(
    repo: Repo,
    scope: Scope,
    contact: Contact,
    now: datetime,
    policy: Policy,
    participants: list[Participant] | None = None,
) -> datetime | None:
    """When this contact next needs attention (its end, a bot's or the customer's connect deadline).
    `participants`, when the caller has just read them, saves reading them again."""
    if contact.ended(now) and contact.ended_at is not None:
        return None
    moments = [contact.scheduled_end]
    for p in repo.participants(scope, contact.id) if participants is None else participants:
        if p.present and p.connected_at is None:
            if p.role == "CUSTOM_BOT" and policy.bot_connect_timeout:
                moments.append(p.joined_at + timedelta(seconds=policy.bot_connect_timeout))
            elif p.role == "CUSTOMER" and policy.customer_connect_timeout and contact.channel == "CHAT":
                moments.append(p.joined_at + timedelta(seconds=policy.customer_connect_timeout))
    return min(moments)


def enforce_deadlines(
    repo: Repo, scope: Scope, contact_id: str, now: datetime, ids: IdSource, policy: Policy
) -> list[Item]:
    """Ends an expired chat, drops a bot that never connected, ends a chat whose customer never connected."""
    contact = repo.get_contact(scope, contact_id)
    if contact is None or contact.ended_at is not None:
        return []
    if now >= contact.scheduled_end:
        return end_contact(repo, scope, contact, "EXPIRED", now, ids)
    items: list[Item] = []
    for p in repo.participants(scope, contact.id):
        if not p.present or p.connected_at is not None:
            continue
        if (
            p.role == "CUSTOM_BOT"
            and policy.bot_connect_timeout
            and now >= p.joined_at + timedelta(seconds=policy.bot_connect_timeout)
        ):
            items += leave(repo, scope, contact, p, now, ids, announce=False)  # silently: it never joined
        elif (
            p.role == "CUSTOMER"
            and contact.channel == "CHAT"
            and policy.customer_connect_timeout
            and now >= p.joined_at + timedelta(seconds=policy.customer_connect_timeout)
        ):
            return end_contact(repo, scope, contact, "OTHER", now, ids)
    return items


def join_agent(
    repo: Repo, scope: Scope, contact: Contact, display_name: str, role: str, now: datetime, ids: IdSource
) -> tuple[Participant, list[Item]]:
    """An agent (or supervisor) joins: a custom bot present is disconnected first, as AWS does."""
    if contact.ended(now):
        raise StateConflict(f"Contact {contact.id} has ended")
    items: list[Item] = []
    if role in ("AGENT", "LEX_BOT"):
        for p in repo.participants(scope, contact.id):
            if p.present and p.role == "CUSTOM_BOT":
                items += leave(repo, scope, contact, p, now, ids, announce=p.joined_announced)
    agent = Participant(
        id=ids(),
        contact_id=contact.id,
        instance_id=contact.instance_id,
        role=role,
        display_name=display_name,
        joined_at=now,
        connected_at=now,
        joined_announced=True,
        attendee_id=ids() if contact.channel == "VOICE" else None,
    )
    repo.put_participant(scope, agent)
    if contact.channel == "CHAT":
        record(repo, scope, items, events.participant_event(events.JOINED, contact, agent, now, ids))
    return agent, items
