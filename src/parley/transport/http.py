"""The HTTP edge for both AWS services: one linear function per request.

route (method + raw path) -> fault rules -> context -> parse and validate -> handler -> serialize ->
access log line and request log entry. Every failure becomes the wire error the model declares; an
unexpected exception is logged with its traceback and answered with the service's internal error,
never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from parley import __version__
from parley.chat.model import Scope
from parley.clock import Clock
from parley.lazy import LazyModule
from parley.protocol.errors import ServiceError, internal_error, modelled, not_implemented, unknown_operation
from parley.protocol.restjson import Headers, serialize_error, serialize_response
from parley.protocol.restjson import parse_request as parse_wire
from parley.protocol.routing import Match, Router
from parley.services.base import Handler, RequestContext, validation_code
from parley.settings import Settings
from parley.transport.access_log import AccessLog
from parley.transport.faults import Faults, Injection
from parley.transport.request_log import Entry, RequestLog

if TYPE_CHECKING:
    from parley.protocol import sigv4
else:
    sigv4 = LazyModule("parley.protocol.sigv4", globals())  # --strict-auth only: imported on first use

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

log = logging.getLogger("parley.http")
BASE_HEADERS: Headers = [(b"content-type", b"application/json"), (b"x-parley-version", __version__.encode())]
MAX_BODY = 16 * 1024 * 1024


def caller_scope(headers: Mapping[str, str], settings: Settings) -> Scope:
    """Account from a 12-digit access key id, region from the SigV4 credential scope; else the defaults."""
    auth = headers.get("authorization", "")
    start = auth.find("Credential=")
    if start < 0:
        return _scope(settings.account_id, settings.region)
    parts = auth[start + 11 :].split(",", 1)[0].split("/")
    account = parts[0] if len(parts[0]) == 12 and parts[0].isdigit() else settings.account_id
    region = parts[2] if len(parts) > 2 and parts[2] else settings.region
    return _scope(account, region)


@functools.lru_cache(maxsize=256)  # bounded: the caller chooses the account and region
def _scope(account: str, region: str) -> Scope:
    """One Scope object per account and region, shared by the requests (and the timers and flow keys they leave
    behind) instead of one more object a chat for the garbage collector to walk."""
    return Scope(account, region)


LOOPBACK_NAMES = ("localhost", "::1", "[::1]")


def public_base(headers: Mapping[str, str], scope: dict[str, Any], settings: Settings) -> str:
    """Where clients reach this server: --public-url, else the Host header with loopback names as
    127.0.0.1 (chatjs accepts `ws://127.0.0.1:<port>` and no other plain-ws host; stream.md §1)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 4599)
        host = f"{server[0]}:{server[1]}"
    https = scope.get("scheme") == "https"
    found = _bases.get((host, https))
    if found is None:
        found = _base_of(host, https)
        if len(_bases) >= MAX_BASES:  # Host is the client's to choose: keep the cache bounded
            _bases.clear()
        _bases[(host, https)] = found
    return found


MAX_BASES = 256
_bases: dict[tuple[str, bool], str] = {}  # (Host, https) -> base URL; a pure function of both, so never stale


def _base_of(host: str, https: bool) -> str:
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name:
        name, port = host, ""
    if name in LOOPBACK_NAMES or name.startswith("127."):
        name = "127.0.0.1"
    scheme = "https" if https else "http"
    return f"{scheme}://{name}:{port}" if port else f"{scheme}://{name}"


class ClientGone(Exception):
    """The client disconnected (or was cut off by the connection guard) before its body arrived."""


def declared_length(scope: dict[str, Any]) -> int | None:
    """The request's Content-Length, when it states one that parses."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes | None:
    """The whole body, or None as soon as it is larger than `limit` (the rest is left unread: the
    connection guard drops it and closes). Raises ClientGone if the client leaves first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*BASE_HEADERS, *headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def signed_request(scope: dict[str, Any], method: str, raw_path: str, body: bytes | None) -> sigv4.SignedRequest:
    """What SigV4 verification sees of a request: raw path and query, the headers as sent, the body."""
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
    query = scope.get("query_string", b"").decode("latin-1")
    return sigv4.SignedRequest(method, raw_path, query, headers, body or b"")


def signed_service(match: Match | None, raw_path: str) -> bool:
    """Whether --strict-auth checks this request: Connect's operations and any path that is not the
    Participant Service's (which does not use SigV4), so a path tampered off its route is refused as such."""
    if match is not None:
        return match.operation.service == "connect"
    return not raw_path.startswith("/participant/")


class Answer(NamedTuple):
    """What one request came to: the response, and what the request log keeps of it."""

    status: int
    headers: Headers
    body: bytes
    name: str  # `connect.CreateParticipant`, or `unknown GET /path`
    request: bytes = b""
    contact: str | None = None
    participant: str | None = None  # the bearer token's participant, for the request log


def error_code(headers: Headers) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k == b"x-amzn-errortype"), None)


async def inject(injection: Injection) -> ServiceError | None:
    """A fault rule fired: wait its latency, then hand back the error it makes the request answer."""
    if injection.delay_seconds:
        await asyncio.sleep(injection.delay_seconds)
    return injection.error


