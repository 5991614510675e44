"""Domain records to JSON documents and back. Datetimes travel as epoch seconds under a `$t` tag."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$t": value.timestamp()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$t" in value:
            return datetime.fromtimestamp(value["$t"], UTC)
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def dump(record: Any) -> str:
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return json.dumps(_plain(fields), separators=(",", ":"))


def load(cls: type[T], text: str) -> T:
    return cls(**_restore(json.loads(text)))


def dump_value(value: Any) -> str:
    return json.dumps(_plain(value), separators=(",", ":"))


def load_value(text: str) -> Any:
    return _restore(json.loads(text))
