"""What a function answered, whichever way it ran: an `Answer` (ok with a payload, or error with a message), and
the rules every response passes (flows.md §5.3): JSON, and at most 32 KB.

The flow interpreter decides what the payload means ($.External, STRING_MAP or JSON); here it is only read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_RESPONSE_BYTES = 32 * 1024  # "more than 32 KB" takes the Error branch
SHOWN = 120  # characters of a bad body quoted in an error


@dataclass(frozen=True, slots=True)
class Answer:
    ok: bool
    payload: Any = None
    error: str | None = None


def failed(error: str) -> Answer:
    return Answer(False, None, error)


def quoted(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return repr(text[:SHOWN] + ("…" if len(text) > SHOWN else ""))


def from_body(raw: bytes) -> Answer:
    """A response body as the function's payload: JSON of at most 32 KB, else an error saying which rule broke."""
    if len(raw) > MAX_RESPONSE_BYTES:
        return failed(f"the response is larger than 32 KB ({MAX_RESPONSE_BYTES} bytes), the limit for a flow")
    try:
        return Answer(True, json.loads(raw))
    except (ValueError, RecursionError):
        return failed(f"the response is not JSON: {quoted(raw)}")


def from_return(value: Any) -> Answer:
    """A Python handler's return value, passed through JSON as the Lambda runtime does (so its size is known and
    a tuple arrives as a list)."""
    try:
        raw = json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        return failed(f"the return value is not JSON-serializable: {type(exc).__name__}: {exc}")
    return from_body(raw)


def function_error(kind: str, raw: bytes) -> str:
    """`Unhandled: RuntimeError: boom` from an `X-Amz-Function-Error` header and the runtime's error document."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        document = None
    if isinstance(document, dict) and ("errorMessage" in document or "errorType" in document):
        parts = [str(document[key]) for key in ("errorType", "errorMessage") if document.get(key) is not None]
        return f"function error ({kind}): {': '.join(parts)}"
    return f"function error ({kind}): {quoted(raw)}" if raw else f"function error ({kind})"
