"""Records as the in-memory store keeps them: frozen rows, never shared with a caller.

The domain changes what it reads and then puts it back (chat/ mutates contacts, flow records, items), and a
unit that raises half-way must leave nothing behind; so the store keeps its own copy of a record and hands out
a new one on every read. It keeps that copy as a plain tuple of the record's field values with its lists and
dicts frozen into tuples too (a list comes back as a list, as JSON arrays come back from SQLite). CPython's
garbage collector stops tracking a tuple that holds only such values, so the chats the store holds add
nothing to its full collections, which walk every tracked object (a dataclass with its lists and dicts would
add three or more objects a record, and any dict keeps the tuple holding it tracked).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Row = tuple[Any, ...]  # a record's field values, in the dataclass's order, containers frozen
CONTAINER_HINTS = ("dict", "list", "Any")  # a field whose annotation names one of these may hold a container


# A frozen dict is a tuple opening with this very object, then its (key, value) pairs. Compared by identity:
# no string a caller gives can be this object, so no frozen list is ever mistaken for a dict.
DICT = "\x00parley-frozen-dict"
# An empty dict is this string itself, compared by identity too. Not a shared tuple `(DICT,)`: `parley serve`
# freezes what start-up made (gc.freeze), and a tuple frozen while still tracked stays tracked for good, so
# every row holding it would have stayed tracked too (a chat's rows walked at every full collection).
EMPTY_DICT = "\x00parley-frozen-empty-dict"


def _frozen(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return (DICT, *[(key, _frozen(inner)) for key, inner in value.items()]) if value else EMPTY_DICT
    if kind is list or kind is tuple:
        return tuple([_frozen(inner) for inner in value]) if value else ()
    return value


def _thawed(value: Any) -> Any:
    if type(value) is not tuple:
        return {} if value is EMPTY_DICT else value
    if value and value[0] is DICT:
        return {key: _thawed(inner) for key, inner in value[1:]}
    return [_thawed(inner) for inner in value] if value else []


@dataclasses.dataclass(frozen=True, slots=True)
class _Shape:
    values: Callable[[Any], Row]  # the record's field values, as a tuple
    containers: tuple[int, ...]  # where a container may be


def _shape_of(cls: type[Any]) -> _Shape:
    fields = dataclasses.fields(cls)
    containers = tuple(i for i, f in enumerate(fields) if any(h in str(f.type) for h in CONTAINER_HINTS))
    getter = operator.attrgetter(*(f.name for f in fields))
    return _Shape(getter if len(fields) > 1 else lambda record: (getter(record),), containers)


_shapes: dict[type[Any], _Shape] = {}


def _shape(cls: type[Any]) -> _Shape:
    shape = _shapes.get(cls)
    if shape is None:
        shape = _shapes[cls] = _shape_of(cls)
    return shape


def freeze(record: Any) -> Row:
    """The record as the store keeps it: nothing in it is shared with the caller or mutable."""
    shape = _shape(type(record))
    row = shape.values(record)
    if not shape.containers:
        return row
    changed = list(row)
    for index in shape.containers:
        if changed[index] is not None:
            changed[index] = _frozen(changed[index])
    return tuple(changed)


def thaw(cls: type[T], row: Row) -> T:
    """A new record from a kept row; the caller may change it at will."""
    containers = _shape(cls).containers
    if not containers:
        return cls(*row)
    changed = list(row)
    for index in containers:
        if changed[index] is not None:
            changed[index] = _thawed(changed[index])
    return cls(*changed)


def field(cls: type[Any], name: str) -> int:
    """Where a field's value sits in a kept row."""
    return next(i for i, f in enumerate(dataclasses.fields(cls)) if f.name == name)


def copy(record: T) -> T:
    """A copy of a record sharing no mutable part with it (for the few records kept as objects: streams)."""
    return thaw(type(record), freeze(record))
