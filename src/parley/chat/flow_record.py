"""The record a chat's flows leave in the store: the current run, what the flows set that outlives a run
(event hooks, the target queue, contact data), runs waiting their turn, and the trail (flows.md §9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TRAIL_KEPT = 200


@dataclass(slots=True)
class FlowRecord:
    contact_id: str
    instance_id: str
    run: dict[str, Any] | None = None  # the interpreter's RunState, as JSON
    kind: str = "inbound"  # inbound | queue | whisper | disconnect: what the current run is for
    phase: str = "running"  # running | waiting | queued | ended (what /_parley/contacts/{id}/flow reports)
    pending: list[tuple[str, str]] = field(default_factory=list)  # (kind, flow id) to run once this one ends
    hooks: dict[str, str] = field(default_factory=dict)  # UpdateContactEventHooks: key -> flow id
    queue: dict[str, str] | None = None  # the target queue: {"id", "name", "arn"}
    name: str | None = None  # UpdateContactData
    language_code: str | None = None
    watermark: int = 0  # arrival number of the newest customer message when the current wait began
    bot_id: str | None = None  # the custom bot present when the current wait began
    deadline: datetime | None = None  # the current wait's timeout
    system_id: str = ""  # ParticipantId of the flow's own (SYSTEM) messages
    trail: list[dict[str, Any]] = field(default_factory=list)
    updated: datetime | None = None
    closed: bool = False  # nothing more can run: the chat ended, or its flow could not be run

    @property
    def live(self) -> bool:
        return not self.closed

    def note(self, entries: list[dict[str, Any]]) -> None:
        self.trail.extend(entries)
        del self.trail[:-TRAIL_KEPT]
