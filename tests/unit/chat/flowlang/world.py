"""A fake World for interpreter tests: plain facts set by each test, and flow-building helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parley.chat.flowlang import effects as fx
from parley.chat.flowlang.effects import Effect, Resume
from parley.chat.flowlang.interpreter import Advance, advance, start
from parley.chat.flowlang.state import ContactData, FlowOptions, FlowRef, QueueRef, RunState

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/inst-1"
BASIC = QueueRef("q-basic", "BasicQueue", INSTANCE + "/queue/q-basic")


@dataclass
class FakeWorld:
    queues: dict[str, QueueRef] = field(default_factory=lambda: {BASIC.id: BASIC, BASIC.arn: BASIC})
    flows: dict[str, FlowRef] = field(default_factory=dict)
    hours: set[str] = field(default_factory=lambda: {"hours-basic"})
    full: set[str] = field(default_factory=set)
    bot: bool = False
    in_queue: bool = False
    draws: list[int] = field(default_factory=lambda: [42])

    def queue(self, ref: str) -> QueueRef | None:
        return self.queues.get(ref)

    def queue_at_capacity(self, queue_id: str) -> bool:
        return queue_id in self.full

    def flow(self, ref: str) -> FlowRef | None:
        return self.flows.get(ref)

    def hours_exist(self, ref: str) -> bool:
        return ref in self.hours

    def bot_present(self) -> bool:
        return self.bot

    def queued(self) -> bool:
        return self.in_queue

    def percent(self) -> int:
        return self.draws.pop(0)


def act(identifier: str, type_: str, parameters: dict[str, Any] | None = None, **transitions: Any) -> dict[str, Any]:
    return {"Identifier": identifier, "Type": type_, "Parameters": parameters or {}, "Transitions": transitions}


def when(operand: str, target: str, operator: str = "Equals") -> dict[str, Any]:
    return {"NextAction": target, "Condition": {"Operator": operator, "Operands": [operand]}}


def on(error: str, target: str) -> dict[str, Any]:
    return {"NextAction": target, "ErrorType": error}


def say(identifier: str, text: str, then: str | None = None) -> dict[str, Any]:
    return act(identifier, "MessageParticipant", {"Text": text}, **({"NextAction": then} if then else {}))


def flow(*actions: dict[str, Any], name: str = "Test flow", type_: str = "CONTACT_FLOW", id_: str = "f-1") -> FlowRef:
    content = json.dumps({"Version": "2019-10-30", "StartAction": actions[0]["Identifier"], "Actions": list(actions)})
    return FlowRef(id_, name, type_, f"{INSTANCE}/contact-flow/{id_}", content)


def contact(**changes: Any) -> ContactData:
    data = ContactData(contact_id="c-1", instance_arn=INSTANCE, attributes={"customerName": "Ann"})
    for key, value in changes.items():
        setattr(data, key, value)
    return data


@dataclass
class Driver:
    """Runs a flow the way the runner would: keeps the state and the contact data between advances."""

    ref: FlowRef
    world: FakeWorld = field(default_factory=FakeWorld)
    options: FlowOptions = field(default_factory=FlowOptions)
    data: ContactData = field(default_factory=contact)
    state: RunState | None = None
    last: Advance | None = None

    def run(self, resume: Resume | None = None, now: datetime = NOW) -> Advance:
        if self.state is None:
            self.state = start(self.ref, self.data)
        self.last = advance(self.state, self.data, self.world, self.options, now, resume)
        self.state = self.last.state
        for effect in self.last.effects:
            self._apply(effect)
        self.data.external, self.data.stored_input = dict(self.state.external), self.state.stored_input
        return self.last

    def _apply(self, effect: Effect) -> None:
        """What the runner stores for each effect, so the next advance sees it."""
        if isinstance(effect, fx.SetAttributes):
            self.data.attributes.update(effect.attributes)
        elif isinstance(effect, fx.SetTargetQueue):
            self.data.queue = effect.queue
        elif isinstance(effect, fx.Enqueue):
            self.world.in_queue = True

    def branches(self) -> list[tuple[str, str | None]]:
        assert self.last is not None
        return [(step.action, step.branch) for step in self.last.trail]

    def messages(self) -> list[str]:
        assert self.last is not None
        return [e.text for e in self.last.effects if isinstance(e, fx.SendMessage)]

    def effects(self, kind: type[Any]) -> list[Any]:
        assert self.last is not None
        return [e for e in self.last.effects if isinstance(e, kind)]
