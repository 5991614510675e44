"""One line per request, naming the service and operation (conventions.md §8), as text or as JSON.

Written straight to stdout, line-buffered: the `logging` machinery costs more than the rest of
a small request, and these lines are the product's primary output, not diagnostics.
With `--log-format json` every line is one JSON object with the text line's fields; `JsonFormatter`
does the same for the `logging` records (warnings, errors, start-up), so stdout and stderr both parse.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

RENAMED = {"req": "requestId"}  # the text line's short names, spelled out in JSON


def timestamp(moment: float) -> str:
    dt = datetime.fromtimestamp(moment, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _fields(extra: str) -> dict[str, Any]:
    """` key=value …` (the text line's tail) as fields; a bare number is the `code` (`ws.close 1000`)."""
    fields: dict[str, Any] = {}
    for word in extra.split():
        key, sep, value = word.partition("=")
        if sep:
            fields[RENAMED.get(key, key)] = value
        elif word.isdigit():
            fields["code"] = int(word)
        else:
            fields["detail"] = f"{fields.get('detail', '')} {word}".strip()
    return fields


def json_line(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"


class AccessLog:
    def __init__(self, enabled: bool, stream: TextIO | None = None, debug: bool = False, json: bool = False) -> None:
        self.enabled = enabled
        self.debug = debug
        self.json = json
        self._stream = stream or sys.stdout

    def request(self, name: str, status: int, started: float, request_id: str, extra: str = "") -> None:
        if not self.enabled:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        level = "INFO" if status < 500 else "ERROR"
        if self.json:
            head = {"time": timestamp(time.time()), "level": level, "operation": name, "status": status}
            tail = {"latencyMs": round(elapsed_ms, 1), "requestId": request_id}
            self._stream.write(json_line({**head, **tail, **_fields(extra)}))
            return
        line = f"{timestamp(time.time())} {level} {name} {status} {elapsed_ms:.1f}ms req={request_id}{extra}\n"
        self._stream.write(line)

    def event(self, name: str, extra: str = "", debug: bool = False) -> None:
        """A WebSocket lifecycle line (`ws.open`, `ws.subscribe`, `ws.close <code>`)."""
        if not self.enabled or (debug and not self.debug):
            return
        if self.json:
            fields = {"time": timestamp(time.time()), "level": "INFO", "event": name, **_fields(extra)}
            self._stream.write(json_line(fields))
            return
        self._stream.write(f"{timestamp(time.time())} INFO {name}{extra}\n")


class JsonFormatter(logging.Formatter):
    """A `logging` record as one JSON object: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json_line(fields).rstrip("\n")
