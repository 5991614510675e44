"""The flow interpreter (flows.md §3-§4): `start` a run, `advance` it until an action waits or the run ends.

Pure: time comes in as `now`, facts from a `World`, and what must happen comes back as effects in order, with one
trail entry per action and the branch it took. The caller's RunState and ContactData are not modified."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from parley.chat.flowlang.actions import HANDLERS, RESUMERS
from parley.chat.flowlang.catalog import NUMBER_OPERATORS, ROUTING_FLOW_TYPES
from parley.chat.flowlang.document import Action, Condition, DocumentError, FlowDocument, parse
from parley.chat.flowlang.effects import (
    CustomerInput,
    Effect,
    EndContact,
    Enqueue,
    InvokeLambda,
    LambdaAnswer,
    Resume,
    SendMessage,
    SetAttributes,
    SetEventHook,
    SetTargetQueue,
    TrailStep,
    UpdateContactData,
    WaitEvent,
)
from parley.chat.flowlang.outcome import END, ERROR, JUMP, WAIT, Outcome, Run, failed, finish, proceed
from parley.chat.flowlang.rules import number
from parley.chat.flowlang.state import (
    ENDED,
    RUNNING,
    WAITING,
    ContactData,
    FlowOptions,
    FlowRef,
    QueueRef,
    RunState,
    World,
)

__all__ = [
    "Advance",
    "ContactData",
    "CustomerInput",
    "DocumentError",
    "Effect",
    "EndContact",
    "Enqueue",
    "FlowOptions",
    "FlowRef",
    "InvokeLambda",
    "LambdaAnswer",
    "QueueRef",
    "Resume",
    "RunState",
    "SendMessage",
    "SetAttributes",
    "SetEventHook",
    "SetTargetQueue",
    "TrailStep",
    "UpdateContactData",
    "WaitEvent",
    "World",
    "advance",
    "start",
]


@dataclass(slots=True)
class Advance:
    state: RunState
    effects: list[Effect] = field(default_factory=list)
    trail: list[TrailStep] = field(default_factory=list)


@lru_cache(maxsize=256)
def document(content: str) -> FlowDocument:
    """Parsed once per content; callers must not modify the result."""
    return parse(content)


def start(flow: FlowRef, data: ContactData) -> RunState:
    """A new run at the flow's StartAction; DocumentError when the content is not runnable (§3.1)."""
    parsed = document(flow.content)
    return RunState(
        flow_id=flow.id,
        flow_name=flow.name,
        flow_type=flow.type,
        content=flow.content,
        action=parsed.start,
        external=dict(data.external),
        stored_input=data.stored_input,
    )


def advance(
    state: RunState,
    data: ContactData,
    world: World,
    options: FlowOptions,
    now: datetime,
    resume: Resume | None = None,
) -> Advance:
    """Runs actions until one waits, the run ends, or options.max_steps actions ran without waiting.

    A waiting run moves only with the resumption it waits for (LambdaAnswer, WaitEvent, CustomerInput);
    anything else leaves it as it is."""
    run = Run(_copy(state), _contact(data, state), world, options, now)
    if run.state.status == ENDED or (run.state.status == WAITING and not _resume(run, resume)):
        return Advance(state)
    while run.state.status == RUNNING:
        if run.state.steps >= options.max_steps:
            _end(run, "max-steps")
            break
        action = _current(run)
        if action is None:
            break
        run.state.steps += 1
        flow = run.state.flow_name
        _settle(run, action, _execute(run, action), flow)
    return Advance(run.state, run.effects, run.trail)


def _copy(state: RunState) -> RunState:
    return RunState.from_json(state.to_json())


def _contact(data: ContactData, state: RunState) -> ContactData:
    own = data.copy()
    own.external, own.stored_input = dict(state.external), state.stored_input
    return own


def _current(run: Run) -> Action | None:
    try:
        action = document(run.state.content).actions.get(run.state.action or "")
    except DocumentError:
        action = None
    if action is None:
        _end(run, "error")
    return action


