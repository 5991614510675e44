"""Event content types, and builders for the items the service itself emits (participant-api.md §4-§6)."""

from __future__ import annotations

from datetime import datetime

from parley.chat.model import Contact, Item, Participant
from parley.chat.policy import IdSource

PREFIX = "application/vnd.amazonaws.connect.event."
TYPING = PREFIX + "typing"
JOINED = PREFIX + "participant.joined"
LEFT = PREFIX + "participant.left"
INVITED = PREFIX + "participant.invited"
ENDED = PREFIX + "chat.ended"
DELIVERED = PREFIX + "message.delivered"
READ = PREFIX + "message.read"
ACKNOWLEDGED = PREFIX + "connection.acknowledged"
METADATA = PREFIX + "message.metadata"
IDLE = PREFIX + "participant.idle"
RETURNED = PREFIX + "participant.returned"
AUTODISCONNECTION = PREFIX + "participant.autodisconnection"
TRANSFER_SUCCEEDED = PREFIX + "transfer.succeeded"
TRANSFER_FAILED = PREFIX + "transfer.failed"
AUTH_INITIATED = PREFIX + "authentication.initiated"
AUTH_SUCCEEDED = PREFIX + "authentication.succeeded"
AUTH_FAILED = PREFIX + "authentication.failed"
AUTH_CANCELLED = PREFIX + "authentication.cancelled"

# What SendEvent accepts (participant-api.md §3.3).
SENDABLE = frozenset({TYPING, DELIVERED, READ, ACKNOWLEDGED, INVITED})
RECEIPTS = frozenset({DELIVERED, READ})
# Live-only: pushed, never returned by GetTranscript.
TRANSIENT = frozenset(
    {TYPING, IDLE, RETURNED, AUTODISCONNECTION, AUTH_INITIATED, AUTH_SUCCEEDED, AUTH_FAILED, AUTH_CANCELLED}
)


def participant_event(
    content_type: str, contact: Contact, who: Participant, now: datetime, ids: IdSource, content: str | None = None
) -> Item:
    item = system_event(contact, content_type, now, ids, content)
    item.participant_id, item.display_name, item.role = who.id, who.display_name, who.role
    return item


def chat_ended(contact: Contact, now: datetime, ids: IdSource) -> Item:
    """`chat.ended` carries no participant fields (chatjs's own dummy event has none)."""
    return system_event(contact, ENDED, now, ids)


def message(
    contact: Contact, sender: Participant, content_type: str, content: str, now: datetime, ids: IdSource
) -> Item:
    return Item(
        id=ids(),
        contact_id=contact.id,
        chain_id=contact.chain_id,
        type="MESSAGE",
        at=now,
        content_type=content_type,
        content=content,
        participant_id=sender.id,
        display_name=sender.display_name,
        role=sender.role,
    )


def receipt(contact: Contact, reader: Participant, message_id: str, kind: str, now: datetime, ids: IdSource) -> Item:
    stamp = "ReadTimestamp" if kind == READ else "DeliveredTimestamp"
    return Item(
        id=ids(),
        contact_id=contact.id,
        chain_id=contact.chain_id,
        type="MESSAGEMETADATA",
        at=now,
        content_type=METADATA,
        message_metadata={
            "MessageId": message_id,
            "Receipts": [{stamp: now, "RecipientParticipantId": reader.id}],
        },
    )


def system_event(contact: Contact, content_type: str, now: datetime, ids: IdSource, content: str | None = None) -> Item:
    """An event of the contact itself, with no participant (e.g. `authentication.*`)."""
    return Item(
        id=ids(),
        contact_id=contact.id,
        chain_id=contact.chain_id,
        type="EVENT",
        at=now,
        content_type=content_type,
        content=content,
        persisted=content_type not in TRANSIENT,
    )
