"""The domain's tunable decisions: AWS quotas and the [Inferred] behaviours the spec names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

IdSource = Callable[[], str]


@dataclass(frozen=True, slots=True)
class Policy:
    quota_instances: int = 2  # PARLEY_QUOTA_INSTANCES; 0 = unlimited
    quota_active_chats: int = 100  # PARLEY_QUOTA_ACTIVE_CHATS; 0 = unlimited
    chat_capabilities: str = "ignore"  # PARLEY_CHAT_CAPABILITIES: ignore | reject
    stop_ended: str = "error"  # PARLEY_STOP_ENDED: error | ok
    call_participant_cap: int = 6
    call_max_minutes: int = 24 * 60  # a meeting ends after 24 hours at most
    default_chat_minutes: int = 1500
    bot_connect_timeout: int = 15  # PARLEY_BOT_CONNECT_TIMEOUT seconds; 0 = off
    customer_connect_timeout: int = 300  # PARLEY_CUSTOMER_CONNECT_TIMEOUT seconds; 0 = off
    message_limits: str = "current"  # PARLEY_MESSAGE_LIMITS: current | legacy
    receipts_multiparty: str = "conflict"  # PARLEY_RECEIPTS_MULTIPARTY: conflict | drop
    connection_token_seconds: int = 86400  # ConnectionCredentials.Expiry: 1 day [M-P]
    attachment_scan: str = "approve"  # PARLEY_ATTACHMENT_SCAN: approve | reject | pending
    attachment_max_bytes: int = 20 * 1024 * 1024  # feature-limits: 20 MB per file
    attachments_per_chat: int = 35  # PARLEY_ATTACHMENTS_PER_CHAT; 0 = unlimited
    flow_validation: str = "aws"  # PARLEY_FLOW_VALIDATION: aws | structure | json (flows.md §2)
    persist_extra_events: bool = False  # PARLEY_PERSIST_EXTRA_EVENTS: keep injected rare events in transcripts
    stream_duplicate: str = "same"  # PARLEY_STREAM_DUPLICATE: same | new (StartContactStreaming on an active topic)
    stream_attachments: bool = True  # PARLEY_STREAM_ATTACHMENTS: ATTACHMENT items are streamed
    stream_receipts: bool = False  # PARLEY_STREAM_RECEIPTS: MESSAGEMETADATA receipts are streamed
    connect_participant_strict: bool = False  # PARLEY_CONNECT_PARTICIPANT_STRICT
