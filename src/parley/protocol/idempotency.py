"""Generic ClientToken replay, driven by the model's `idempotencyToken` trait.

The key is (operation, instance, token) inside the caller's account and region; the fingerprint is
a hash of the canonical request without the token. A stored response is the output dict with
datetimes tagged, so a replay serializes exactly like the original.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$t" in value:
            return datetime.fromtimestamp(value["$t"], UTC)
        if len(value) == 1 and "$b" in value:
            return bytes.fromhex(value["$b"])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def _tagged(value: Any) -> Any:
    """The encoders' `default`: a datetime or bytes value becomes its tag (`_restore` reads it back) as the
    encoder meets it, so a request or output is encoded in one pass, never first copied."""
    if isinstance(value, datetime):
        return {"$t": value.timestamp()}
    if isinstance(value, bytes):
        return {"$b": value.hex()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def key(operation: str, instance_id: str, token: str) -> str:
    return f"{operation}\x1f{instance_id}\x1f{token}"


def fingerprint(params: dict[str, Any], token_member: str) -> str:
    rest = {k: v for k, v in params.items() if k != token_member}
    text = _FINGERPRINT.encode(rest)
    return hashlib.sha256(text.encode()).hexdigest()


_FINGERPRINT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_tagged)
_OUTPUT = json.JSONEncoder(separators=(",", ":"), default=_tagged)


def encode_output(output: dict[str, Any]) -> str:
    return _OUTPUT.encode(output)


def decode_output(text: str) -> dict[str, Any]:
    restored = _restore(json.loads(text))
    assert isinstance(restored, dict)
    return restored