class AwsHttp:
    """Serves every operation of both models on one port."""

    def __init__(
        self,
        router: Router,
        handlers: Mapping[str, Mapping[str, Handler]],
        settings: Settings,
        clock: Clock,
        access_log: AccessLog,
        faults: Faults,
        requests: RequestLog,
        request_ids: Callable[[], str] | None = None,
        bearer_owner: Callable[[str], str | None] | None = None,
        verifier: sigv4.SigV4Verifier | None = None,
    ) -> None:
        self._bearer_owner = bearer_owner  # token -> participant id, so the request log can name the caller
        self._router = router
        self._handlers = handlers
        self._settings = settings
        self._clock = clock
        self._log = access_log
        self._faults = faults
        self._requests = requests
        self._request_ids = request_ids or (lambda: str(uuid.uuid4()))  # seeded under --seed
        self._verifier = verifier  # --strict-auth: SigV4 checked on Connect calls, never on the Participant Service

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = self._request_ids()
        method: str = scope["method"]
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope["path"]
        name = f"unknown {method} {path}"
        try:
            answer = await self._handle(scope, receive, method, path, request_id)
        except ClientGone:
            self._log.request(name, 499, started, request_id)  # nobody is left to answer
            return
        except ServiceError as error:
            answer = Answer(*serialize_error(error), name)
        except Exception:  # a failure outside the handler's own guard: still a wire error, never a bare 500
            log.exception("%s failed (request %s)", name, request_id)
            answer = Answer(*serialize_error(internal_error("connect")), name)
        answer.headers.append((b"x-amzn-requestid", request_id.encode()))
        await respond(send, answer.status, answer.headers, answer.body)
        self._log.request(answer.name, answer.status, started, request_id)
        if self._requests.size:
            self._record(answer, method, path, started, request_id)

    def _record(self, answer: Answer, method: str, path: str, started: float, request_id: str) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        error = error_code(answer.headers) if answer.status >= 400 else None
        self._requests.record(
            Entry(
                time.time(),
                answer.name,
                method,
                path,
                answer.status,
                error,
                elapsed_ms,
                request_id,
                answer.contact,
                answer.request,
                answer.body,
                answer.participant,
            )
        )

    async def _handle(self, scope: dict[str, Any], receive: Receive, method: str, path: str, request_id: str) -> Answer:
        match = self._router.match(method, path)
        limit = self._settings.limits.max_body_bytes
        if match is None:
            body = await read_body(receive, limit)
            raise self._auth_refusal(scope, method, path, body, match) or unknown_operation(method, path)
        op = match.operation
        length = declared_length(scope)
        body = None if length is not None and length > limit else await read_body(receive, limit)
        refused = self._auth_refusal(scope, method, path, body, match)
        if refused is not None:  # before anything runs
            return Answer(*serialize_error(refused), op.qualified_name, body or b"", match.labels.get("ContactId"))
        injection = self._faults.draw(op) if self._faults.active else None
        refusal = await inject(injection) if injection is not None else None
        if refusal is not None:  # before the operation runs: a refused request changes nothing
            status, headers, answered = serialize_error(refusal)
        else:
            status, headers, answered = await self._operate(scope, match, body, request_id)
        contact, caller = match.labels.get("ContactId"), self._caller(scope, op.bearer_header)
        return Answer(status, headers, answered, op.qualified_name, body or b"", contact, caller)

    def _auth_refusal(
        self, scope: dict[str, Any], method: str, path: str, body: bytes | None, match: Match | None
    ) -> ServiceError | None:
        """--strict-auth: the AWS error a request's SigV4 signature earns, or None when it is accepted or not
        checked (the Participant Service; a body refused by its size, which is refused anyway)."""
        if self._verifier is None or body is None or not signed_service(match, path):
            return None
        try:
            self._verifier.verify(signed_request(scope, method, path, body))
        except ServiceError as refused:
            return refused
        return None

    def _caller(self, scope: dict[str, Any], bearer_header: str | None) -> str | None:
        """The participant behind the call's bearer token, when the request log keeps requests."""
        if bearer_header is None or self._bearer_owner is None or not self._requests.size:
            return None
        wanted = bearer_header.encode("latin-1")
        token = next((v for k, v in scope["headers"] if k == wanted), None)
        return self._bearer_owner(token.decode("latin-1")) if token else None

    async def _operate(
        self, scope: dict[str, Any], match: Match, body: bytes | None, request_id: str
    ) -> tuple[int, Headers, bytes]:
        op = match.operation
        handler = self._handlers.get(op.service, {}).get(op.name)
        if handler is None:
            log.warning("unimplemented operation %s called", op.qualified_name)
            return serialize_error(not_implemented(op.qualified_name))
        headers_in = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if op.bearer_header and not headers_in.get(op.bearer_header):
                raise modelled(op.service, "AccessDeniedException", "Access denied: the X-Amz-Bearer header is missing")
            if body is None:
                limit = self._settings.limits.max_body_bytes
                raise ServiceError(validation_code(op, self._settings), 400, f"Request body exceeds {limit} bytes")
            query = scope.get("query_string", b"").decode("latin-1")
            params = parse_wire(
                op,
                match.labels,
                query,
                headers_in,
                body,
                self._settings.strict,
                validation_code(op, self._settings),
            )
            ctx = RequestContext(
                request_id,
                op,
                caller_scope(headers_in, self._settings),
                self._clock.now(),
                public_base(headers_in, scope, self._settings),
            )
            return serialize_response(op, await handler(ctx, params))
        except ServiceError as error:
            return serialize_error(error)
        except Exception:
            log.exception("%s failed (request %s)", op.qualified_name, request_id)
            return serialize_error(internal_error(op.service))