def _resume(run: Run, resume: Resume | None) -> bool:
    """Settles the waiting action with `resume`; False when it is not what the action waits for."""
    resumer = RESUMERS.get(run.state.waiting or "")
    action = _current(run) if resumer is not None and resume is not None else None
    outcome = resumer(run, action, resume) if resumer and action and resume is not None else None
    if action is None or outcome is None:
        return False
    run.state.status, run.state.waiting, run.state.deadline, run.state.events = RUNNING, None, None, []
    _settle(run, action, outcome, run.state.flow_name)
    return True


def _execute(run: Run, action: Action) -> Outcome:
    handler = HANDLERS.get(action.type)
    if handler is not None:
        return handler(run, action)
    detail = f"unsupported action type {action.type} (PARLEY_UNSUPPORTED_ACTION={run.options.unsupported})"
    if run.options.unsupported == "skip":
        return proceed(detail)
    if run.options.unsupported == "end":
        return finish("unsupported", detail)
    return failed(detail)


def _settle(run: Run, action: Action, outcome: Outcome, flow: str) -> None:
    """Applies an action's outcome to the run and writes its trail entry (`flow`: the name it ran in)."""
    branch: str | None = None
    if outcome.kind == WAIT:
        run.state.status, run.state.steps = WAITING, 0
    elif outcome.kind == END:
        branch = outcome.value
        _end(run, outcome.value or "end", outcome.end_contact)
    elif outcome.kind == JUMP:
        branch = "TransferToFlow"
    else:
        target, branch = transition(action, outcome)
        if target is None:
            _end(run, "error" if outcome.kind == ERROR else "end")
        else:
            run.state.action = target
    unsupported = action.type not in HANDLERS
    run.trail.append(TrailStep(flow, action.identifier, action.type, branch, outcome.detail, unsupported))


def transition(action: Action, outcome: Outcome) -> tuple[str | None, str]:
    """(the next Identifier or None to end, the branch taken) per flows.md §3.2."""
    if outcome.kind == ERROR:
        route = action.error_route(outcome.value or "") or action.error_route("NoMatchingError")
        return (route.next_action, route.error_type) if route else (None, outcome.value or "NoMatchingError")
    if outcome.conditional:
        for condition in action.conditions:
            if holds(condition, outcome.value or ""):
                return condition.next_action, f"{condition.operator} {condition.operands[0]}"
        route = action.error_route("NoMatchingCondition")
        if route is not None:
            return route.next_action, "NoMatchingCondition"
    return action.next_action, "NextAction"


def holds(condition: Condition, value: str) -> bool:
    """flows.md §3.3; a number operator with a non-numeric side is false."""
    if len(condition.operands) != 1 or not isinstance(condition.operands[0], str):
        return False
    operand = condition.operands[0]
    if condition.operator in NUMBER_OPERATORS:
        left, right = number(value), number(operand)
        if left is None or right is None:
            return False
        return {
            "NumberGreaterThan": left > right,
            "NumberGreaterOrEqualTo": left >= right,
            "NumberLessThan": left < right,
            "NumberLessOrEqualTo": left <= right,
        }[condition.operator]
    return {
        "Equals": value == operand,
        "TextStartsWith": value.startswith(operand),
        "TextEndsWith": value.endswith(operand),
        "TextContains": operand in value,
    }.get(condition.operator, False)


def _end(run: Run, why: str, end_contact: bool | None = None) -> None:
    """Ends the run. An inbound or transfer flow that ends before the contact is queued ends the contact (§3.1)."""
    state = run.state
    state.status, state.action, state.waiting, state.deadline, state.events = ENDED, None, None, None, []
    state.outcome = why
    if end_contact is None:
        queued = run.world.queued() or any(isinstance(e, Enqueue) for e in run.effects)
        end_contact = state.flow_type in ROUTING_FLOW_TYPES and not queued
    if end_contact:
        run.effects.append(EndContact())
