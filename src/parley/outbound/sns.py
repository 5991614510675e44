"""Where a stream's messages go (streaming.md §4): the SNS Publish API (botocore-signed, over outbound/http1.py), a
webhook receiving SNS HTTP notifications, a Lambda function (through the `LambdaCall` protocol the app wires
to its invoker), a Python callable, `capture` and `drop`. Each target delivers one message or raises
`DeliveryFailed`; retries, order and the dead list are the delivery worker's (services/streams.py).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from parley.outbound.http1 import Http1Client, HttpError
from parley.outbound.sns_format import Published, lambda_event, subscription_arn

if TYPE_CHECKING:
    from botocore.credentials import Credentials

RETRYABLE_SNS = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "NotFound", "InternalError"})
CODE = re.compile(r"<Code>([^<]+)</Code>")


class DeliveryFailed(Exception):
    """A target did not take the message; `retryable` False sends it to the dead list at once."""

    def __init__(self, error: str, retryable: bool = True) -> None:
        super().__init__(error)
        self.error = error
        self.retryable = retryable


class LambdaCall(Protocol):
    """Runs a Lambda function synchronously (RequestResponse): (ok, error). The app wires it to its invoker."""

    async def __call__(self, function_name: str, event: dict[str, Any]) -> tuple[bool, str | None]: ...


class Target(Protocol):
    kind: str

    async def deliver(self, message: Published, note: dict[str, Any]) -> None: ...


class HttpClient:
    """Every outbound POST of the stream targets; a failure to get an answer is a DeliveryFailed."""

    def __init__(self) -> None:
        self._client = Http1Client()

    async def post(self, url: str, data: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        try:
            return await self._client.post(url, data, headers)
        except HttpError as exc:
            raise DeliveryFailed(str(exc)) from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None

    async def aclose(self) -> None:
        await self._client.aclose()


class SnsPublish:
    """Publish (query protocol) signed with SigV4 in the topic's Region; dummy credentials unless `aws`."""

    kind = "sns"

    def __init__(self, endpoint: str, http: HttpClient, credentials: Callable[[], Credentials | None]) -> None:
        self._endpoint = endpoint
        self._http = http
        self._credentials = credentials

    def _url(self, region: str) -> str:
        return f"https://sns.{region}.amazonaws.com/" if self._endpoint == "aws" else self._endpoint + "/"

    async def deliver(self, message: Published, note: dict[str, Any]) -> None:
        region = message.topic_arn.split(":")[3]
        url = self._url(region)
        params = {
            "Action": "Publish",
            "Version": "2010-03-31",
            "TopicArn": message.topic_arn,
            "Message": message.message,
        }
        for n, (name, value) in enumerate(message.attributes.items(), start=1):
            prefix = f"MessageAttributes.entry.{n}"
            params |= {f"{prefix}.Name": name, f"{prefix}.Value.DataType": "String"}
            params[f"{prefix}.Value.StringValue"] = value
        data = urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        from botocore.auth import SigV4Auth  # imported on first use: not on `parley serve`'s startup path
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        credentials = await asyncio.to_thread(self._credentials) if self._endpoint == "aws" else None
        request = AWSRequest(method="POST", url=url, data=data, headers=headers)
        SigV4Auth(credentials or Credentials("test", "test"), "sns", region).add_auth(request)
        status, text = await self._http.post(url, data, dict(request.headers.items()))
        if 200 <= status < 300 and "<MessageId>" in text:
            return
        found = CODE.search(text)
        code = found.group(1) if found else "NoMessageId"
        retryable = status >= 500 or status == 429 or code in RETRYABLE_SNS
        raise DeliveryFailed(f"SNS answered {status} {code}", retryable)


class Webhook:
    """A POST as SNS sends to an HTTP(S) subscription; any 2xx is delivery."""

    kind = "http"

    def __init__(self, url: str, http: HttpClient) -> None:
        self._url = url
        self._http = http

    async def deliver(self, message: Published, note: dict[str, Any]) -> None:
        headers = {
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": message.message_id,
            "x-amz-sns-topic-arn": message.topic_arn,
            "x-amz-sns-subscription-arn": subscription_arn(message.topic_arn, message.streaming_id),
            "Content-Type": "text/plain; charset=UTF-8",
        }
        status, _ = await self._http.post(self._url, json.dumps(note).encode(), headers)
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")


class LambdaTarget:
    """The SNS-to-Lambda event, invoked RequestResponse; a function error or timeout is a failed delivery."""

    kind = "lambda"

    def __init__(self, function_name: str, call: LambdaCall | None) -> None:
        self._name = function_name
        self._call = call

    async def deliver(self, message: Published, note: dict[str, Any]) -> None:
        if self._call is None:
            raise DeliveryFailed(f"no Lambda invoker is configured for lambda:{self._name}")
        ok, error = await self._call(self._name, lambda_event(message, note))
        if not ok:
            raise DeliveryFailed(error or "FunctionError")


class PythonTarget:
    """`fn(notification)` on a delivery worker thread: returning is delivery, an exception a failure."""

    kind = "python"

    def __init__(self, fn: Callable[[dict[str, Any]], Any], threads: ThreadPoolExecutor) -> None:
        self._fn = fn
        self._threads = threads

    async def deliver(self, message: Published, note: dict[str, Any]) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, self._fn, note)
        except Exception as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None


class Kept:
    """`capture` (kept at /_parley/sns/messages only) and `drop` (discarded, counted)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def deliver(self, message: Published, note: dict[str, Any]) -> None:
        return None
