"""Python callables as Lambda functions (flows.md §6.4): `--lambda NAME=package.module:function` and
`parley.Server(lambdas={"startBot": handler})`.

`load` imports a `module:function` once, at startup. `Workers` runs `handler(event, context)` on a thread pool of
`--lambda-workers` threads, so the event loop keeps serving the function's own calls back to Parley; a coroutine
function (or any awaitable it returns) runs to completion on that thread's own event loop. A thread cannot be
killed: the caller stops waiting at the time limit, and `Workers` logs the late result and discards it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.settings import SettingsError

log = logging.getLogger("parley.lambda")
Handler = Callable[..., Any]


def load(name: str, target: str) -> Handler:
    """`package.module:attr[.attr]` imported now; any failure is a SettingsError naming the mapping."""
    module_name, _, attribute = target.partition(":")
    where = f"--lambda {name}={target}"
    try:
        value: Any = importlib.import_module(module_name)
    except Exception as exc:  # an import error, or the module's own code failing (a client built at import)
        raise SettingsError(f"{where}: cannot import {module_name}: {type(exc).__name__}: {exc}") from exc
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise SettingsError(f"{where}: {module_name} has no attribute {attribute!r}")
        value = getattr(value, part)
    if not callable(value):
        raise SettingsError(f"{where}: {attribute} is a {type(value).__name__}, not a function")
    return value  # type: ignore[no-any-return]


@dataclass
class LambdaContext:
    """The `context` a handler receives, with the members of the Lambda Python runtime's."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float  # time.monotonic() at the time limit
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def context_for(name: str, arn: str, request_id: str, now: datetime, seconds: float) -> LambdaContext:
    return LambdaContext(
        function_name=name,
        invoked_function_arn=arn,
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name=f"{now:%Y/%m/%d}/[$LATEST]{request_id.replace('-', '')}",
        deadline=time.monotonic() + seconds,
    )


class Workers:
    """The thread pool, and one event loop per thread for coroutine handlers."""

    def __init__(self, size: int) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="parley-lambda")
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
            with self._lock:
                self._loops.append(loop)
        return loop

    def _run(self, handler: Handler, event: Any, context: LambdaContext) -> Any:
        result = handler(event, context)
        if inspect.isawaitable(result):
            return self._loop().run_until_complete(_awaited(result))
        return result

    async def call(self, handler: Handler, event: Any, context: LambdaContext, label: str) -> Any:
        """The handler's return value, raising what it raised; cancelled (the time limit), it keeps running and
        its late result is logged and discarded."""
        future = self._pool.submit(self._run, handler, event, context)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.add_done_callback(lambda done: _discard_late(done, label))
            raise

    def close(self) -> None:
        """Stops taking work; a handler still running finishes on its thread (it cannot be killed)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            if not loop.is_running() and not loop.is_closed():
                loop.close()


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _discard_late(done: concurrent.futures.Future[Any], label: str) -> None:
    if done.cancelled():
        log.warning("lambda.late %s: cancelled before a worker thread was free; it never ran", label)
    elif done.exception() is not None:
        log.warning("lambda.late %s: raised after its time limit (discarded): %r", label, done.exception())
    else:
        log.warning("lambda.late %s: returned after its time limit; the result is discarded", label)
