"""One line per request, naming the service and operation (conventions.md §8).

Written straight to stdout, line-buffered: the `logging` machinery costs more than the rest of
a small request, and these lines are the product's primary output, not diagnostics.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TextIO


def timestamp(moment: float) -> str:
    dt = datetime.fromtimestamp(moment, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class AccessLog:
    def __init__(self, enabled: bool, stream: TextIO | None = None, debug: bool = False) -> None:
        self.enabled = enabled
        self.debug = debug
        self._stream = stream or sys.stdout

    def request(self, name: str, status: int, started: float, request_id: str, extra: str = "") -> None:
        if not self.enabled:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        level = "INFO" if status < 500 else "ERROR"
        line = f"{timestamp(time.time())} {level} {name} {status} {elapsed_ms:.1f}ms req={request_id}{extra}\n"
        self._stream.write(line)

    def event(self, name: str, extra: str = "", debug: bool = False) -> None:
        """A WebSocket lifecycle line (`ws.open`, `ws.subscribe`, `ws.close <code>`)."""
        if not self.enabled or (debug and not self.debug):
            return
        self._stream.write(f"{timestamp(time.time())} INFO {name}{extra}\n")
