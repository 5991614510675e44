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


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$t": value.timestamp()}
    if isinstance(value, bytes):
        return {"$b": value.hex()}
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


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


def key(operation: str, instance_id: str, token: str) -> str:
    return f"{operation}\x1f{instance_id}\x1f{token}"


def fingerprint(params: dict[str, Any], token_member: str) -> str:
    rest = {k: v for k, v in params.items() if k != token_member}
    text = json.dumps(_canonical(rest), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def encode_output(output: dict[str, Any]) -> str:
    return json.dumps(_canonical(output), separators=(",", ":"))


def decode_output(text: str) -> dict[str, Any]:
    restored = _restore(json.loads(text))
    assert isinstance(restored, dict)
    return restored
