"""Running the Lambda functions a flow invokes (flows.md §5.3, §6): `LambdaInvoker.invoke(Invocation)` resolves the
function (§6.1), runs it through the Invoke API, an HTTP target or a Python callable within its time limit, records
it (§6.5) and logs one line. It never raises and never blocks the event loop.

The runner builds the `Invocation` (the interpreter's event and limits) and turns the `InvocationResult` into the
flow's branch; this module knows nothing about flows, the store or the wire of Connect.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.chat.model import Scope
from parley.clock import Clock, SystemClock
from parley.ids import IdGenerator
from parley.lazy import LazyModule
from parley.outbound.records import Record, Records
from parley.settings import Settings

if TYPE_CHECKING:
    from parley.outbound import answers, functions, http_target, python_target
    from parley.outbound import sender as sending
    from parley.outbound.answers import Answer
    from parley.outbound.functions import FunctionRef, Route
    from parley.outbound.sender import Sender
else:  # what calls a function: imported by the first invocation (or mapping), not at start-up (parley/lazy.py)
    answers = LazyModule("parley.outbound.answers", globals())
    functions = LazyModule("parley.outbound.functions", globals())
    http_target = LazyModule("parley.outbound.http_target", globals())
    python_target = LazyModule("parley.outbound.python_target", globals())
    sending = LazyModule("parley.outbound.sender", globals(), "sending")

log = logging.getLogger("parley.lambda")
WARNED_KEPT = 10_000  # (function, contact) pairs remembered for the one-warning rule
OUTCOMES = ("ok", "error", "timeout", "missing")


@dataclass(frozen=True, slots=True)
class Invocation:
    function_arn: str  # the resolved LambdaFunctionARN (or a bare name)
    event: dict[str, Any]  # the ContactFlowEvent
    timeout_seconds: float  # InvocationTimeLimitSeconds; `--lambda-timeout` seconds override it
    asynchronous: bool  # InvocationType ASYNCHRONOUS: an Invoke API `Event` call
    contact_id: str
    scope: Scope


@dataclass(frozen=True, slots=True)
class InvocationResult:
    outcome: str  # ok | error | timeout | missing
    payload: Any  # the parsed JSON response (None for an `Event` call)
    error: str | None
    target: str  # endpoint | http | python | none
    duration_ms: float
    record_id: str = ""  # for `LambdaInvoker.note_branch`

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True, slots=True)
class PythonFunction:
    handler: python_target.Handler
    label: str  # `module:function`, or the callable's qualified name


if TYPE_CHECKING:
    Mapped = http_target.HttpTarget | PythonFunction


def _mapped(
    settings: Settings, callables: Mapping[str, Callable[..., Any]], sender: Callable[[], Sender]
) -> dict[str, Mapped]:
    """Every mapping; `module:function` targets are imported here, once (a failure is a SettingsError)."""
    targets: dict[str, Mapped] = {}
    for name, target in settings.lambdas.items():
        if target.startswith(("http://", "https://")):
            targets[name] = http_target.HttpTarget(target, sender())
        else:
            targets[name] = PythonFunction(python_target.load(name, target), target)
    for name, handler in callables.items():
        targets[name] = PythonFunction(handler, getattr(handler, "__qualname__", repr(handler)))
    return targets


def _kind(route: Route[Mapped]) -> str:
    if route.kind == "endpoint":
        return "endpoint"
    if isinstance(route.target, http_target.HttpTarget):
        return "http"
    return "python" if route.target is not None else "none"


class LambdaInvoker:
    def __init__(
        self,
        settings: Settings,
        callables: Mapping[str, Callable[..., Any]] | None = None,
        *,
        clock: Clock | None = None,
        ids: Callable[[], str] | None = None,
    ) -> None:
        self._settings = settings
        self._made_sender: Sender | None = None  # the HTTP client and the thread pool: made on first use
        self._made_workers: python_target.Workers | None = None
        self._targets = _mapped(settings, callables or {}, lambda: self._sender)
        endpoint = settings.lambda_endpoint
        self._api = None
        if endpoint:
            from parley.outbound.invoke_api import InvokeApi

            self._api = InvokeApi(endpoint, self._sender, settings.lambda_function_name)
        self._clock = clock or SystemClock()
        self._ids = ids or IdGenerator(None)
        self._records = Records(settings.request_log_size)
        self._warned: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()

    @property
    def _sender(self) -> Sender:
        if self._made_sender is None:
            self._made_sender = sending.Sender()
        return self._made_sender

    @property
    def _workers(self) -> python_target.Workers:
        if self._made_workers is None:
            self._made_workers = python_target.Workers(self._settings.lambda_workers)
        return self._made_workers

    def time_limit(self, flow_seconds: float) -> float:
        """`--lambda-timeout` seconds win over the action's InvocationTimeLimitSeconds."""
        return self._settings.lambda_timeout or flow_seconds

    async def invoke(self, invocation: Invocation) -> InvocationResult:
        ref = functions.parse_function(invocation.function_arn, invocation.scope)
        route = functions.resolve(ref, self._targets, self._api.endpoint if self._api else None)
        kind, request_id, started = _kind(route), self._ids(), time.monotonic()
        if kind == "none":
            self._warn_missing(ref, invocation.contact_id)
            outcome, answer = "missing", answers.failed(f"no --lambda mapping or --lambda-endpoint for {ref.name}")
        else:
            outcome, answer = await self._run(route, ref, invocation, request_id)
        duration_ms = (time.monotonic() - started) * 1000
        result = InvocationResult(outcome, answer.payload, answer.error, kind, duration_ms, request_id)
        self._record(ref, invocation, result)
        if kind != "none":
            self._log(ref, invocation, result)
        return result

    async def _run(
        self, route: Route[Mapped], ref: FunctionRef, invocation: Invocation, request_id: str
    ) -> tuple[str, Answer]:
        limit = self.time_limit(invocation.timeout_seconds)
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                answer = await self._call(route, ref, invocation, request_id, limit)
        except TimeoutError as exc:
            if deadline.expired():
                return "timeout", answers.failed(f"no answer within {limit:g} s")
            return "error", self._raised(ref, exc)
        except sending.Unreachable as exc:
            return "error", answers.failed(f"cannot reach {self._where(route)}: {exc}")
        except Exception as exc:  # a Python handler's own exception, reported with its traceback
            return "error", self._raised(ref, exc)
        return ("ok" if answer.ok else "error"), answer

    async def _call(
        self, route: Route[Mapped], ref: FunctionRef, invocation: Invocation, request_id: str, limit: float
    ) -> Answer:
        body = json.dumps(invocation.event, ensure_ascii=False).encode()
        target = route.target
        if target is None:
            assert self._api is not None
            return await self._api.invoke(ref, body, invocation.asynchronous)
        if isinstance(target, http_target.HttpTarget):
            return await target.invoke(ref.value, invocation.contact_id, body)
        context = python_target.context_for(ref.name, ref.arn, request_id, self._clock.now(), limit)
        label = f"function={ref.name} contact={invocation.contact_id} ({target.label})"
        value = await self._workers.call(target.handler, json.loads(body), context, label)
        return answers.from_return(value)

    def _where(self, route: Route[Mapped]) -> str:
        if isinstance(route.target, http_target.HttpTarget):
            return route.target.url
        return f"the Invoke API at {self._api.endpoint}" if self._api else "the target"

    def _raised(self, ref: FunctionRef, exc: BaseException) -> Answer:
        log.error("lambda.error function=%s raised %s", ref.name, type(exc).__name__, exc_info=exc)
        return answers.failed(f"{type(exc).__name__}: {exc}")

    def _warn_missing(self, ref: FunctionRef, contact_id: str) -> None:
        key = (ref.value, contact_id)
        if key in self._warned:
            return
        self._warned[key] = None
        if len(self._warned) > WARNED_KEPT:
            self._warned.popitem(last=False)
        log.warning("%s", functions.missing_message(ref, contact_id))

    def _record(self, ref: FunctionRef, invocation: Invocation, result: InvocationResult) -> None:
        record = Record(
            id=result.record_id,
            time=self._clock.now(),
            function=ref.value,
            name=ref.name,
            contact=invocation.contact_id,
            target=result.target,
            invocation_type="Event" if invocation.asynchronous else "RequestResponse",
            event=invocation.event,
            outcome=result.outcome,
            response=result.payload,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        self._records.add(record)

    def _log(self, ref: FunctionRef, invocation: Invocation, result: InvocationResult) -> None:
        line = (
            f"lambda.invoke function={ref.name} target={result.target} outcome={result.outcome} "
            f"{result.duration_ms:.0f}ms contact={invocation.contact_id}"
        )
        if result.outcome == "ok":
            log.info("%s", line)
        elif result.outcome == "timeout":
            log.warning("%s — %s; %s", line, result.error, _timeout_hint(result.target))
        else:
            log.warning("%s — %s", line, result.error)

    def records(
        self, contact: str | None = None, function: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Recent invocations, oldest first (`GET /_parley/lambda/invocations`)."""
        return self._records.select(contact, function, limit)

    @property
    def record_size(self) -> int:
        return self._records.size

    def note_branch(self, record_id: str, branch: str) -> bool:
        """The branch the flow took after this invocation, shown in its record; False when it is no longer kept."""
        return self._records.note_branch(record_id, branch)

    def clear_records(self) -> int:
        return self._records.clear()

    def close(self) -> None:
        if self._made_workers is not None:
            self._made_workers.close()

    async def aclose(self) -> None:
        if self._made_sender is not None:
            await self._made_sender.aclose()
        self.close()


def _timeout_hint(target: str) -> str:
    raise_it = "raise the limit with --lambda-timeout 30 or PARLEY_LAMBDA_TIMEOUT=30"
    if target == "endpoint":
        sam = "a SAM container's cold start can take longer: use sam local start-lambda --warm-containers EAGER"
        return f"{sam}, or {raise_it}"
    return raise_it
