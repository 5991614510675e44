"""What Parley hosts in place of the services AWS hands URLs to: S3 for attachment bytes
(`/_parley/blobs/{AttachmentId}?sig=…`) and the sign-in page of an authentication session
(`/_parley/authenticate/{ContactId}/{SessionId}?redirect_uri=…&sig=…`).

Refusals are S3's: 403 with an XML `<Error>` body, whatever went wrong with the URL or the upload.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote

from parley.chat.errors import DomainError
from parley.clock import Clock
from parley.services.hosted import HostedService
from parley.services.signed_urls import Grant, SignedUrls
from parley.transport.http import Receive, Send, declared_length, read_body

BLOB = re.compile(r"^/_parley/blobs/([^/]+)$")
SIGN_IN = re.compile(r"^/_parley/authenticate/([^/]+)/([^/]+)$")
Headers = list[tuple[bytes, bytes]]


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _s3_error(send: Send, status: int, code: str, message: str) -> None:
    from html import escape  # html.entities is a large table: loaded by the first error, not at start-up

    text = escape(message, quote=False)  # &, < and > only, as xml.sax.saxutils.escape (which imports urllib.request)
    body = f"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>{code}</Code><Message>{text}</Message>"
    body += "</Error>"
    await _send(send, status, [(b"content-type", b"application/xml")], body.encode())


def _query(scope: dict[str, Any]) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {k: v[0] for k, v in parsed.items()}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class Hosted:
    def __init__(self, service: HostedService, urls: SignedUrls, clock: Clock, max_bytes: int) -> None:
        self._service = service
        self._urls = urls
        self._clock = clock
        self._max_bytes = max_bytes

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith(("/_parley/blobs/", "/_parley/authenticate/"))

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        blob, sign_in = BLOB.match(path), SIGN_IN.match(path)
        if blob and method in ("PUT", "GET", "HEAD"):
            await self._blob(scope, receive, send, blob.group(1), method)
        elif sign_in and method == "GET":
            await read_body(receive, 0)
            await self._sign_in(scope, send, sign_in.group(1), sign_in.group(2))
        else:
            await read_body(receive, 0)
            await _s3_error(send, 405, "MethodNotAllowed", f"{method} is not allowed on {path}")

    async def _blob(self, scope: dict[str, Any], receive: Receive, send: Send, attachment_id: str, method: str) -> None:
        grant = self._urls.verify(attachment_id, _query(scope).get("sig", ""), self._clock.now())
        if isinstance(grant, str) or grant.upload != (method == "PUT"):
            await read_body(receive, 0)
            reason = grant if isinstance(grant, str) else "This URL does not allow " + method
            await _s3_error(send, 403, "AccessDenied", reason)
            return
        if method == "PUT":
            await self._upload(scope, receive, send, grant)
        else:
            await read_body(receive, 0)
            await self._download(send, grant, method == "HEAD")

    async def _upload(self, scope: dict[str, Any], receive: Receive, send: Send, grant: Grant) -> None:
        declared = declared_length(scope)  # refused from its Content-Length, before a byte is read
        data = (
            None if declared is not None and declared > self._max_bytes else await read_body(receive, self._max_bytes)
        )
        if data is None:
            await _s3_error(send, 403, "AccessDenied", f"The upload is larger than {self._max_bytes} bytes")
            return
        try:
            await self._service.accept_upload(grant.attachment_id, data, _header(scope, b"content-type"))
        except DomainError as error:
            await _s3_error(send, 403, "AccessDenied", error.message)
            return
        await _send(send, 200, [(b"etag", f'"{len(data):x}-{grant.attachment_id[:8]}"'.encode())], b"")

    async def _download(self, send: Send, grant: Grant, head: bool) -> None:
        try:
            attachment, data = await self._service.download(grant.attachment_id)
        except DomainError as error:
            await _s3_error(send, 403, "AccessDenied", error.message)
            return
        disposition = "inline" if grant.disposition == "INLINE" else "attachment"
        headers = [
            (b"content-type", attachment.content_type.encode("latin-1", "replace")),
            (b"content-disposition", f"{disposition}; filename*=UTF-8''{quote(attachment.name)}".encode()),
        ]
        if head:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await _send(send, 200, headers, data)

    async def _sign_in(self, scope: dict[str, Any], send: Send, contact_id: str, session_id: str) -> None:
        query = _query(scope)
        redirect = query.get("redirect_uri", "")
        if not redirect or not self._urls.verify_sign_in(session_id, query.get("sig", "")):
            await _send(send, 403, [(b"content-type", b"text/plain")], b"This sign-in link is not valid\n")
            return
        try:
            await self._service.finish_sign_in(contact_id, session_id)
        except DomainError as error:
            await _send(send, 400, [(b"content-type", b"text/plain")], f"{error.message}\n".encode())
            return
        await _send(send, 302, [(b"location", redirect.encode("latin-1", "replace"))], b"")
