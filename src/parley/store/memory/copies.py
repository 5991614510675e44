"""Private copies of domain records, so that what the store keeps and what a caller holds never alias.

The domain changes what it reads and then puts it back (chat/ mutates contacts, flow records, items), and a
unit that raises half-way must leave nothing behind; so the store copies a record when it keeps it and again
when it hands it out. A record's fields are immutable values (str, int, float, bool, datetime, None, tuples of
those) or JSON-like containers (dicts and lists); only the containers are copied, recursively.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
CONTAINER_HINTS = ("dict", "list", "Any")  # a field whose annotation names one of these may hold a container


def deep(value: Any) -> Any:
    """A copy of a JSON-like value: dicts and lists are rebuilt, everything else is immutable and shared."""
    kind = type(value)
    if kind is dict:
        return {key: deep(inner) for key, inner in value.items()} if value else {}
    if kind is list:
        return [deep(inner) for inner in value] if value else []
    return value


def _cloner(cls: type[T]) -> Callable[[T], T]:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    values = operator.attrgetter(*(f.name for f in fields))
    containers = tuple(i for i, f in enumerate(fields) if any(h in str(f.type) for h in CONTAINER_HINTS))

    def clone(record: T) -> T:
        row = list(values(record))
        for index in containers:
            inner = row[index]
            if inner:  # an empty or absent container needs no copy beyond what __init__ gets
                row[index] = deep(inner)
            elif type(inner) is dict:
                row[index] = {}
            elif type(inner) is list:
                row[index] = []
        return cls(*row)

    return clone


_cloners: dict[type[Any], Callable[[Any], Any]] = {}


def copy(record: T) -> T:
    """A copy of a domain record sharing no mutable part with it."""
    clone = _cloners.get(type(record))
    if clone is None:
        clone = _cloners[type(record)] = _cloner(type(record))
    result: T = clone(record)
    return result
