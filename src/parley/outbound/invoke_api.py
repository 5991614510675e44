"""The Lambda Invoke API client (flows.md §6.2): what `sam local start-lambda` and LocalStack serve.

`POST {endpoint}/2015-03-31/functions/{FunctionName}/invocations[?Qualifier=…]`, the event as the body,
`X-Amz-Invocation-Type: RequestResponse | Event`, signed with SigV4 by botocore's own signer (dummy `test`/`test`
credentials, the ARN's Region, service `lambda`). An `X-Amz-Function-Error` header marks a function error.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

from parley.outbound.answers import Answer, failed, from_body, function_error, quoted
from parley.outbound.functions import FunctionRef
from parley.outbound.sender import Reply, Sender

log = logging.getLogger("parley.lambda")
DUMMY_KEY = "test"
SAFE = "-._~"  # what botocore leaves unescaped in a URI label, so ':' in an ARN is sent as %3A
API_VERSION = "2015-03-31"


def invocation_url(endpoint: str, ref: FunctionRef, name_mode: str) -> str:
    """The Invoke URL; `name_mode` `arn` names the function by its unqualified ARN, `name` by its name."""
    function = ref.unqualified_arn if name_mode == "arn" else ref.name
    url = f"{endpoint}/{API_VERSION}/functions/{quote(function, safe=SAFE)}/invocations"
    return url + (f"?Qualifier={quote(ref.qualifier, safe=SAFE)}" if ref.qualifier else "")


def signed_headers(url: str, body: bytes, region: str, asynchronous: bool) -> dict[str, str]:
    """The request's headers with SigV4's `X-Amz-Date` and `Authorization` (botocore's signer, imported on first
    use: `parley serve` without an endpoint does not pay for it at startup)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {
        "Content-Type": "application/json",
        "X-Amz-Invocation-Type": "Event" if asynchronous else "RequestResponse",
    }
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(DUMMY_KEY, DUMMY_KEY), "lambda", region).add_auth(request)
    return dict(request.headers.items())


def _refusal(reply: Reply) -> str:
    """`Invoke API answered HTTP 404 ResourceNotFoundException: Function not found: …`."""
    kind = reply.headers.get("x-amzn-errortype", "").split(":", 1)[0]
    message = _message(reply.body) or quoted(reply.body)
    return f"Invoke API answered HTTP {reply.status}{' ' + kind if kind else ''}: {message}"


def _message(raw: bytes) -> str | None:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    value = document.get("message") or document.get("Message") or document.get("errorMessage")
    return str(value) if value is not None else None


def interpret(reply: Reply, asynchronous: bool) -> Answer:
    """200 (RequestResponse) or 202 (Event) is an answer, unless `X-Amz-Function-Error` says the function failed."""
    if reply.status not in (200, 202, 204):
        return failed(_refusal(reply))
    kind = reply.headers.get("x-amz-function-error")
    if kind:
        return failed(function_error(kind, reply.body))
    if asynchronous:
        return Answer(True, None)
    return from_body(reply.body)


def event_unsupported(reply: Reply) -> bool:
    """`sam local start-lambda` answers an `Event` call 501 NotImplemented ("RequestResponse is only supported")."""
    return reply.status == 501 or reply.headers.get("x-amzn-errortype", "").startswith("NotImplemented")


class InvokeApi:
    def __init__(self, endpoint: str, sender: Sender, name_mode: str) -> None:
        self.endpoint = endpoint
        self._sender = sender
        self._name_mode = name_mode
        self._events = True  # False once the endpoint has refused an `Event` call

    async def invoke(self, ref: FunctionRef, body: bytes, asynchronous: bool) -> Answer:
        """An ASYNCHRONOUS block is an `Event` call; where the endpoint takes none (sam local), a RequestResponse
        call runs the function instead, and the flow, which does not wait, ignores its answer."""
        if asynchronous and self._events:
            reply = await self._post(ref, body, True)
            if not event_unsupported(reply):
                return interpret(reply, True)
            self._events = False
            log.info("lambda.event-unsupported endpoint=%s — ASYNCHRONOUS calls go as RequestResponse", self.endpoint)
        return interpret(await self._post(ref, body, False), False)

    async def _post(self, ref: FunctionRef, body: bytes, asynchronous: bool) -> Reply:
        url = invocation_url(self.endpoint, ref, self._name_mode)
        return await self._sender.post(url, body, lambda: signed_headers(url, body, ref.region, asynchronous))
