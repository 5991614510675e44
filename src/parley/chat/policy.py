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
    default_chat_minutes: int = 1500
