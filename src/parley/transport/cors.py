"""CORS for browser widgets (conventions.md §6): an ASGI middleware in front of every HTTP path.

Owns the origin allow-list and the CORS headers; knows nothing about AWS or the admin API behind it.
A request without an `Origin` header (SDKs, the CLI, Node) passes straight through, untouched.
A preflight is answered here for every path, 204 for an allowed origin and 403 without CORS headers
for any other, so the browser refuses the call and the server log says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from parley import __version__
from parley.protocol.restjson import Headers, json_bytes
from parley.transport.access_log import AccessLog
from parley.transport.http import ASGIApp, Receive, Send

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ALLOW_METHODS = b"GET, POST, PUT, DELETE, OPTIONS"
# What AWS SDKs and chatjs send, for a preflight that names no headers (one that does is echoed).
ALLOW_HEADERS = (
    b"authorization, content-type, x-amz-bearer, x-amz-date, x-amz-content-sha256, x-amz-user-agent, "
    b"x-amz-security-token, x-amz-client-context, amz-sdk-invocation-id, amz-sdk-request"
)
# Without these a browser SDK cannot read the error name or the request id.
EXPOSE_HEADERS = b"x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, x-amz-apigw-id, x-parley-version, date"
MAX_AGE = b"600"
PREFLIGHT_VARY = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


class OriginPolicy:
    """Which browser origins may call: `loopback` (any scheme and port on localhost, 127.0.0.1, [::1]),
    `*` (every origin, still echoed one at a time), `null`, or exact `scheme://host[:port]` origins."""

    def __init__(self, entries: Iterable[str]) -> None:
        lowered = {entry.strip().lower() for entry in entries}
        self._any = "*" in lowered
        self._loopback = "loopback" in lowered
        self._exact = frozenset(lowered - {"*", "loopback"})

    def allows(self, origin: str) -> bool:
        lowered = origin.lower()
        if self._any or lowered in self._exact:
            return True
        return self._loopback and is_loopback(lowered)


def is_loopback(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018  # raises ValueError on a malformed port
    except ValueError:
        return False
    bare = not (parts.path or parts.query or parts.fragment or parts.username)
    return bool(parts.scheme) and bare and parts.hostname in LOOPBACK_HOSTS


def header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class Cors:
    def __init__(self, app: ASGIApp, policy: OriginPolicy, access_log: AccessLog) -> None:
        self._app = app
        self._policy = policy
        self._log = access_log
        self._response_headers: Headers = [
            (b"access-control-expose-headers", EXPOSE_HEADERS),
            (b"vary", b"Origin"),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        origin = header(scope, b"origin")
        if origin is None:
            await self._app(scope, receive, send)
            return
        allowed = self._policy.allows(origin.decode("latin-1"))
        if scope["method"] == "OPTIONS" and header(scope, b"access-control-request-method") is not None:
            await self._preflight(scope, send, origin, allowed)
        elif allowed:
            await self._app(scope, receive, self._answering_to(origin, send))
        else:
            await self._app(scope, receive, send)

    def _answering_to(self, origin: bytes, send: Send) -> Send:
        extra = [(b"access-control-allow-origin", origin), *self._response_headers]

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        return send_with_cors

    async def _preflight(self, scope: dict[str, Any], send: Send, origin: bytes, allowed: bool) -> None:
        if allowed:
            status, headers, body = 204, preflight_headers(scope, origin), b""
        else:
            status, body = 403, json_bytes({"error": "CorsOriginNotAllowed", "message": refusal(origin)})
            headers = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
        headers += [(b"x-parley-version", __version__.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self._log.event("cors.preflight", f" {status} origin={origin.decode('latin-1')} path={scope['path']}")


def preflight_headers(scope: dict[str, Any], origin: bytes) -> Headers:
    headers: Headers = [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-methods", ALLOW_METHODS),
        (b"access-control-allow-headers", header(scope, b"access-control-request-headers") or ALLOW_HEADERS),
        (b"access-control-max-age", MAX_AGE),
        (b"vary", PREFLIGHT_VARY),
    ]
    if (header(scope, b"access-control-request-private-network") or b"").lower() == b"true":
        headers.append((b"access-control-allow-private-network", b"true"))  # Chrome's private network access
    return headers


def refusal(origin: bytes) -> str:
    return (
        f"Origin {origin.decode('latin-1')} is not allowed by CORS; "
        "allow it with --cors-origins / PARLEY_CORS_ORIGINS (loopback origins are allowed by default)"
    )
