"""What a run reads and keeps: ContactData (built by the runner from the store), the World's read-only facts,
FlowOptions (the settings of flows.md §1 that shape a run) and RunState (JSON-serializable, stored per run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class QueueRef:
    id: str
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class FlowRef:
    id: str
    name: str
    type: str
    arn: str
    content: str  # the latest PUBLISHED content


@dataclass(slots=True)
class ContactData:
    """What JSONPaths and the Lambda event read (flows.md §3.4, §5.2)."""

    contact_id: str
    instance_arn: str
    initial_contact_id: str = ""
    previous_contact_id: str = ""
    channel: str = "CHAT"
    initiation_method: str = "API"
    customer_id: str | None = None
    name: str | None = None
    description: str | None = None
    language_code: str = "en-US"
    attributes: dict[str, str] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)
    segment_attributes: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    related_contact_id: str | None = None
    queue: QueueRef | None = None
    agent: dict[str, str] | None = None
    external: dict[str, Any] = field(default_factory=dict)
    stored_input: str | None = None

    def copy(self) -> ContactData:
        return ContactData(
            contact_id=self.contact_id,
            instance_arn=self.instance_arn,
            initial_contact_id=self.initial_contact_id or self.contact_id,
            previous_contact_id=self.previous_contact_id or self.contact_id,
            channel=self.channel,
            initiation_method=self.initiation_method,
            customer_id=self.customer_id,
            name=self.name,
            description=self.description,
            language_code=self.language_code,
            attributes=dict(self.attributes),
            references=dict(self.references),
            segment_attributes=dict(self.segment_attributes),
            tags=dict(self.tags),
            related_contact_id=self.related_contact_id,
            queue=self.queue,
            agent=None if self.agent is None else dict(self.agent),
            external=dict(self.external),
            stored_input=self.stored_input,
        )


class World(Protocol):
    """Read-only facts the runner answers from the store."""

    def queue(self, ref: str) -> QueueRef | None: ...  # id or ARN
    def queue_at_capacity(self, queue_id: str) -> bool: ...
    def flow(self, ref: str) -> FlowRef | None: ...  # id or ARN, published only
    def hours_exist(self, ref: str) -> bool: ...
    def bot_present(self) -> bool: ...
    def queued(self) -> bool: ...
    def percent(self) -> int: ...  # 1..100, drawn by the runner (seeded under --seed)


@dataclass(frozen=True, slots=True)
class FlowOptions:
    unsupported: str = "error"  # PARLEY_UNSUPPORTED_ACTION: error | skip | end
    chat_text_input: str = "error"  # PARLEY_CHAT_TEXT_INPUT: error | accept
    hours: str = "open"  # PARLEY_HOURS: open | closed
    max_steps: int = 1000  # PARLEY_FLOW_MAX_STEPS
    string_map: str = "coerce"  # PARLEY_LAMBDA_STRING_MAP: coerce | strict
    external_on_error: str = "clear"  # PARLEY_EXTERNAL_ON_ERROR: clear | keep
    language_code: str = "en-US"  # PARLEY_LANGUAGE_CODE
    lambda_default_timeout: int = 3  # InvocationTimeLimitSeconds when a flow gives none
    input_default_timeout: int = 5  # GetParticipantInput's InputTimeLimitSeconds when a flow gives none


RUNNING, WAITING, ENDED = "running", "waiting", "ended"


@dataclass(slots=True)
class RunState:
    flow_id: str
    flow_name: str
    flow_type: str
    content: str
    action: str | None  # the Identifier to run next, or the one waiting
    status: str = RUNNING  # running | waiting | ended
    waiting: str | None = None  # lambda | wait | input
    deadline: datetime | None = None  # a Wait's or an input's timeout, on the runner's clock
    events: list[str] = field(default_factory=list)  # what a waiting Wait listens for
    loops: dict[str, int] = field(default_factory=dict)
    steps: int = 0  # actions run since the run last waited
    logging: bool = False
    external: dict[str, Any] = field(default_factory=dict)
    stored_input: str | None = None
    outcome: str | None = None  # end | disconnect | queued | max-steps | error | unsupported
    hooks: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "flowId": self.flow_id,
            "flowName": self.flow_name,
            "flowType": self.flow_type,
            "content": self.content,
            "action": self.action,
            "status": self.status,
            "waiting": self.waiting,
            "deadline": None if self.deadline is None else self.deadline.isoformat(),
            "events": list(self.events),
            "loops": dict(self.loops),
            "steps": self.steps,
            "logging": self.logging,
            "external": self.external,
            "storedInput": self.stored_input,
            "outcome": self.outcome,
            "hooks": dict(self.hooks),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RunState:
        deadline = doc.get("deadline")
        return cls(
            flow_id=doc["flowId"],
            flow_name=doc["flowName"],
            flow_type=doc["flowType"],
            content=doc["content"],
            action=doc.get("action"),
            status=doc.get("status", RUNNING),
            waiting=doc.get("waiting"),
            deadline=None if deadline is None else datetime.fromisoformat(deadline),
            events=list(doc.get("events") or []),
            loops=dict(doc.get("loops") or {}),
            steps=int(doc.get("steps") or 0),
            logging=bool(doc.get("logging")),
            external=dict(doc.get("external") or {}),
            stored_input=doc.get("storedInput"),
            outcome=doc.get("outcome"),
            hooks=dict(doc.get("hooks") or {}),
        )
