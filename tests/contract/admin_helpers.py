"""Helpers for admin API tests: JSON requests to `/_parley/…` over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def admin(url: str, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    """(status, decoded JSON answer) of `METHOD url/_parley/path`; error answers are returned, not raised."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(f"{url}/_parley/{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ok(url: str, method: str, path: str, body: Any = None) -> Any:
    status, answer = admin(url, method, path, body)
    assert status == 200, answer
    return answer
