"""The SNS message a stream publishes for one item (streaming.md §3): the body (the item exactly as pushed on
the WebSocket, in the documented member order) and the eight message attributes. The shapes targets send
(HTTP notification, Lambda event) are outbound/sns_format.py's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from parley.chat.model import Item, Scope, Stream
from parley.outbound.sns_format import Published
from parley.services.push import pushed_item

BODY_ORDER = (
    "AbsoluteTime",
    "Content",
    "ContentType",
    "Id",
    "Type",
    "ParticipantId",
    "DisplayName",
    "ParticipantRole",
    "InitialContactId",
    "ContactId",
)
MESSAGE_IDS = uuid.UUID("8f5d2c1e-6b1a-4c0e-9a57-3f2f5a0c7d11")  # namespace: a message keeps its id on retries


def body(item: Item) -> dict[str, Any]:
    """The pushed item, members in the order of AWS's documented example; the rest (Attachments) after."""
    pushed = pushed_item(item)
    ordered = {name: pushed[name] for name in BODY_ORDER if name in pushed}
    ordered.update({name: value for name, value in pushed.items() if name not in ordered})
    return ordered


def attributes(scope: Scope, stream: Stream, item: Item, pushed: dict[str, Any]) -> dict[str, str]:
    """The eight attributes; ParticipantRole is omitted when the item has no participant (`chat.ended`)."""
    found: dict[str, Any] = {
        "InitialContactId": item.chain_id,
        "ContactId": item.contact_id,
        "ParticipantRole": pushed.get("ParticipantRole"),
        "InstanceId": stream.instance_id,
        "AccountId": scope.account,
        "Type": item.type,
        "ContentType": item.content_type or _attachment_type(item),
        "MessageVisibility": "ALL",
    }
    return {name: str(value) for name, value in found.items() if value is not None}


def _attachment_type(item: Item) -> str | None:
    return item.attachments[0].get("ContentType") if item.attachments else None


def published(scope: Scope, stream: Stream, item: Item) -> Published:
    pushed = body(item)
    return Published(
        topic_arn=stream.topic_arn,
        streaming_id=stream.id,
        message_id=str(uuid.uuid5(MESSAGE_IDS, f"{stream.id}/{item.id}")),
        message=json.dumps(pushed, separators=(",", ":"), ensure_ascii=False),
        attributes=attributes(scope, stream, item, pushed),
        contact_id=item.contact_id,
        item_id=item.id,
    )
