"""Fault injection (`/_parley/faults`): rules that fail or slow down matching AWS requests before their
operation runs, and rules that drop a chat's WebSockets, now or after N pushed frames.

An injected error is one AWS could send for that operation (it declares the error, or it is one of
AWS's common errors), with the real service's status and wire form, so an SDK's retry logic treats it
exactly as it would treat AWS's. A request a rule fails never reaches its handler: no state changes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parley.bus.port import DROP_CODE as DROP_CODE  # re-exported: the admin API names it here
from parley.bus.port import Bus
from parley.protocol.errors import COMMON_ERRORS, ServiceError, injected, may_answer, status_of
from parley.protocol.spec import OperationSpec
from parley.transport.admin_input import BadInput, choose, known_keys, number, optional_text, text, whole

MAX_LATENCY_MS = 600_000
DEFAULT_MESSAGES = {"ThrottlingException": "Rate exceeded"}
Operations = Mapping[str, Mapping[str, OperationSpec]]  # service -> operation name -> spec


@dataclass(frozen=True, slots=True)
class InjectedError:
    code: str
    message: str
    statuses: dict[str, int]  # per service the rule can match

    def describe(self) -> dict[str, Any]:
        shown = set(self.statuses.values())
        status: Any = shown.pop() if len(shown) == 1 else dict(self.statuses)
        return {"code": self.code, "status": status, "message": self.message}


@dataclass(slots=True)
class RequestRule:
    id: str
    service: str  # or "*"
    operation: str  # or "*"
    probability: float
    remaining: int | None  # None: no limit
    latency_ms: int
    error: InjectedError | None
    fired: int = 0

    def matches(self, op: OperationSpec) -> bool:
        return self.remaining != 0 and self.service in ("*", op.service) and self.operation in ("*", op.name)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match": {"service": self.service, "operation": self.operation},
            "probability": self.probability,
            "remaining": self.remaining,
            "fired": self.fired,
            "error": self.error.describe() if self.error else None,
            "latencyMs": self.latency_ms,
        }


@dataclass(slots=True)
class SocketRule:
    id: str
    contact_id: str
    participant_id: str | None
    remaining: int  # frames still to push to the contact before its sockets drop
    dropped: int = 0

    def describe(self) -> dict[str, Any]:
        match = {"contactId": self.contact_id, "participantId": self.participant_id}
        return {"id": self.id, "ws": "drop", "match": match, "remaining": self.remaining, "dropped": self.dropped}


@dataclass(frozen=True, slots=True)
class Injection:
    delay_seconds: float
    error: ServiceError | None


@dataclass
class Faults:
    """The rules by id, in the order they were added. Exhausted rules stay listed (remaining 0) until
    removed, so a test can check how often each one fired."""

    operations: Operations
    bus: Bus
    rng: random.Random = field(default_factory=random.Random)
    requests: dict[str, RequestRule] = field(default_factory=dict)
    sockets: dict[str, SocketRule] = field(default_factory=dict)
    active: bool = False  # a request rule can still fire: the only check on the hot path
    watching: bool = False  # a socket rule is counting frames
    added: int = 0  # rules added so far: ids are `fault-1`, `fault-2`, …

    # -- the admin API ---------------------------------------------------------------------------
    def add(self, body: Mapping[str, Any]) -> dict[str, Any]:
        rule_id = f"fault-{self.added + 1}"
        if "ws" in body:
            shown = self._add_socket_rule(rule_id, body)
        else:
            rule = request_rule(rule_id, body, self.operations)
            self.requests[rule.id] = rule
            shown = rule.describe()
        self.added += 1
        self._refresh()
        return shown

    def describe(self) -> list[dict[str, Any]]:
        return [r.describe() for r in self.requests.values()] + [r.describe() for r in self.sockets.values()]

    def remove(self, rule_id: str) -> int:
        found = self.requests.pop(rule_id, None) or self.sockets.pop(rule_id, None)
        self._refresh()
        return 0 if found is None else 1

    def clear(self) -> int:
        count = len(self.requests) + len(self.sockets)
        self.requests.clear()
        self.sockets.clear()
        self._refresh()
        return count

    def _refresh(self) -> None:
        self.active = any(r.remaining != 0 for r in self.requests.values())
        self.watching = any(r.remaining for r in self.sockets.values())

    # -- HTTP: before the operation runs -----------------------------------------------------------
    def draw(self, op: OperationSpec) -> Injection | None:
        """The rules that fire for this request: their latencies add up; the first error wins."""
        fired, delay, error = False, 0.0, None
        for rule in self.requests.values():
            if not rule.matches(op) or (error is not None and rule.error is not None):
                continue
            if rule.probability < 1 and self.rng.random() >= rule.probability:
                continue
            fired = True
            rule.fired += 1
            if rule.remaining is not None:
                rule.remaining -= 1
            delay += rule.latency_ms / 1000
            if rule.error is not None:
                error = injected(op.service, rule.error.code, rule.error.message)
        if not fired:
            return None
        self._refresh()
        return Injection(delay, error)

    # -- WebSockets -----------------------------------------------------------------------------
    def _add_socket_rule(self, rule_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        rule = socket_rule(rule_id, body)
        if rule.remaining == 0:
            rule.dropped = self.bus.drop(rule.contact_id, DROP_CODE, rule.participant_id)
            return rule.describe()  # done at once: nothing left to list
        self.sockets[rule.id] = rule
        return rule.describe()

    def frame_published(self, contact_id: str) -> None:
        for rule in self.sockets.values():
            if rule.remaining and rule.contact_id == contact_id:
                rule.remaining -= 1
                if not rule.remaining:
                    rule.dropped = self.bus.drop(contact_id, DROP_CODE, rule.participant_id)
        self._refresh()


class FaultyBus:
    """The bus the Pusher publishes through: each pushed frame counts towards the socket drop rules.
    The drop comes after the frame, since a socket closes only once its queued frames are written."""

    def __init__(self, bus: Bus, faults: Faults) -> None:
        self._bus = bus
        self._faults = faults

    def publish(self, contact_id: str, frame: str) -> None:
        self._bus.publish(contact_id, frame)
        if self._faults.watching:
            self._faults.frame_published(contact_id)

    def end(self, contact_id: str, grace: float) -> None:
        self._bus.end(contact_id, grace)

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        self._bus.leave(contact_id, participant_id, grace)


# -- reading rules -------------------------------------------------------------------------------------
REQUEST_KEYS = ("match", "probability", "times", "error", "latencyMs")
SOCKET_KEYS = ("ws", "match", "afterFrames")


def request_rule(rule_id: str, body: Mapping[str, Any], operations: Operations) -> RequestRule:
    known_keys(body, REQUEST_KEYS, "a request fault rule")
    service, operation, targets = _targets(body.get("match", {}), operations)
    times = whole(body, "times", minimum=1)
    probability = number(body, "probability", default=1.0)
    if not 0 < probability <= 1:
        raise BadInput(f"probability must be more than 0 and at most 1, got {probability}")
    latency = whole(body, "latencyMs", minimum=0, maximum=MAX_LATENCY_MS) or 0
    error = _error(rule_id, body.get("error"), targets)
    if error is None and not latency:
        raise BadInput("a request fault rule needs an error, a latencyMs, or both")
    return RequestRule(rule_id, service, operation, probability, times, latency, error)


def _targets(match: Any, operations: Operations) -> tuple[str, str, list[OperationSpec]]:
    if not isinstance(match, Mapping):
        raise BadInput('match must be an object such as {"service": "connect", "operation": "CreateParticipant"}')
    known_keys(match, ("service", "operation"), "match")
    service = choose(match, "service", ("*", *operations), default="*")
    operation = optional_text(match, "operation") or "*"
    services = list(operations) if service == "*" else [service]
    targets = [op for s in services for name, op in operations[s].items() if operation in ("*", name)]
    if not targets:
        raise BadInput(f"{service} has no operation {operation!r} (names are the model's, e.g. CreateParticipant)")
    return service, operation, targets


def _error(rule_id: str, spec: Any, targets: list[OperationSpec]) -> InjectedError | None:
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise BadInput('error must be an object such as {"code": "ThrottlingException"}')
    known_keys(spec, ("code", "status", "message"), "error")
    code = text(spec, "code")
    refusing = sorted({op.qualified_name for op in targets if not may_answer(op, code)})
    if len(refusing) == len(targets):
        raise BadInput(
            f"{code} is declared by no matching operation in the model and is not one of AWS's common errors"
            f" ({', '.join(COMMON_ERRORS)})"
        )
    if refusing:
        shown = ", ".join(refusing[:3]) + (f" and {len(refusing) - 3} more" if len(refusing) > 3 else "")
        raise BadInput(f"{code} is not an error {shown} can answer (the model declares it for others only)")
    statuses = {op.service: status_of(op.service, code) for op in targets}
    wanted = whole(spec, "status", minimum=400, maximum=599)
    if wanted is not None and any(status != wanted for status in statuses.values()):
        raise BadInput(f"{code} is sent with HTTP {sorted(set(statuses.values()))} by AWS, not {wanted}")
    message = optional_text(spec, "message") or DEFAULT_MESSAGES.get(code, f"Injected by Parley fault rule {rule_id}")
    return InjectedError(code, message, statuses)


def socket_rule(rule_id: str, body: Mapping[str, Any]) -> SocketRule:
    known_keys(body, SOCKET_KEYS, "a WebSocket fault rule")
    if body["ws"] != "drop":
        raise BadInput(f'ws must be "drop" (the only WebSocket fault Parley injects), got {body["ws"]!r}')
    match = body.get("match")
    if not isinstance(match, Mapping):
        raise BadInput('a WebSocket rule needs match: {"contactId": …, "participantId"?: …}')
    known_keys(match, ("contactId", "participantId"), "match")
    contact_id, participant_id = text(match, "contactId"), optional_text(match, "participantId")
    return SocketRule(rule_id, contact_id, participant_id, whole(body, "afterFrames", minimum=0) or 0)
