"""What a run asks the runner to do (effects, applied in order in one unit of work; InvokeLambda after commit),
what resumes a waiting run, and the trail entry written per action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.chat.flowlang.state import QueueRef


@dataclass(frozen=True, slots=True)
class SendMessage:
    """A MESSAGE text/plain from role SYSTEM (MessageParticipant, a GetParticipantInput prompt)."""

    text: str


@dataclass(frozen=True, slots=True)
class SetAttributes:
    attributes: dict[str, str]  # merged into the contact's attributes


@dataclass(frozen=True, slots=True)
class SetTargetQueue:
    queue: QueueRef


@dataclass(frozen=True, slots=True)
class Enqueue:
    """TransferContactToQueue succeeded; the run ends with outcome 'queued'."""

    queue: QueueRef


@dataclass(frozen=True, slots=True)
class SetEventHook:
    key: str
    flow_id: str


@dataclass(frozen=True, slots=True)
class UpdateContactData:
    name: str | None
    description: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class EndContact:
    """DisconnectParticipant, or an inbound or transfer flow that ended before the contact was queued."""


@dataclass(frozen=True, slots=True)
class InvokeLambda:
    function_arn: str
    event: dict[str, Any]
    timeout_seconds: float
    asynchronous: bool
    response_type: str  # STRING_MAP | JSON


Effect = (
    SendMessage
    | SetAttributes
    | SetTargetQueue
    | Enqueue
    | SetEventHook
    | UpdateContactData
    | EndContact
    | InvokeLambda
)


@dataclass(frozen=True, slots=True)
class LambdaAnswer:
    ok: bool
    payload: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class WaitEvent:
    name: str  # WaitCompleted (the deadline passed) | BotParticipantDisconnected | CustomerReturned


@dataclass(frozen=True, slots=True)
class CustomerInput:
    text: str | None  # None: the input time limit passed


Resume = LambdaAnswer | WaitEvent | CustomerInput


@dataclass(frozen=True, slots=True)
class TrailStep:
    flow: str  # the flow's name
    action: str  # Identifier
    type: str
    branch: str | None  # the condition, error or NextAction taken; None while waiting
    detail: str
    unsupported: bool = False  # an action Parley does not run (flows.md §3.5): the runner logs flow.unsupported
