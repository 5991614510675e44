"""Servers a Lambda invocation goes out to, for the tests: a Lambda Invoke API (the wire `sam local start-lambda` and
LocalStack speak, checked with boto3's own `lambda` client) and a plain HTTP target. Both are raw ASGI apps on
uvicorn in a background thread, on a free port, and record every request they get.

Functions of the Invoke API, by name: `ok` (echoes what it got), `fails` (a function error), `flaky` (answers the
statuses queued in `flaky` first), `slow` (answers after `slow_seconds`), `big` (40 KB), `text` (not JSON); any
other name is not found. An `Event` call is accepted with 202 and an empty body.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import uvloop
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from parley.serving import bind, run, url_of, uvicorn_server

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass
class Seen:
    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    client_port: int = 0

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string))

    def json(self) -> Any:
        return json.loads(self.body)


async def _read(receive: Any) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


async def _answer(send: Any, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    pairs = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    pairs.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": body})


async def _seen(scope: dict[str, Any], receive: Any) -> Seen:
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    raw_path = scope.get("raw_path", scope["path"].encode()).decode()
    port = (scope.get("client") or ("", 0))[1]
    return Seen(scope["method"], raw_path, scope["query_string"].decode(), headers, await _read(receive), port)


@dataclass
class InvokeApiServer:
    """The Lambda Invoke API: `POST /2015-03-31/functions/{FunctionName}/invocations`."""

    seen: list[Seen] = field(default_factory=list)
    flaky: list[int] = field(default_factory=list)  # statuses `flaky` answers before it succeeds
    slow_seconds: float = 2.0
    events: bool = True  # False: an `Event` call is refused as `sam local start-lambda` refuses it

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen = await _seen(scope, receive)
        self.seen.append(seen)
        match = INVOKE_PATH.match(seen.raw_path.split("?", 1)[0])
        if seen.method != "POST" or match is None:
            await _answer(send, 404, b'{"message":"no such route"}', {"x-amzn-ErrorType": "UnknownOperation"})
            return
        function = unquote(match[1])
        await self._invoke(function, seen, send)

    async def _invoke(self, function: str, seen: Seen, send: Any) -> None:
        name = function.rsplit(":function:", 1)[-1].split(":")[0]
        ok = {"x-amzn-RequestId": "0" * 8, "X-Amz-Executed-Version": "$LATEST", "content-type": "application/json"}
        if name not in ("ok", "fails", "flaky", "slow", "big", "text"):
            arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
            missing = {"Type": "User", "message": f"Function not found: {arn}"}
            headers = {"x-amzn-ErrorType": "ResourceNotFoundException", "content-type": "application/json"}
            await _answer(send, 404, json.dumps(missing).encode(), headers)
            return
        if name == "flaky" and self.flaky:
            status = self.flaky.pop(0)
            code = "TooManyRequestsException" if status == 429 else "ServiceException"
            body = json.dumps({"Type": "Service", "message": f"{code} from the test server"}).encode()
            await _answer(send, status, body, {"x-amzn-ErrorType": code, "content-type": "application/json"})
            return
        if seen.headers.get("x-amz-invocation-type") == "Event":
            if not self.events:
                message = "invocation-type: Event is not supported. RequestResponse is only supported."
                refusal = json.dumps({"Type": "LocalService", "Message": message}).encode()
                await _answer(send, 501, refusal, {"x-amzn-errortype": "NotImplemented"})
                return
            await _answer(send, 202, b"", ok)
            return
        await _answer(send, 200, *await self._result(name, function, seen, ok))

    async def _result(self, name: str, function: str, seen: Seen, ok: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        if name == "fails":
            error = {"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []}
            return json.dumps(error).encode(), {**ok, "X-Amz-Function-Error": "Unhandled"}
        if name == "slow":
            await asyncio.sleep(self.slow_seconds)
        if name == "big":
            return json.dumps({"padding": "x" * 40_000}).encode(), ok
        if name == "text":
            return b"this is not JSON", ok
        answer = {"status": "success", "function": function, "qualifier": seen.query.get("Qualifier")}
        return json.dumps({**answer, "event": seen.json()}).encode(), ok


@dataclass
class HttpTargetServer:
    """An HTTP target: `/ok` echoes, `/bad` 400, `/flaky` 503 then ok, `/text` not JSON, `/slow` late, `/fails` a
    function error header."""

    seen: list[Seen] = field(default_factory=list)
    flaky: list[int] = field(default_factory=lambda: [503])
    slow_seconds: float = 2.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen = await _seen(scope, receive)
        self.seen.append(seen)
        path = scope["path"]
        if path == "/bad":
            await _answer(send, 400, b'{"message":"bad request"}')
        elif path == "/flaky" and self.flaky:
            await _answer(send, self.flaky.pop(0), b"try again")
        elif path == "/text":
            await _answer(send, 200, b"<html>not json</html>", {"content-type": "text/html"})
        elif path == "/fails":
            await _answer(
                send, 200, b'{"errorMessage":"nope","errorType":"ValueError"}', {"X-Amz-Function-Error": "Handled"}
            )
        else:
            if path == "/slow":
                await asyncio.sleep(self.slow_seconds)
            echo = {"status": "success", "path": path, "event": seen.json()}
            await _answer(send, 200, json.dumps(echo).encode(), {"content-type": "application/json"})


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serves `app` on a free loopback port in a thread; yields its base URL, stops it after the block."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn_server(app, lifespan="off")
    ready = threading.Event()
    thread = threading.Thread(target=lambda: uvloop.run(run(server, sock, ready.set)), daemon=True)
    thread.start()
    assert ready.wait(10), "the test server did not start"
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def sigv4_valid(seen: Seen, secret: str = "test") -> bool:
    """Recomputes the request's SigV4 signature with botocore from what arrived on the wire (raw path, query,
    the signed headers, the body) and compares it with the one sent."""
    match = AUTHORIZATION.match(seen.headers.get("authorization", ""))
    if match is None:
        return False
    names = match["signed"].split(";")
    headers = {name: seen.headers[name] for name in names}
    query = f"?{seen.query_string}" if seen.query_string else ""
    request = AWSRequest(method=seen.method, url=f"http://{headers['host']}{seen.raw_path}{query}", data=seen.body)
    for name, value in headers.items():
        request.headers[name] = value
    request.context["timestamp"] = seen.headers["x-amz-date"]
    signer = SigV4Auth(Credentials(match["key"], secret), match["service"], match["region"])
    canonical = signer.canonical_request(request)
    return bool(signer.signature(signer.string_to_sign(request, canonical), request) == match["signature"])


def credential_scope(seen: Seen) -> tuple[str, str]:
    """(region, service) the request was signed for."""
    match = AUTHORIZATION.match(seen.headers.get("authorization", ""))
    assert match is not None, seen.headers.get("authorization")
    return match["region"], match["service"]
