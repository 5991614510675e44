"""Recent AWS requests for `/_parley/requests` (conventions.md §4): a bounded ring buffer.

Recording appends references, so the hot path pays no copy and no parsing; the JSON view is built
when someone asks. Headers are never kept (so `Authorization` and `X-Amz-Bearer` cannot leak), and
token values in bodies are shown only by their first 6 characters.
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.transport.access_log import timestamp

BODY_LIMIT = 16 * 1024  # larger bodies are shown by their size only
BODY_BUDGET = 8 * 1024 * 1024  # bytes of bodies the whole ring keeps, whatever --request-log-size says
SECRET_MEMBERS = frozenset({"ParticipantToken", "ConnectionToken", "JoinToken"})
SHOWN_PREFIX = 6
AUTH_VALUE = re.compile(r"([?&](?:auth|sig)=)([^&#]*)")  # WebSocket, attachment and sign-in URLs
URL_MEMBERS = frozenset({"Url", "AuthenticationUrl"})


@dataclass(slots=True)
class Entry:
    at: float  # epoch seconds
    name: str  # `connect.CreateParticipant`, or `unknown GET /path`
    method: str
    path: str
    status: int
    error: str | None
    latency_ms: float
    request_id: str
    contact: str | None  # the ContactId URI label, when the operation has one
    request: bytes
    response: bytes
    participant: str | None = None  # whose X-Amz-Bearer token the Participant Service call carried
    request_size: int = 0  # the body's size, kept when a body over BODY_LIMIT is dropped from the ring
    response_size: int = 0


@dataclass(frozen=True, slots=True)
class RequestFilter:
    operation: str | None = None  # `CreateParticipant` or `connect.CreateParticipant`
    status: str | None = None  # `429`, or a class such as `4xx`
    contact: str | None = None
    limit: int | None = None  # the most recent N
    participants: frozenset[str] = frozenset()  # calls of these participants count as the contact's


def redact_text(text: str) -> str:
    return text[:SHOWN_PREFIX] + "…" if len(text) > SHOWN_PREFIX else "…"


def _redact_url(url: str) -> str:
    return AUTH_VALUE.sub(lambda m: m.group(1) + redact_text(m.group(2)), url)


def redact(value: Any) -> Any:
    """A body with token values cut to their first characters (signed URLs: the `auth` or `sig` value)."""
    if isinstance(value, dict):
        return {k: _redact_member(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _redact_member(name: str, value: Any) -> Any:
    if isinstance(value, str) and name in SECRET_MEMBERS:
        return redact_text(value)
    if isinstance(value, str) and name in URL_MEMBERS:
        return _redact_url(value)
    return redact(value)


def _body(raw: bytes, size: int = 0) -> Any:
    if size > BODY_LIMIT or len(raw) > BODY_LIMIT:
        return f"<{max(size, len(raw))} bytes>"
    if not raw:
        return None
    try:
        return redact(json.loads(raw))
    except ValueError:
        return f"<{len(raw)} bytes, not JSON>"
    except RecursionError:  # decoding or redacting went deeper than the interpreter's stack
        return f"<{len(raw)} bytes, nested too deeply>"


def _contact(entry: Entry, request: Any, response: Any) -> str | None:
    for body in (request, response):
        if isinstance(body, dict) and isinstance(body.get("ContactId"), str):
            return str(body["ContactId"])
    return entry.contact


def view(entry: Entry) -> dict[str, Any]:
    known = not entry.name.startswith("unknown ")
    service, _, operation = entry.name.partition(".") if known else ("", "", "")
    request, response = _body(entry.request, entry.request_size), _body(entry.response, entry.response_size)
    return {
        "time": timestamp(entry.at),
        "service": service or None,
        "operation": operation or None,
        "method": entry.method,
        "path": entry.path,
        "status": entry.status,
        "error": entry.error,
        "latencyMs": round(entry.latency_ms, 3),
        "requestId": entry.request_id,
        "contact": _contact(entry, request, response),
        "participant": entry.participant,
        "request": request,
        "response": response,
    }


def _status_matches(wanted: str, status: int) -> bool:
    if wanted.endswith("xx"):
        return str(status)[0] == wanted[0]
    return str(status) == wanted


def _matches(shown: dict[str, Any], wanted: RequestFilter) -> bool:
    if wanted.operation is not None and wanted.operation not in (
        shown["operation"],
        f"{shown['service']}.{shown['operation']}",
    ):
        return False
    if wanted.status is not None and not _status_matches(wanted.status, shown["status"]):
        return False
    if wanted.contact is None or shown["contact"] == wanted.contact:
        return True
    return shown["participant"] is not None and shown["participant"] in wanted.participants


class RequestLog:
    """The last `size` requests, holding at most BODY_BUDGET bytes of bodies (the oldest go first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: collections.deque[Entry] = collections.deque()
        self._body_bytes = 0
        self._watchers: list[Callable[[Entry], None]] = []

    def watch(self, watcher: Callable[[Entry], None]) -> None:
        """`watcher` sees every entry as it is recorded (the console's live feed); it must not block."""
        self._watchers.append(watcher)

    def record(self, entry: Entry) -> None:
        """Keeps `entry`; a body over BODY_LIMIT (shown by its size only) is dropped at once."""
        if not self.size:
            return
        if len(entry.request) > BODY_LIMIT:
            entry.request_size, entry.request = len(entry.request), b""
        if len(entry.response) > BODY_LIMIT:
            entry.response_size, entry.response = len(entry.response), b""
        self._entries.append(entry)
        self._body_bytes += len(entry.request) + len(entry.response)
        while len(self._entries) > self.size or (self._body_bytes > BODY_BUDGET and len(self._entries) > 1):
            oldest = self._entries.popleft()
            self._body_bytes -= len(oldest.request) + len(oldest.response)
        for watcher in self._watchers:
            watcher(entry)

    def clear(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        self._body_bytes = 0
        return count

    def select(self, wanted: RequestFilter) -> list[dict[str, Any]]:
        """Matching requests, oldest first; `limit` keeps the most recent."""
        shown = [s for s in map(view, tuple(self._entries)) if _matches(s, wanted)]
        if wanted.limit is not None:
            shown = shown[-wanted.limit :] if wanted.limit else []
        return shown
