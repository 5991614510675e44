"""What one action did, for the interpreter to turn into a transition (flows.md §3.2) — and the mutable
context of one `advance` call that the action handlers read and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parley.chat.flowlang.effects import Effect, TrailStep
from parley.chat.flowlang.state import ContactData, FlowOptions, RunState, World

NEXT, ERROR, WAIT, END, JUMP = "next", "error", "wait", "end", "jump"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # next | error | wait | end | jump
    value: str | None = None  # the result conditions test, the error type, or why the run ended
    detail: str = ""
    conditional: bool = False  # whether the action's Conditions are evaluated against `value`
    end_contact: bool | None = None  # for END: None = decided by the flow type (§3.1)


def proceed(detail: str = "") -> Outcome:
    """Success without a result: NextAction."""
    return Outcome(NEXT, detail=detail)


def result(value: str, detail: str = "") -> Outcome:
    """Success with a result the Conditions are tested against."""
    return Outcome(NEXT, value, detail or f"result {value!r}", conditional=True)


def failed(detail: str, error_type: str = "NoMatchingError") -> Outcome:
    return Outcome(ERROR, error_type, detail)


def park(detail: str) -> Outcome:
    return Outcome(WAIT, detail=detail)


def finish(why: str, detail: str = "", end_contact: bool | None = None) -> Outcome:
    return Outcome(END, why, detail, end_contact=end_contact)


def jumped(detail: str) -> Outcome:
    return Outcome(JUMP, detail=detail)


@dataclass(slots=True)
class Run:
    state: RunState
    data: ContactData
    world: World
    options: FlowOptions
    now: datetime
    effects: list[Effect] = field(default_factory=list)
    trail: list[TrailStep] = field(default_factory=list)
