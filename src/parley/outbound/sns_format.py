"""The shapes an SNS subscriber receives, built from one published message (streaming.md §4.2, §4.3):
the HTTP notification JSON, the signature's string to sign, and the SNS-to-Lambda event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Published:
    """One item on one stream, ready for any target."""

    topic_arn: str
    streaming_id: str
    message_id: str
    message: str  # the body, compact JSON
    attributes: dict[str, str]  # the message attributes (all DataType String)
    contact_id: str
    item_id: str


def timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as SNS writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def subscription_arn(topic_arn: str, streaming_id: str) -> str:
    return f"{topic_arn}:parley-{streaming_id}"


def notification(message: Published, moment: datetime, base_url: str, signature: str) -> dict[str, Any]:
    """The JSON an HTTP(S) subscription receives (§4.2)."""
    return {
        "Type": "Notification",
        "MessageId": message.message_id,
        "TopicArn": message.topic_arn,
        "Message": message.message,
        "Timestamp": timestamp(moment),
        "SignatureVersion": "1",
        "Signature": signature,
        "SigningCertURL": f"{base_url}/_parley/sns/cert.pem",
        "UnsubscribeURL": f"{base_url}/_parley/sns/unsubscribe?SubscriptionArn="
        + subscription_arn(message.topic_arn, message.streaming_id),
        "MessageAttributes": {name: {"Type": "String", "Value": value} for name, value in message.attributes.items()},
    }


def string_to_sign(note: dict[str, Any]) -> str:
    """SNS signature version 1 over a Notification: name/value lines in this order, no Subject."""
    fields = ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
    return "".join(f"{name}\n{note[name]}\n" for name in fields)


def lambda_event(message: Published, note: dict[str, Any]) -> dict[str, Any]:
    """The SNS-to-Lambda event: one record, `…Url` spellings, `Subject: null` (§4.3)."""
    record = {
        "Type": "Notification",
        "MessageId": note["MessageId"],
        "TopicArn": note["TopicArn"],
        "Subject": None,
        "Message": note["Message"],
        "Timestamp": note["Timestamp"],
        "SignatureVersion": "1",
        "Signature": note["Signature"],
        "SigningCertUrl": note["SigningCertURL"],
        "UnsubscribeUrl": note["UnsubscribeURL"],
        "MessageAttributes": note["MessageAttributes"],
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn(message.topic_arn, message.streaming_id),
                "Sns": record,
            }
        ]
    }
