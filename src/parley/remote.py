"""A running Parley's admin API over HTTP, for the CLI: the standard library's client, JSON in and out.

Every failure is a `RemoteError` whose message says what happened: the server could not be reached,
or it answered an error (its `error` code and `message`), or it answered something that is not JSON.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TIMEOUT_SECONDS = 30.0


class RemoteError(Exception):
    pass


def _opener(endpoint: str) -> urllib.request.OpenerDirector:
    """A loopback server is reached directly: a CI runner's HTTP_PROXY must not swallow it."""
    if urlsplit(endpoint).hostname in LOOPBACK:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _decoded(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise RemoteError(f"{where} answered something other than JSON: {raw[:120]!r}") from None


def _refusal(error: urllib.error.HTTPError, where: str) -> RemoteError:
    raw = error.read()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "message" in payload:
        return RemoteError(f"{where} answered HTTP {error.code} {payload.get('error')}: {payload['message']}")
    return RemoteError(f"{where} answered HTTP {error.code}: {raw[:120]!r}")


def call(
    endpoint: str,
    method: str,
    path: str,
    query: Mapping[str, object] | None = None,
    body: Mapping[str, Any] | None = None,
    admin_token: str | None = None,
    *,
    raw: bytes | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Any:
    """`METHOD {endpoint}/_parley/{path}?{query}` with `body` as JSON (or `raw`, JSON already); the decoded
    JSON answer. `admin_token` is sent to a Parley that listens beyond loopback (PARLEY_ADMIN_TOKEN)."""
    shown = {k: v for k, v in (query or {}).items() if v is not None}
    url = f"{endpoint}/_parley/{path}" + (f"?{urlencode(shown)}" if shown else "")
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {"content-type": "application/json"}
    if admin_token:
        headers["x-parley-admin-token"] = admin_token
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    where = f"{method} /_parley/{path}"
    try:
        with _opener(endpoint).open(request, timeout=timeout) as response:
            return _decoded(response.read(), where)
    except urllib.error.HTTPError as error:
        raise _refusal(error, where) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise RemoteError(f"cannot reach Parley at {endpoint}: {reason}") from None
