"""Reading the admin API's input (a JSON object, or query parameters as strings) with messages that say
exactly what is wrong. Every refusal is a `BadInput`, which the admin transport answers with 400."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class BadInput(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Fields = Mapping[str, Any]


def known_keys(fields: Fields, allowed: Iterable[str], what: str) -> None:
    names = tuple(allowed)
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise BadInput(f"{what} has no field {unknown[0]!r}; its fields are: {', '.join(names) or 'none'}")


def text(fields: Fields, key: str) -> str:
    value = optional_text(fields, key)
    if value is None:
        raise BadInput(f"{key} is required")
    return value


def optional_text(fields: Fields, key: str) -> str | None:
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadInput(f"{key} must be a non-empty string, got {value!r}")
    return value


def choose(fields: Fields, key: str, allowed: Iterable[str], default: str | None = None) -> str:
    names = tuple(allowed)
    value = optional_text(fields, key) or default
    if value is None:
        raise BadInput(f"{key} is required: one of {', '.join(names)}")
    if value not in names:
        raise BadInput(f"{key} must be one of {', '.join(names)}, got {value!r}")
    return value


def whole(fields: Fields, key: str, minimum: int, maximum: int | None = None) -> int | None:
    """An optional whole number (a JSON integer, or digits in a query string) within bounds."""
    value = fields.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{key} must be a whole number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise BadInput(f"{key} must be {bound}, got {value}")
    return value


def number(fields: Fields, key: str, default: float) -> float:
    value = fields.get(key, default)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise BadInput(f"{key} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise BadInput(f"{key} must be a number, got {value!r}")
    return float(value)
