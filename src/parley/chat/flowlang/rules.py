"""flows.md §2 row 7: the per-type parameter rules of the action pages for the types of §4 — required members,
ranges, "must be defined statically", the conditions and error types each type allows."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from parley.chat.flowlang.catalog import EVENT_HOOKS, WAIT_EVENTS, WAIT_MAX_SECONDS
from parley.chat.flowlang.document import Action
from parley.chat.flowlang.paths import is_single_path, is_static

Rule = Callable[[Action], list[str]]
NO_MATCH = "NoMatchingError"
NO_CONDITION = "NoMatchingCondition"


def number(value: Any) -> float | None:
    """A finite number written as a number or, as console exports do, as a string."""
    found: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        found = float(value)
    elif isinstance(value, str):
        try:
            found = float(value.strip())
        except ValueError:
            return None
    return found if found is not None and math.isfinite(found) else None


def _static_number(action: Action, name: str, low: float, high: float, integer: bool = False) -> list[str]:
    value = action.parameters.get(name)
    found = number(value)
    kind = "an integer" if integer else "a number"
    if found is None or not is_static(value) or (integer and not found.is_integer()) or not low <= found <= high:
        return [f"{name} must be {kind} from {low:g} to {high:g}, defined statically"]
    return []


def _static_choice(action: Action, name: str, allowed: tuple[str, ...], required: bool = True) -> list[str]:
    if name not in action.parameters and not required:
        return []
    if action.parameters.get(name) not in allowed:
        return [f"{name} must be one of {', '.join(allowed)}, defined statically"]
    return []


def _static_or_path(action: Action, name: str, required: bool = True) -> list[str]:
    if name not in action.parameters:
        return [f"{name} is required"] if required else []
    value = action.parameters[name]
    if not isinstance(value, str) or not value or not (is_static(value) or is_single_path(value)):
        return [f"{name} must be defined statically or as a single JSONPath"]
    return []


def _string_map(action: Action, name: str, required: bool) -> list[str]:
    value = action.parameters.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, dict) or (required and not value) or not all(isinstance(v, str) for v in value.values()):
        return [f"{name} must be an object of string values" + (" with at least one entry" if required else "")]
    return []


def _errors(action: Action, allowed: set[str]) -> list[str]:
    return [
        f"ErrorType '{e.error_type}' is not an error of {action.type}"
        for e in action.errors
        if e.error_type not in allowed
    ]


def _no_conditions(action: Action) -> list[str]:
    return [f"{action.type} takes no Conditions"] if action.conditions else []


def _simple(allowed: set[str]) -> Rule:
    return lambda action: _no_conditions(action) + _errors(action, allowed)


def _operands(action: Action, operators: set[str], allowed: set[str] | None) -> list[str]:
    found = []
    for condition in action.conditions:
        operand = condition.operands[0] if condition.operands else None
        if condition.operator not in operators:
            found.append(f"{action.type} conditions take only {', '.join(sorted(operators))}")
        elif not isinstance(operand, str):
            found.append("Condition operands must be strings")
        elif allowed is not None and operand not in allowed:
            found.append(f"Condition operand {operand!r} is not one of {', '.join(sorted(allowed))}")
    return found


def _required_operands(action: Action, required: set[str]) -> list[str]:
    present = {c.operands[0] for c in action.conditions if c.operands and isinstance(c.operands[0], str)}
    return [f"A condition Equals {name!r} is required" for name in sorted(required - present)]


def message_participant(action: Action) -> list[str]:
    given = [n for n in ("Text", "PromptId", "SSML", "Media") if n in action.parameters]
    found = [] if len(given) == 1 else ["exactly one of Text, PromptId, SSML or Media is required"]
    return found + _no_conditions(action) + _errors(action, {NO_MATCH})


def get_participant_input(action: Action) -> list[str]:
    found = []
    if "InputTimeLimitSeconds" in action.parameters:
        found += _static_number(action, "InputTimeLimitSeconds", 1, WAIT_MAX_SECONDS)
    found += _static_choice(action, "StoreInput", ("True", "False"), required=False)
    if action.parameters.get("StoreInput") == "True" and action.conditions:
        found.append("Conditions are not allowed when StoreInput is True")
    found += _operands(action, {"Equals"}, None)
    return found + _errors(action, {NO_MATCH, NO_CONDITION, "InputTimeLimitExceeded", "InvalidPhoneNumber"})


def update_contact_attributes(action: Action) -> list[str]:
    return _string_map(action, "Attributes", required=True) + _simple({NO_MATCH})(action)


def update_contact_target_queue(action: Action) -> list[str]:
    given = [n for n in ("QueueId", "AgentId") if n in action.parameters]
    if len(given) != 1:
        return ["exactly one of QueueId or AgentId is required"]
    return _static_or_path(action, given[0]) + _simple({NO_MATCH})(action)


def invoke_lambda_function(action: Action) -> list[str]:
    arn = action.parameters.get("LambdaFunctionARN")
    found = [] if isinstance(arn, str) and arn else ["LambdaFunctionARN is required"]
    if "InvocationTimeLimitSeconds" in action.parameters:
        found += _static_number(action, "InvocationTimeLimitSeconds", 1, 8, integer=True)
    found += _static_choice(action, "InvocationType", ("SYNCHRONOUS", "ASYNCHRONOUS"), required=False)
    validation = action.parameters.get("ResponseValidation")
    if validation is not None and (
        not isinstance(validation, dict) or validation.get("ResponseType") not in ("STRING_MAP", "JSON")
    ):
        found.append("ResponseValidation.ResponseType must be STRING_MAP or JSON, defined statically")
    found += _string_map(action, "LambdaInvocationAttributes", required=False)
    return found + _simple({NO_MATCH})(action)


def compare(action: Action) -> list[str]:
    found = []
    if not is_single_path(action.parameters.get("ComparisonValue")):
        found.append("ComparisonValue must be a single JSONPath")
    return found + _errors(action, {NO_CONDITION, NO_MATCH})


def wait(action: Action) -> list[str]:
    found = []
    timeout = action.parameters.get("TimeoutSeconds")
    if not is_single_path(timeout):
        found += _static_number(action, "TimeoutSeconds", 1, WAIT_MAX_SECONDS)
    events = action.parameters.get("Events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) and e in WAIT_EVENTS for e in events):
        found.append(f"Events must be a static list of {', '.join(sorted(WAIT_EVENTS))}")
        events = []
    allowed = {"WaitCompleted", *events}
    found += _operands(action, {"Equals"}, allowed) + _required_operands(action, allowed)
    return found + _errors(action, {"ParticipantNotFound", NO_MATCH, NO_CONDITION})


def update_contact_event_hooks(action: Action) -> list[str]:
    hooks = action.parameters.get("EventHooks")
    if not isinstance(hooks, dict) or len(hooks) != 1:
        return ["EventHooks must hold exactly one entry"]
    key, value = next(iter(hooks.items()))
    found = [] if key in EVENT_HOOKS else [f"EventHooks key {key!r} is not one of {', '.join(sorted(EVENT_HOOKS))}"]
    if not isinstance(value, str) or not value or not (is_static(value) or is_single_path(value)):
        found.append(f"EventHooks.{key} must be a flow id or ARN, defined statically or as a single JSONPath")
    return found + _simple({NO_MATCH})(action)


def transfer_to_flow(action: Action) -> list[str]:
    return _static_or_path(action, "ContactFlowId") + _simple({NO_MATCH})(action)


def distribute_by_percentage(action: Action) -> list[str]:
    found = _operands(action, {"NumberLessThan"}, None)
    found += [
        f"Operand {c.operands[0]!r} must be a number"
        for c in action.conditions
        if c.operands and number(c.operands[0]) is None
    ]
    return found + _errors(action, {NO_CONDITION, NO_MATCH})


def check_hours_of_operation(action: Action) -> list[str]:
    found = _static_or_path(action, "HoursOfOperationId", required=False)
    found += _operands(action, {"Equals"}, {"True", "False"})
    return found + _errors(action, {NO_MATCH, NO_CONDITION})


def loop(action: Action) -> list[str]:
    found = _static_number(action, "LoopCount", 0, 100, integer=True)
    allowed = {"ContinueLooping", "DoneLooping"}
    return found + _operands(action, {"Equals"}, allowed) + _required_operands(action, allowed)


def update_flow_logging_behavior(action: Action) -> list[str]:
    return _static_choice(action, "FlowLoggingBehavior", ("Enabled", "Disabled")) + _no_conditions(action)


def update_contact_routing_behavior(action: Action) -> list[str]:
    params = action.parameters
    if "QueuePriority" in params and "QueueTimeAdjustmentSeconds" in params:
        return ["QueuePriority and QueueTimeAdjustmentSeconds cannot both be given"]
    if "QueuePriority" in params:
        return _static_number(action, "QueuePriority", 1, 2**31 - 1, integer=True)
    if "QueueTimeAdjustmentSeconds" in params:
        return _static_number(action, "QueueTimeAdjustmentSeconds", -(2**31), 2**31 - 1, integer=True)
    return []


def update_contact_recording_behavior(action: Action) -> list[str]:
    behavior = action.parameters.get("RecordingBehavior", {})
    recorded = behavior.get("RecordedParticipants", []) if isinstance(behavior, dict) else None
    if not isinstance(recorded, list) or not all(p in ("Agent", "Customer") for p in recorded):
        return ["RecordingBehavior.RecordedParticipants must be a static list of Agent and Customer"]
    return []


RULES: dict[str, Rule] = {
    "MessageParticipant": message_participant,
    "GetParticipantInput": get_participant_input,
    "UpdateContactAttributes": update_contact_attributes,
    "UpdateContactTargetQueue": update_contact_target_queue,
    "TransferContactToQueue": _simple({"QueueAtCapacity", NO_MATCH}),
    "InvokeLambdaFunction": invoke_lambda_function,
    "Compare": compare,
    "Wait": wait,
    "UpdateContactEventHooks": update_contact_event_hooks,
    "TransferToFlow": transfer_to_flow,
    "DistributeByPercentage": distribute_by_percentage,
    "CheckHoursOfOperation": check_hours_of_operation,
    "Loop": loop,
    "UpdateFlowLoggingBehavior": update_flow_logging_behavior,
    "UpdateContactRoutingBehavior": update_contact_routing_behavior,
    "UpdateContactRecordingBehavior": update_contact_recording_behavior,
    "UpdateContactData": _simple({NO_MATCH}),
}


def check(action: Action) -> list[str]:
    rule = RULES.get(action.type)
    return [] if rule is None else rule(action)
