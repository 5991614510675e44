"""The record of recent Lambda invocations (flows.md §6.5) behind `GET /_parley/lambda/invocations`: a ring of
`--request-log-size` entries, each with its event, its response or error, and the branch the flow took (filled in
later by the runner through `LambdaInvoker.note_branch`).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Record:
    id: str
    time: datetime
    function: str  # as the flow named it (usually the ARN)
    name: str  # the function's name
    contact: str
    target: str  # endpoint | http | python | none
    invocation_type: str  # RequestResponse | Event
    event: Any
    outcome: str  # ok | error | timeout | missing
    response: Any
    error: str | None
    duration_ms: float
    branch: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "function": self.function,
            "name": self.name,
            "contact": self.contact,
            "target": self.target,
            "invocationType": self.invocation_type,
            "outcome": self.outcome,
            "durationMs": round(self.duration_ms, 3),
            "event": self.event,
            "response": self.response,
            "error": self.error,
            "branch": self.branch,
        }


class Records:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: collections.deque[Record] = collections.deque(maxlen=size)
        self._by_id: dict[str, Record] = {}

    def add(self, record: Record) -> None:
        if not self.size:
            return
        if len(self._entries) == self.size:
            self._by_id.pop(self._entries[0].id, None)
        self._entries.append(record)
        self._by_id[record.id] = record

    def note_branch(self, record_id: str, branch: str) -> bool:
        record = self._by_id.get(record_id)
        if record is None:
            return False
        record.branch = branch
        return True

    def clear(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        self._by_id.clear()
        return count

    def select(self, contact: str | None, function: str | None, limit: int | None) -> list[dict[str, Any]]:
        """Matching invocations, oldest first; `function` matches the name or the value as given; `limit` keeps
        the most recent."""
        chosen = [
            record.view()
            for record in tuple(self._entries)
            if (contact is None or record.contact == contact)
            and (function is None or function in (record.function, record.name))
        ]
        if limit is not None:
            chosen = chosen[-limit:] if limit else []
        return chosen
