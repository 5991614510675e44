"""The domain's records. Plain dataclasses; the store decides how they are kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scope:
    """Every record belongs to one account in one region; nothing crosses scopes."""

    account: str
    region: str

    def arn(self, resource: str) -> str:
        return f"arn:aws:connect:{self.region}:{self.account}:{resource}"


@dataclass(slots=True)
class Instance:
    id: str
    alias: str | None
    identity_management_type: str
    inbound_calls: bool
    outbound_calls: bool
    directory_id: str | None
    created_at: datetime
    status: str = "ACTIVE"
    tags: dict[str, str] = field(default_factory=dict)

    def arn(self, scope: Scope) -> str:
        return scope.arn(f"instance/{self.id}")


@dataclass(slots=True)
class ContactFlow:
    id: str
    instance_id: str
    name: str
    type: str
    content: str
    status: str
    description: str | None
    content_sha256: str
    modified_at: datetime
    state: str = "ACTIVE"
    version: int = 1
    tags: dict[str, str] = field(default_factory=dict)
    saved_content: str | None = None  # a SAVED draft of a PUBLISHED flow (UpdateContactFlowContent on `:$SAVED`)

    def arn(self, scope: Scope) -> str:
        return scope.arn(f"instance/{self.instance_id}/contact-flow/{self.id}")


@dataclass(slots=True)
class Contact:
    id: str
    instance_id: str
    channel: str
    initiation_method: str
    flow_id: str
    initiated_at: datetime
    scheduled_end: datetime
    initial_contact_id: str | None = None  # None: this contact starts its chain
    previous_contact_id: str | None = None
    related_contact_id: str | None = None
    ended_at: datetime | None = None
    disconnect_reason: str | None = None
    customer_id: str | None = None
    description: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # kept on the chain's initial contact
    segment_attributes: dict[str, Any] = field(default_factory=dict)
    content_types: list[str] = field(default_factory=lambda: ["text/plain"])
    disconnect_on_customer_exit: list[str] = field(default_factory=list)
    response_mode: str | None = None
    streaming_id: str | None = None
    initial_message: dict[str, str] | None = None
    allowed_capabilities: dict[str, dict[str, str]] = field(default_factory=dict)
    continued_from: str | None = None
    last_updated: datetime | None = None
    references: dict[str, dict[str, str]] = field(default_factory=dict)
    meeting_id: str | None = None  # WebRTC (VOICE) contacts: the meeting every participant joins
    # authentication sessions the admin API opened: SessionId -> {"opened": epoch seconds, "state": ...}
    auth_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # queues and agents (flows.md §7); absent from documents stored by v1, hence the defaults
    target_queue_id: str | None = None  # UpdateContactTargetQueue: where TransferContactToQueue puts it
    queue_id: str | None = None  # the queue it was put in (QueueInfo.Id)
    enqueued_at: datetime | None = None
    agent_id: str | None = None  # the agent who accepted it from the queue (AgentInfo.Id)
    accepted_at: datetime | None = None
    connected_to_agent_at: datetime | None = None

    @property
    def chain_id(self) -> str:
        return self.initial_contact_id or self.id

    def ended(self, now: datetime) -> bool:
        return self.ended_at is not None or now >= self.scheduled_end

    def end_time(self, now: datetime) -> datetime | None:
        if self.ended_at is not None:
            return self.ended_at
        return self.scheduled_end if now >= self.scheduled_end else None

    def end_reason(self, now: datetime) -> str | None:
        if self.ended_at is not None:
            return self.disconnect_reason
        return "EXPIRED" if now >= self.scheduled_end else None

    def arn(self, scope: Scope) -> str:
        return scope.arn(f"instance/{self.instance_id}/contact/{self.id}")

    def waiting_in_queue(self, now: datetime) -> bool:
        """QUEUED: put in a queue, not yet accepted by an agent, not ended."""
        return self.enqueued_at is not None and self.accepted_at is None and not self.ended(now)


@dataclass(slots=True)
class HoursOfOperation:
    """Hours a queue keeps. Parley keeps the record; CheckHoursOfOperation answers by PARLEY_HOURS."""

    id: str
    instance_id: str
    name: str
    modified_at: datetime
    description: str | None = None
    time_zone: str = "UTC"
    tags: dict[str, str] = field(default_factory=dict)

    def arn(self, scope: Scope) -> str:
        return scope.arn(f"instance/{self.instance_id}/operating-hours/{self.id}")


@dataclass(slots=True)
class Queue:
    id: str
    instance_id: str
    name: str
    hours_id: str
    modified_at: datetime
    type: str = "STANDARD"
    description: str | None = None
    max_contacts: int | None = None  # None: no limit
    status: str = "ENABLED"
    outbound_caller_config: dict[str, str] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def arn(self, scope: Scope) -> str:
        return scope.arn(f"instance/{self.instance_id}/queue/{self.id}")


@dataclass(slots=True)
class LambdaFunction:
    """A Lambda function added to an instance with AssociateLambdaFunction."""

    instance_id: str
    arn: str
    associated_at: datetime


@dataclass(slots=True)
class Participant:
    id: str
    contact_id: str
    instance_id: str
    role: str
    display_name: str
    joined_at: datetime
    capabilities: dict[str, str] = field(default_factory=dict)
    left_at: datetime | None = None
    connected_at: datetime | None = None  # first CreateParticipantConnection with ConnectParticipant
    joined_announced: bool = False  # participant.joined was emitted
    attendee_id: str | None = None  # WebRTC: the participant's attendee in the contact's meeting

    @property
    def present(self) -> bool:
        return self.left_at is None


@dataclass(slots=True)
class Item:
    """A transcript entry or a live-only event. `persisted` items are what GetTranscript returns."""

    id: str
    contact_id: str
    chain_id: str
    type: str  # MESSAGE | EVENT | ATTACHMENT | MESSAGEMETADATA
    at: datetime
    content_type: str | None = None
    content: str | None = None
    participant_id: str | None = None
    display_name: str | None = None
    role: str | None = None
    attachments: list[dict[str, str]] | None = None
    message_metadata: dict[str, Any] | None = None
    persisted: bool = True
    seq: int = 0  # arrival order, assigned by the store


@dataclass(slots=True)
class Attachment:
    """A file a participant uploads into its chat: started, uploaded (bytes kept beside it), completed."""

    id: str
    contact_id: str
    chain_id: str
    participant_id: str
    name: str
    content_type: str
    size: int
    started_at: datetime
    uploaded_at: datetime | None = None
    completed_at: datetime | None = None
    status: str | None = None  # once completed: APPROVED | REJECTED | IN_PROGRESS


@dataclass(slots=True)
class View:
    """A step-by-step guide view registered through the admin API; DescribeView serves it."""

    id: str
    name: str
    version: int
    content: dict[str, Any]
    token: str  # what DescribeView's ViewToken names
    arn: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    after: str | None  # the key to continue after, None at the end


@dataclass(frozen=True, slots=True)
class Selection:
    """Which part of the state an admin dump or reset covers; a None field matches everything."""

    account: str | None = None
    region: str | None = None
    instance_id: str | None = None
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class Removed:
    """What a reset removed: counts per kind, and the contacts whose sockets and timers must stop."""

    counts: dict[str, int]
    contacts: list[tuple[Scope, str]]


ACTIVE, STOPPED, ENDED = "active", "stopped", "ended"  # a Stream's states


@dataclass(slots=True)
class Stream:
    """One StreamingId: a topic the chain's items are published to, and how Parley delivers them."""

    id: str
    instance_id: str
    contact_id: str  # the contact StartContactStreaming named
    chain_id: str  # the chain's initial contact: every segment's items are streamed
    topic_arn: str
    target: str  # sns | http(s)://… | lambda:NAME | python:KEY | capture | drop
    started_at: datetime
    kinds: list[str] = field(default_factory=lambda: ["MESSAGE", "EVENT", "ATTACHMENT"])
    filter: dict[str, object] | None = None
    state: str = ACTIVE
    stopped_at: datetime | None = None
    paused: bool = False  # PARLEY_STREAM_ON_DEAD=pause after a dead message, until a redrive (kept in the store)


@dataclass(slots=True)
class OutboxEntry:
    """One item waiting for (or done with) delivery on one stream; `seq` is its place in the stream's order."""

    seq: int
    streaming_id: str
    item: Item
    state: str  # pending | dead | delivered
    attempts: int = 0
    first_at: float | None = None  # wall-clock epoch of the first attempt (PARLEY_STREAM_MAX_AGE)
    last_error: str | None = None
    done_at: float | None = None


@dataclass(frozen=True, slots=True)
class StreamCounts:
    delivered: int
    pending: int
    retrying: int
    dead: int
    filtered: int
    last_error: str | None
    last_delivered_at: float | None
