"""What a committed unit of work leaves for the event loop, and the one place that carries it out.

A unit of work returns its answer and its `Effects` together (`Committed`); `UnitRunner.commit` hands the
effects to `Aftermath` once the transaction has committed: items go to the sockets, deadlines are (re)armed,
and contacts whose flow run may have something new to do are handed to the flow runner (which also sees
every pushed item, through the Pusher's observers). Nothing here runs
inside a transaction, and nothing inside a transaction calls back out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from parley.chat.model import Item, Scope


class Pushes(Protocol):
    def push(self, items: list[Item]) -> None: ...


class Timers(Protocol):
    def arm(self, scope: Scope, contact_id: str, when: datetime | None) -> None: ...


class FlowKicks(Protocol):
    """The flow runner: told, after commit, which contacts may have something new for their flow."""

    def kick(self, scope: Scope, contact_id: str, reason: str) -> None: ...


@dataclass(slots=True)
class Effects:
    items: list[Item] = field(default_factory=list)
    deadlines: list[tuple[Scope, str, datetime | None]] = field(default_factory=list)
    kicks: list[tuple[Scope, str, str]] = field(default_factory=list)  # (scope, contact, reason)

    def deadline(self, scope: Scope, contact_id: str, when: datetime | None) -> Effects:
        self.deadlines.append((scope, contact_id, when))
        return self

    def kick(self, scope: Scope, contact_id: str, reason: str) -> Effects:
        self.kicks.append((scope, contact_id, reason))
        return self


@dataclass(frozen=True, slots=True)
class Committed:
    """A unit of work's answer (keyed by the output shape's members) and what must follow its commit."""

    output: dict[str, Any]
    effects: Effects = field(default_factory=Effects)


class Aftermath:
    """Carries out effects after commit, in a fixed order: push, arm, then wake the flow runner."""

    def __init__(self, pusher: Pushes, timers: Timers) -> None:
        self._pusher = pusher
        self._timers = timers
        self._flows: FlowKicks | None = None

    def bind_flows(self, flows: FlowKicks) -> None:
        self._flows = flows

    def apply(self, effects: Effects) -> None:
        if effects.items:
            self._pusher.push(effects.items)
        for scope, contact_id, when in effects.deadlines:
            self._timers.arm(scope, contact_id, when)
        if self._flows is None:
            return
        for scope, contact_id, reason in effects.kicks:
            self._flows.kick(scope, contact_id, reason)
