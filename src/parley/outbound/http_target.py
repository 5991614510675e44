"""An HTTP target (flows.md §6.3): `--lambda NAME=http://HOST/PATH`.

The event is POSTed as `application/json` with `X-Parley-Function: <ARN>` and `X-Parley-Contact-Id`. A 2xx JSON body
is the response and is never retried; a non-2xx status, an `X-Amz-Function-Error` header or a body that is not JSON
is an error. 429, 5xx and connection errors are retried as an Invoke API call is (§5.3).
"""

from __future__ import annotations

from parley.outbound.answers import Answer, failed, from_body, function_error, quoted
from parley.outbound.sender import Reply, Sender


def interpret(reply: Reply) -> Answer:
    if not 200 <= reply.status < 300:
        return failed(f"HTTP target answered {reply.status}: {quoted(reply.body)}")
    kind = reply.headers.get("x-amz-function-error")
    if kind:
        return failed(function_error(kind, reply.body))
    return from_body(reply.body)


class HttpTarget:
    def __init__(self, url: str, sender: Sender) -> None:
        self.url = url
        self._sender = sender

    async def invoke(self, function: str, contact_id: str, body: bytes) -> Answer:
        headers = {
            "Content-Type": "application/json",
            "X-Parley-Function": function,
            "X-Parley-Contact-Id": contact_id,
        }
        return interpret(await self._sender.post(self.url, body, lambda: headers))
