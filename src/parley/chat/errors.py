"""What the domain refuses, by kind. Each service maps a kind to its own wire error in one table."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """An instance, flow, contact or resource that does not exist in this account and region."""


class Invalid(DomainError):
    """A request that breaks a semantic rule (the wrong role for the channel, a missing name)."""


class ConstraintViolation(DomainError):
    """A constraint on a member that the model cannot express (attribute keys, total sizes)."""


class StateConflict(DomainError):
    """The contact's state forbids the operation (it has ended, an agent is present)."""


class QuotaExceeded(DomainError):
    """A fixed quota: instances per account, custom bots per chat, participants per call."""


class ActiveLimitExceeded(DomainError):
    """A concurrency limit: active chats per instance."""


class Duplicate(DomainError):
    """A name that must be unique is taken."""


class NotPublished(DomainError):
    """A flow whose content is only SAVED was described without the `:$SAVED` qualifier."""


class InvalidFlowContent(DomainError):
    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = problems


class IdempotencyMismatch(DomainError):
    """A ClientToken reused with different parameters."""


class CallNotActive(DomainError):
    """StopContact on a voice contact that is not active (ContactNotFoundException, 410)."""


class QueueAtCapacity(DomainError):
    """The queue holds its MaxContacts waiting contacts (TransferContactToQueue's QueueAtCapacity)."""


class AlreadyQueued(DomainError):
    """The contact already waits in a queue."""


class NotQueued(DomainError):
    """An agent accepts a contact that is not waiting in a queue."""


class AlreadyAssociated(DomainError):
    """A Lambda function added to an instance twice."""


class AccessDenied(DomainError):
    """A token that no longer opens anything: its participant left, or its chat ended."""

    def __init__(self, message: str = "Access denied") -> None:
        super().__init__(message)


class UnknownToken(AccessDenied):
    """A token that never opened anything here: forged, garbage, of another kind or region."""

    def __init__(self) -> None:
        super().__init__("User is not authorized to access this resource with an explicit deny")
