"""flows.md §6.4: Python handlers, loaded once by `module:function`, run on worker threads with a Lambda context."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.outbound.python_target import LambdaContext, Workers, context_for, load
from parley.settings import SettingsError


def test_load_imports_module_function_and_dotted_attributes() -> None:
    assert load("f", "json:dumps") is __import__("json").dumps
    assert load("f", "datetime:datetime.now") == datetime.now


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_here:handler", "--lambda f=no_such_module_here:handler: cannot import no_such_module_here: "),
        ("json:no_such_function", "--lambda f=json:no_such_function: json has no attribute 'no_such_function'"),
        ("json:__doc__", "--lambda f=json:__doc__: __doc__ is a str, not a function"),
    ],
)
def test_a_target_that_cannot_be_loaded_is_a_settings_error_naming_the_mapping(target: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load("f", target)
    assert str(raised.value).startswith(message)


def test_the_context_has_the_lambda_runtime_members() -> None:
    context = context_for("startBot", "arn:aws:lambda:us-east-1:1:function:startBot", "ab-cd", _now(), 3)
    assert (context.function_name, context.function_version, context.memory_limit_in_mb) == (
        "startBot",
        "$LATEST",
        128,
    )
    assert context.log_group_name == "/aws/lambda/startBot"
    assert context.log_stream_name == "2026/01/02/[$LATEST]abcd"
    assert 2500 <= context.get_remaining_time_in_millis() <= 3000
    assert context.identity is None and context.client_context is None


def _now() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _context(seconds: float = 5) -> LambdaContext:
    return context_for("f", "arn", "id", _now(), seconds)


def test_a_handler_runs_on_a_worker_thread_and_a_coroutine_on_that_threads_own_loop() -> None:
    workers = Workers(2)

    def plain(event: Any, context: LambdaContext) -> Any:
        return {"thread": threading.current_thread().name, "event": event}

    async def coroutine(event: Any, context: LambdaContext) -> Any:
        await asyncio.sleep(0.01)
        return {"thread": threading.current_thread().name, "loop": id(asyncio.get_running_loop())}

    async def main() -> tuple[Any, Any, Any]:
        loop_id = id(asyncio.get_running_loop())
        first = await workers.call(plain, {"x": 1}, _context(), "plain")
        second = await workers.call(coroutine, {}, _context(), "coroutine")
        return first, second, loop_id

    try:
        first, second, caller_loop = asyncio.run(main())
    finally:
        workers.close()
    assert first == {"thread": first["thread"], "event": {"x": 1}} and first["thread"].startswith("parley-lambda")
    assert second["thread"].startswith("parley-lambda") and second["loop"] != caller_loop


def test_a_late_result_is_discarded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    workers = Workers(1)
    finished = threading.Event()

    def slow(event: Any, context: LambdaContext) -> Any:
        time.sleep(0.3)
        finished.set()
        return {"late": True}

    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await workers.call(slow, {}, _context(), "function=slow contact=c")

    caplog.set_level(logging.WARNING, "parley.lambda")
    try:
        asyncio.run(main())
        assert finished.wait(5)
        time.sleep(0.05)
    finally:
        workers.close()
    assert any(
        "lambda.late function=slow contact=c: returned after its time limit; the result is discarded" in r.message
        for r in caplog.records
    )
