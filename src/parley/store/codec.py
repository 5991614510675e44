"""Domain records to JSON documents and back. Datetimes travel as epoch seconds under a `$t` tag.

The JSON module's C scanner does the walking: `default` tags datetimes on the way out and
`object_hook` restores them on the way in, so a record costs one parse and no Python recursion.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")
_fromtimestamp = datetime.fromtimestamp


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$t": value.timestamp()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _untag(value: dict[str, Any]) -> Any:
    if len(value) == 1 and "$t" in value:
        return _fromtimestamp(value["$t"], UTC)
    return value


_encoder = json.JSONEncoder(separators=(",", ":"), default=_tag)
_decoder = json.JSONDecoder(object_hook=_untag)
_field_names: dict[type[Any], tuple[str, ...]] = {}


def _names(cls: type[Any]) -> tuple[str, ...]:
    names = _field_names.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        _field_names[cls] = names
    return names


def dump(record: Any) -> str:
    return _encoder.encode({name: getattr(record, name) for name in _names(type(record))})


def load(cls: type[T], text: str) -> T:
    return cls(**_decoder.decode(text))


def dump_value(value: Any) -> str:
    return _encoder.encode(value)


def load_value(text: str) -> Any:
    return _decoder.decode(text)
