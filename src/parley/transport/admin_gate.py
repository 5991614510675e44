"""The admin token (`--admin-token`, PARLEY_ADMIN_TOKEN) in front of `/_parley/`, the console included.

On a loopback bind everything stays open, as before. On any other bind address every admin and console
path needs the token, presented as an `x-parley-admin-token` header, `Authorization: Bearer <token>`, or
the `parley_admin_token` cookie that the console's sign-in form sets once. Liveness and readiness stay
open (they tell nothing, and container health checks call them); attachment URLs and sign-in links are
signed on their own and never reach this gate. Without a configured token, a non-loopback Parley refuses
the admin API altogether rather than serve it to the network.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import parse_qs

from parley.transport.admin import encode
from parley.transport.http import ASGIApp, Receive, Send, read_body

log = logging.getLogger("parley.admin")
COOKIE = "parley_admin_token"
HEADER = b"x-parley-admin-token"
OPEN_PATHS = frozenset({"/_parley/health", "/_parley/ready"})
LOGIN = "/_parley/ui/login"
UI = "/_parley/ui"
Headers = list[tuple[bytes, bytes]]

FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley console: sign in</title>
<style>body{{font:16px system-ui,sans-serif;max-width:30em;margin:4em auto}}input,button{{font:inherit}}</style>
</head><body><main><h1>Parley console</h1>
<p>This Parley listens on a network address: give its admin token (<code>--admin-token</code>) once.
It is kept in a cookie for this browser.</p>{problem}
<form method="post" action="{action}"><label>Admin token <input type="password" name="token" autofocus
autocomplete="current-password"></label> <button type="submit">Sign in</button></form></main></body></html>"""


def presented(scope: dict[str, Any]) -> str | None:
    """The token a request carries: the header, a bearer Authorization, or the console's cookie."""
    for key, value in scope["headers"]:
        if key == HEADER:
            return str(value.decode("latin-1"))
        if key == b"authorization" and value[:7].lower() == b"bearer ":
            return str(value[7:].decode("latin-1").strip())
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, token = part.strip().partition("=")
                if name == COOKIE:
                    return str(token)
    return None


async def _answer(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AdminGate:
    def __init__(self, app: ASGIApp, token: str | None, required: bool) -> None:
        self._app = app
        self._token = token
        self._required = required
        if required and token is None:
            log.warning("the admin API and console are closed: Parley listens beyond loopback without --admin-token")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path = scope["path"]
        if not self._required or path in OPEN_PATHS:
            await self._app(scope, receive, send)
        elif path == LOGIN:
            await self._login(scope, receive, send)
        elif self._accepts(presented(scope)):
            await self._app(scope, receive, send)
        else:
            await read_body(receive, 0)
            await self._refuse(scope, send)

    def _accepts(self, token: str | None) -> bool:
        if self._token is None or token is None:
            return False
        return hmac.compare_digest(token.encode("utf-8", "replace"), self._token.encode())

    async def _refuse(self, scope: dict[str, Any], send: Send) -> None:
        path = scope["path"]
        if scope["method"] == "GET" and (path == UI or path.startswith(UI + "/")) and self._token is not None:
            await _answer(send, 303, [(b"location", LOGIN.encode())], b"")
            return
        if self._token is None:
            code, message = "AdminTokenNotConfigured", "Parley listens beyond loopback: start it with --admin-token"
        else:
            code, message = "AdminTokenRequired", "Give the admin token: x-parley-admin-token or Bearer"
        await _answer(send, 401, [(b"content-type", b"application/json")], encode({"error": code, "message": message}))

    async def _login(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = await read_body(receive, 4096) or b""
        if scope["method"] != "POST":
            await self._form(send, 200, "")
            return
        token = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0]
        if not self._accepts(token):
            await self._form(send, 401, "That is not this Parley's admin token.")
            return
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{COOKIE}={token}; Path=/_parley/; HttpOnly; SameSite=Strict{secure}"
        await _answer(send, 303, [(b"location", f"{UI}/".encode()), (b"set-cookie", cookie.encode())], b"")

    async def _form(self, send: Send, status: int, problem: str) -> None:
        from html import escape  # html.entities is a large table: loaded by the first sign-in page, not at start-up

        shown = f'<p role="alert">{escape(problem)}</p>' if problem else ""
        if self._token is None:
            shown = '<p role="alert">No admin token is configured: restart Parley with --admin-token.</p>'
        page = FORM.format(problem=shown, action=LOGIN).encode()
        await _answer(send, status, [(b"content-type", b"text/html; charset=utf-8")], page)
