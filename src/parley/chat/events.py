"""Event content types, and builders for the items the service itself emits (participant-api.md §4-§6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.chat.model import Attachment, Contact, Item, Participant
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


def _item(contact: Contact, kind: str, now: datetime, ids: IdSource, who: Participant | None, **fields: Any) -> Item:
    """A new item of the contact; `who` fills the participant fields (sender, subject)."""
    item = Item(id=ids(), contact_id=contact.id, chain_id=contact.chain_id, type=kind, at=now, **fields)
    if who is not None:
        item.participant_id, item.display_name, item.role = who.id, who.display_name, who.role
    return item


def system_event(contact: Contact, content_type: str, now: datetime, ids: IdSource, content: str | None = None) -> Item:
    """An event of the contact itself, with no participant (e.g. `authentication.*`)."""
    return participant_event(content_type, contact, None, now, ids, content)


def participant_event(
    content_type: str,
    contact: Contact,
    who: Participant | None,
    now: datetime,
    ids: IdSource,
    content: str | None = None,
) -> Item:
    persisted = content_type not in TRANSIENT
    return _item(contact, "EVENT", now, ids, who, content_type=content_type, content=content, persisted=persisted)


def chat_ended(contact: Contact, now: datetime, ids: IdSource) -> Item:
    """`chat.ended` carries no participant fields (chatjs's own dummy event has none)."""
    return system_event(contact, ENDED, now, ids)


def message(
    contact: Contact, sender: Participant, content_type: str, content: str, now: datetime, ids: IdSource
) -> Item:
    return _item(contact, "MESSAGE", now, ids, sender, content_type=content_type, content=content)


def attachment(
    contact: Contact, sender: Participant, file: Attachment, status: str, now: datetime, ids: IdSource
) -> Item:
    """An `ATTACHMENT` item: no ContentType or Content, the file and its scan status in `Attachments`."""
    described = {
        "AttachmentId": file.id,
        "AttachmentName": file.name,
        "ContentType": file.content_type,
        "Status": status,
    }
    return _item(contact, "ATTACHMENT", now, ids, sender, attachments=[described])


def receipt(contact: Contact, reader: Participant, message_id: str, kind: str, now: datetime, ids: IdSource) -> Item:
    stamp = "ReadTimestamp" if kind == READ else "DeliveredTimestamp"
    metadata = {"MessageId": message_id, "Receipts": [{stamp: now, "RecipientParticipantId": reader.id}]}
    return _item(contact, "MESSAGEMETADATA", now, ids, None, content_type=METADATA, message_metadata=metadata)
