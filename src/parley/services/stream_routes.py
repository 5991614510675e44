"""Which target a topic's messages go to (streaming.md §4), the targets themselves, and the captured messages.

`Routes.route(arn)` runs when a stream starts: `--sns` by full ARN, then by topic name, then Python callables
given to `parley.Server(sns=…)`, then `--sns-endpoint`, else `capture` (or InvalidRequestException under
PARLEY_SNS_UNROUTED=reject). `Targets.target(stream)` turns the stored choice into an outbound target.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from parley.chat.errors import Invalid
from parley.chat.model import Scope, Stream
from parley.lazy import LazyModule
from parley.outbound.lambdas import Invocation, LambdaInvoker
from parley.outbound.sns import (
    HttpClient,
    Kept,
    LambdaCall,
    LambdaTarget,
    PythonTarget,
    SnsPublish,
    Target,
    Webhook,
)
from parley.settings import Settings

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from parley.chat import streams
else:
    streams = LazyModule("parley.chat.streams", globals())  # imported on first use (parley/lazy.py)

log = logging.getLogger("parley.streams")
SnsCallable = Callable[[dict[str, Any]], Any]
INVOKE_TIMEOUT = 9.0  # inside the delivery worker's 10 s per attempt


class Routes:
    def __init__(self, settings: Settings, callables: Mapping[str, SnsCallable]) -> None:
        self._settings = settings
        self._callables = dict(callables)
        self._warned: set[str] = set()

    def route(self, arn: str) -> streams.Route:
        name = arn.rsplit(":", 1)[-1]
        for key in (arn, name):
            for configured in self._settings.sns_targets:
                if configured.topic == key:
                    return streams.Route(configured.target, dict(configured.filter) if configured.filter else None)
            if key in self._callables:
                return streams.Route(f"python:{key}")
        if self._settings.sns_endpoint:
            return streams.Route("sns")
        if self._settings.sns_unrouted == "reject":
            raise Invalid(
                f"No delivery is configured for topic {arn} (PARLEY_SNS_UNROUTED=reject): "
                f"start Parley with --sns {arn}=http://… or --sns-endpoint"
            )
        if arn not in self._warned:
            self._warned.add(arn)
            log.warning(
                "sns.unrouted topic=%s — messages are kept at /_parley/sns/messages; deliver them with "
                "--sns %s=http://… or --sns-endpoint",
                arn,
                arn,
            )
        return streams.Route("capture")


def kind_of(target: str) -> str:
    """The `target` a stream reports: sns | http | lambda | python | capture | drop."""
    if target.startswith(("http://", "https://")):
        return "http"
    return target.split(":", 1)[0]


class Targets:
    """Builds (and keeps) one outbound target per configured target string."""

    def __init__(
        self, settings: Settings, callables: Mapping[str, SnsCallable], lambda_call: LambdaCall | None
    ) -> None:
        self._settings = settings
        self._callables = dict(callables)
        self.lambda_call = lambda_call
        self.http = HttpClient()
        self._threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="parley-sns")
        self._built: dict[str, Target] = {}
        self._aws: Credentials | None = None

    def target(self, stream: Stream) -> Target:
        built = self._built.get(stream.target)
        if built is None:
            built = self._build(stream.target)
            self._built[stream.target] = built
        return built

    def _build(self, target: str) -> Target:
        kind = kind_of(target)
        if kind == "http":
            return Webhook(target, self.http)
        if kind == "lambda":
            return LambdaTarget(target.split(":", 1)[1], _Late(self))
        if kind == "python":
            fn = self._callables.get(target.split(":", 1)[1])
            return PythonTarget(fn, self._threads) if fn else _Missing(target)
        if kind == "sns":
            return SnsPublish(self._settings.sns_endpoint or "aws", self.http, self._credentials)
        return Kept(kind)

    def _credentials(self) -> Credentials | None:
        if self._aws is None:
            import botocore.session  # only for `--sns-endpoint aws`

            self._aws = botocore.session.get_session().get_credentials()
        return self._aws

    async def aclose(self) -> None:
        await self.http.aclose()
        self._threads.shutdown(wait=False)


class InvokerLambdaCall:
    """`lambda:NAME` stream targets through the flows' Lambda invoker (flows.md §6.1: `lambdas=`, `module:function`,
    `--lambda-endpoint`), invoked RequestResponse with the SNS event; any outcome but `ok` is a failed delivery."""

    def __init__(self, invoker: LambdaInvoker) -> None:
        self._invoker = invoker

    async def __call__(self, function_name: str, event: dict[str, Any]) -> tuple[bool, str | None]:
        sns = event["Records"][0]["Sns"]
        attributes = sns["MessageAttributes"]
        region = str(sns["TopicArn"]).split(":")[3]
        scope = Scope(attributes["AccountId"]["Value"], region)
        contact = attributes["ContactId"]["Value"]
        invocation = Invocation(function_name, event, INVOKE_TIMEOUT, False, contact, scope)
        result = await self._invoker.invoke(invocation)
        if result.outcome == "ok":
            return True, None
        return False, f"{result.outcome}: {result.error}" if result.error else result.outcome


class _Late:
    """The Lambda call as it is when a message is delivered (the app may wire it after building)."""

    def __init__(self, targets: Targets) -> None:
        self._targets = targets

    async def __call__(self, function_name: str, event: dict[str, Any]) -> tuple[bool, str | None]:
        call = self._targets.lambda_call
        if call is None:
            return False, f"no Lambda invoker is configured for lambda:{function_name}"
        return await call(function_name, event)


class _Missing:
    kind = "python"

    def __init__(self, target: str) -> None:
        self._target = target

    async def deliver(self, message: Any, note: dict[str, Any]) -> None:
        from parley.outbound.sns import DeliveryFailed

        raise DeliveryFailed(f"no Python callable for {self._target} in this process", retryable=False)


class Captures:
    """The last PARLEY_SNS_CAPTURE notifications per topic, whatever their target (`drop` aside)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._topics: dict[str, deque[dict[str, Any]]] = {}

    def keep(self, note: dict[str, Any]) -> None:
        if self._size:
            self._topics.setdefault(note["TopicArn"], deque(maxlen=self._size)).append(note)

    def list(self, topic: str | None, contact: str | None, limit: int) -> list[dict[str, Any]]:
        found = [
            note
            for arn, notes in self._topics.items()
            if topic in (None, arn, arn.rsplit(":", 1)[-1])
            for note in notes
            if contact is None or contact in (_attr(note, "ContactId"), _attr(note, "InitialContactId"))
        ]
        found.sort(key=lambda note: str(note["Timestamp"]))
        return found[-limit:] if limit else found

    def clear(self, account: str | None, instance_id: str | None) -> int:
        removed = 0
        for notes in self._topics.values():
            keep = [
                n
                for n in notes
                if (account is not None and _attr(n, "AccountId") != account)
                or (instance_id is not None and _attr(n, "InstanceId") != instance_id)
            ]
            removed += len(notes) - len(keep)
            notes.clear()
            notes.extend(keep)
        return removed


def _attr(note: dict[str, Any], name: str) -> str | None:
    value = note["MessageAttributes"].get(name)
    return value["Value"] if value else None
