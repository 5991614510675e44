"""CreateContactFlow / UpdateContactFlowContent validation (flows.md §2): every problem found, up to 50.

Modes (PARLEY_FLOW_VALIDATION): `aws` checks rows 1-8, `structure` rows 1-6, `json` only that the content is a
JSON object (v1)."""

from __future__ import annotations

from typing import Any

from parley.chat.flowlang import rules
from parley.chat.flowlang.catalog import (
    ACTION_TYPES,
    FORBIDDEN_IDENTIFIER_CHARS,
    MAX_ACTIONS,
    MAX_CONDITION_DEPTH,
    MAX_SUB_CONDITIONS,
    OPERATORS,
    RESERVED_IDENTIFIERS,
    TERMINAL,
    VERSION,
)
from parley.chat.flowlang.document import Action, DocumentError, load_json, parse_action
from parley.chat.flowlang.paths import known, tokens

MODES = ("aws", "structure", "json")
MAX_PROBLEMS = 50
MAX_MESSAGE = 256


class Problems:
    """At most 50 messages of 1-256 characters ([M-C] Problems, ProblemMessageString)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str, action: str | None = None) -> None:
        if action is not None:
            message = f"Action '{action}': {message}"
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "...")


def problems(content: str, mode: str) -> list[str]:
    found = Problems()
    try:
        document = load_json(content)
    except DocumentError as exc:
        found.add(str(exc))
        return found.items
    if not isinstance(document, dict):
        found.add("Content must be a JSON object")
        return found.items
    if mode != "json":
        try:
            _check_document(document, mode, found)
        except RecursionError:
            found.add("Content nests too deeply")
    return found.items


def _check_document(document: dict[str, Any], mode: str, found: Problems) -> None:
    if document.get("Version") != VERSION:
        found.add(f"Version must be {VERSION!r}, the only supported version; got {document.get('Version')!r}")
    raw_actions = document.get("Actions")
    if not isinstance(raw_actions, list) or not 1 <= len(raw_actions) <= MAX_ACTIONS:
        found.add(f"Actions must be a list of 1 to {MAX_ACTIONS} actions")
        raw_actions = raw_actions[:MAX_ACTIONS] if isinstance(raw_actions, list) else []
    actions = [_shape(raw, index, found) for index, raw in enumerate(raw_actions)]
    parsed = [a for a in actions if a is not None]
    identifiers = _identifiers(parsed, found)
    start = document.get("StartAction")
    if not isinstance(start, str) or start not in identifiers:
        found.add(f"StartAction {start!r} does not match the Identifier of any action")
    for action in parsed:
        _check_action(action, identifiers, found)
        if mode == "aws":
            for message in rules.check(action):
                found.add(message, action.identifier)
            _check_paths(action, found)


def _shape(raw: Any, index: int, found: Problems) -> Action | None:
    """Row 1 for one action: an object with Identifier and Type strings and well-formed members."""
    if not isinstance(raw, dict):
        found.add(f"Actions[{index}] must be an object")
        return None
    if not isinstance(raw.get("Identifier"), str) or not isinstance(raw.get("Type"), str):
        found.add(f"Actions[{index}] must have an Identifier and a Type, both strings")
        return None
    name = raw["Identifier"]
    for member in ("Parameters", "Transitions"):
        if member in raw and not isinstance(raw[member], dict):
            found.add(f"{member} must be an object", name)
    transitions: dict[str, Any] = raw["Transitions"] if isinstance(raw.get("Transitions"), dict) else {}
    for member, inner in (("Conditions", "Condition"), ("Errors", "ErrorType")):
        entries = transitions.get(member, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) and inner in e for e in entries):
            found.add(f"Transitions.{member} must be a list of objects with {inner}", name)
    return parse_action(raw)


def _identifiers(actions: list[Action], found: Problems) -> set[str]:
    """Row 3."""
    seen: set[str] = set()
    for action in actions:
        name = action.identifier
        if name in seen:
            found.add("Identifier is not unique", name)
        seen.add(name)
        if not 1 <= len(name) <= 50:
            found.add("Identifier must be 1 to 50 characters long", name[:50])
        bad = sorted(set(name) & FORBIDDEN_IDENTIFIER_CHARS)
        if bad:
            found.add(f"Identifier must not contain {' '.join(bad)}", name)
        if name in RESERVED_IDENTIFIERS:
            found.add("Identifier is a reserved name", name)
    return seen


def _check_action(action: Action, identifiers: set[str], found: Problems) -> None:
    """Rows 4-6."""
    name = action.identifier
    if action.type not in ACTION_TYPES:
        found.add(f"Type '{action.type}' is not a Flow language action type", name)
    if action.type in TERMINAL and action.transitions:
        found.add(f"{action.type} ends the flow: its Transitions must be empty", name)
    targets = [action.next_action, *(c.next_action for c in action.conditions), *(e.next_action for e in action.errors)]
    for target in targets:
        if target is not None and target not in identifiers:
            found.add(f"NextAction '{target}' does not match the Identifier of any action", name)
    for condition in action.conditions:
        if condition.operator not in OPERATORS:
            found.add(f"Operator '{condition.operator}' is not one of {', '.join(sorted(OPERATORS))}", name)
        if len(condition.operands) != 1:
            found.add(f"Operator '{condition.operator}' takes exactly one operand", name)
    depth, count = _condition_size(action.transitions.get("Conditions"))
    if depth > MAX_CONDITION_DEPTH:
        found.add(f"Conditions nest {depth} deep; at most {MAX_CONDITION_DEPTH} levels are allowed", name)
    if count > MAX_SUB_CONDITIONS:
        found.add(f"Conditions hold {count} sub-conditions; at most {MAX_SUB_CONDITIONS} are allowed", name)


def _condition_size(value: Any, depth: int = 0) -> tuple[int, int]:
    """(deepest nesting, number of conditions) of a Conditions list, counting conditions nested in operands."""
    deepest, count = depth, 0
    for entry in value if isinstance(value, list) else []:
        condition = entry.get("Condition", entry) if isinstance(entry, dict) else None
        if not isinstance(condition, dict):
            continue
        operands = condition.get("Operands")
        nested = [o for o in operands if isinstance(o, dict)] if isinstance(operands, list) else []
        inner_depth, inner_count = _condition_size(nested, depth + 1)
        deepest, count = max(deepest, inner_depth, depth + 1), count + 1 + inner_count
    return deepest, count


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings(key) + _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _check_paths(action: Action, found: Problems) -> None:
    """Row 8: every JSONPath in a parameter names a path of §3.4."""
    for text in _strings(action.parameters):
        for token in tokens(text):
            if not known(token):
                found.add(f"JSONPath '{token}' is not a valid path (for example $.Attributes.name)", action.identifier)
