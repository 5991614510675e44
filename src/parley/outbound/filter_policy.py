"""SNS subscription filter policies on message attributes (MessageAttributes scope), for Parley's own targets:
exact strings, numbers, `anything-but`, `prefix`, `suffix`, `equals-ignore-case`, `exists`, and `$or`.
Keys are ANDed; a key's conditions are ORed. Every attribute Parley sends is a String."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def matches(policy: Mapping[str, Any], attributes: Mapping[str, str]) -> bool:
    for key, conditions in policy.items():
        if key == "$or":
            if not any(matches(branch, attributes) for branch in conditions):
                return False
            continue
        listed = conditions if isinstance(conditions, list) else [conditions]
        if not any(_condition(c, attributes.get(key)) for c in listed):
            return False
    return True


def _condition(condition: Any, value: str | None) -> bool:
    if isinstance(condition, Mapping):
        return _operator(condition, value)
    if value is None:
        return False
    if isinstance(condition, bool) or condition is None:
        return False
    if isinstance(condition, int | float):
        return bool(_number(value) == condition)
    return bool(value == condition)


def _operator(condition: Mapping[str, Any], value: str | None) -> bool:
    if "exists" in condition:
        return (value is not None) == bool(condition["exists"])
    if value is None:
        return False
    if "prefix" in condition:
        return value.startswith(str(condition["prefix"]))
    if "suffix" in condition:
        return value.endswith(str(condition["suffix"]))
    if "equals-ignore-case" in condition:
        return value.lower() == str(condition["equals-ignore-case"]).lower()
    if "anything-but" in condition:
        return not _anything_but_hits(condition["anything-but"], value)
    return False


def _anything_but_hits(excluded: Any, value: str) -> bool:
    if isinstance(excluded, Mapping):
        return _operator(excluded, value)
    listed = excluded if isinstance(excluded, list) else [excluded]
    return any(_condition(c, value) for c in listed)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
