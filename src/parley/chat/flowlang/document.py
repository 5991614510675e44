"""Flow documents: JSON text to a normalized `FlowDocument` (flows.md §2).

Console exports are accepted as they are: numbers written as strings, Wait's `TimeLimitSeconds` for
`TimeoutSeconds`, and missing `Parameters`, `Transitions`, `Errors` or `Conditions` read as empty."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from parley.chat.flowlang.catalog import VERSION


class DocumentError(ValueError):
    """Content that is not a runnable flow document (fails flows.md §2 rows 1-2)."""


@dataclass(frozen=True, slots=True)
class Condition:
    next_action: str | None
    operator: str
    operands: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ErrorRoute:
    next_action: str | None
    error_type: str


@dataclass(frozen=True, slots=True)
class Action:
    identifier: str
    type: str
    parameters: dict[str, Any] = field(default_factory=dict)
    next_action: str | None = None
    conditions: tuple[Condition, ...] = ()
    errors: tuple[ErrorRoute, ...] = ()
    transitions: dict[str, Any] = field(default_factory=dict)  # as written, for the terminal-action rule

    def error_route(self, error_type: str) -> ErrorRoute | None:
        return next((e for e in self.errors if e.error_type == error_type), None)


@dataclass(frozen=True, slots=True)
class FlowDocument:
    start: str
    actions: dict[str, Action]
    metadata: dict[str, Any] = field(default_factory=dict)


def load_json(content: str) -> Any:
    """The content's JSON value; DocumentError when it is not JSON."""
    try:
        return json.loads(content)
    except ValueError as exc:
        raise DocumentError(f"Content is not valid JSON: {exc}") from None
    except RecursionError:
        raise DocumentError("Content nests too deeply") from None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _target(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def operand_text(value: Any) -> Any:
    """Operands are strings; a hand-written number or boolean is read as its text (`50` -> `"50"`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def normalize_parameters(action_type: str, parameters: Any) -> dict[str, Any]:
    params = dict(_object(parameters))
    if action_type == "Wait" and "TimeoutSeconds" not in params and "TimeLimitSeconds" in params:
        params["TimeoutSeconds"] = params.pop("TimeLimitSeconds")
    return params


def parse_condition(raw: Any) -> Condition:
    entry = _object(raw)
    condition = _object(entry.get("Condition"))
    operands = tuple(operand_text(o) for o in _list(condition.get("Operands")))
    return Condition(_target(entry.get("NextAction")), str(condition.get("Operator", "")), operands)


def parse_error(raw: Any) -> ErrorRoute:
    entry = _object(raw)
    return ErrorRoute(_target(entry.get("NextAction")), str(entry.get("ErrorType", "")))


def parse_action(raw: dict[str, Any]) -> Action:
    action_type = str(raw.get("Type", ""))
    transitions = _object(raw.get("Transitions"))
    return Action(
        identifier=str(raw.get("Identifier", "")),
        type=action_type,
        parameters=normalize_parameters(action_type, raw.get("Parameters")),
        next_action=_target(transitions.get("NextAction")),
        conditions=tuple(parse_condition(c) for c in _list(transitions.get("Conditions"))),
        errors=tuple(parse_error(e) for e in _list(transitions.get("Errors"))),
        transitions=transitions,
    )


def structure_problem(document: Any) -> str | None:
    """The first reason a JSON value is not a runnable document (rows 1-2), or None."""
    if not isinstance(document, dict):
        return "Content must be a JSON object"
    if document.get("Version") != VERSION:
        return f"Version must be {VERSION!r}"
    actions = document.get("Actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        return "Actions must be a list of 1 to 250 action objects"
    identifiers = {a["Identifier"] for a in actions if isinstance(a.get("Identifier"), str)}
    start = document.get("StartAction")
    if not isinstance(start, str) or start not in identifiers:
        return "StartAction must match the Identifier of an action"
    return None


def parse(content: str) -> FlowDocument:
    """A normalized document; DocumentError when the content fails flows.md §2 rows 1-2."""
    document = load_json(content)
    problem = structure_problem(document)
    if problem is not None:
        raise DocumentError(problem)
    actions: dict[str, Action] = {}
    for raw in document["Actions"]:
        action = parse_action(raw)
        actions.setdefault(action.identifier, action)
    return FlowDocument(str(document["StartAction"]), actions, _object(document.get("Metadata")))
