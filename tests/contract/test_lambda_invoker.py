"""Running Lambda functions locally (flows.md §5.3, §6), over real sockets: the Invoke API (a server whose wire is
proven with boto3's own `lambda` client), an HTTP target, Python callables in `parley.Server` and `module:function`
handlers in `parley serve`; resolution, the missing-function warning, the record and its admin API and CLI."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from parley.chat.model import Scope
from parley.outbound.lambdas import Invocation, InvocationResult, LambdaInvoker
from parley.settings import Settings, configure
from parley.testing import ParleyServer
from tests.conftest import RunningParley
from tests.conftest import _drain as drain
from tests.contract.lambda_servers import (
    HttpTargetServer,
    InvokeApiServer,
    credential_scope,
    serving,
    sigv4_valid,
)

SCOPE = Scope("123456789012", "us-east-1")
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:{}"
DEAD = "http://127.0.0.1:1"  # nothing listens on port 1
LOG_LINE = re.compile(r"^lambda\.invoke function=(\S+) target=(\S+) outcome=(\S+) (\d+)ms contact=(\S+)")


@pytest.fixture(scope="module")
def api_server() -> Iterator[tuple[InvokeApiServer, str]]:
    api = InvokeApiServer()
    with serving(api) as url:
        yield api, url


@pytest.fixture
def api(api_server: tuple[InvokeApiServer, str]) -> tuple[InvokeApiServer, str]:
    server, url = api_server
    server.seen.clear()
    server.flaky.clear()
    server.slow_seconds = 2.0
    server.events = True
    return server, url


@pytest.fixture(scope="module")
def target_server() -> Iterator[tuple[HttpTargetServer, str]]:
    target = HttpTargetServer()
    with serving(target) as url:
        yield target, url


@pytest.fixture
def target(target_server: tuple[HttpTargetServer, str]) -> tuple[HttpTargetServer, str]:
    server, url = target_server
    server.seen.clear()
    server.flaky[:] = [503]
    return server, url


def call(
    function: str, contact: str = "c-1", timeout: float = 3, asynchronous: bool = False, event: Any = None
) -> Invocation:
    return Invocation(function, event or {"Name": "ContactFlowEvent"}, timeout, asynchronous, contact, SCOPE)


def run(settings: Settings, *invocations: Invocation, callables: Any = None) -> tuple[list[InvocationResult], Any]:
    """Each invocation in turn on one event loop; the results and the invoker (closed) for its records."""

    async def main() -> tuple[list[InvocationResult], LambdaInvoker]:
        invoker = LambdaInvoker(settings, callables)
        try:
            return [await invoker.invoke(invocation) for invocation in invocations], invoker
        finally:
            await invoker.aclose()

    return asyncio.run(main())


def one(settings: Settings, invocation: Invocation, callables: Any = None) -> InvocationResult:
    return run(settings, invocation, callables=callables)[0][0]


# -- the test server speaks the Invoke wire: boto3's own lambda client is the oracle -----------------------------
def test_the_test_invoke_api_is_what_boto3s_lambda_client_calls(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    client = boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    answered = client.invoke(FunctionName="ok", Payload=b'{"a":1}')
    assert answered["StatusCode"] == 200 and "FunctionError" not in answered
    assert json.loads(answered["Payload"].read())["event"] == {"a": 1}
    failed = client.invoke(FunctionName=ARN.format("fails"), Qualifier="prod", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled" and json.loads(failed["Payload"].read())["errorMessage"] == "boom"
    assert client.invoke(FunctionName="ok", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nothing", Payload=b"{}")
    assert server.seen[1].query == {"Qualifier": "prod"}
    assert all(sigv4_valid(seen) for seen in server.seen)  # the verifier accepts botocore's own signatures
    server.seen[0].headers["x-amz-date"] = "20200101T000000Z"
    assert not sigv4_valid(server.seen[0])  # and refuses a changed request


# -- Parley's Invoke API client ---------------------------------------------------------------------------------
def test_invoke_api_ok_is_a_signed_request_response_call_by_name(
    api: tuple[InvokeApiServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = api
    caplog.set_level(logging.INFO, "parley.lambda")
    event = {"Name": "ContactFlowEvent", "Details": {"Parameters": {"k": "v"}}}
    result = one(configure(lambda_endpoint=url), call(ARN.format("ok"), event=event))
    assert (result.outcome, result.target, result.error) == ("ok", "endpoint", None)
    assert result.payload == {"status": "success", "function": "ok", "qualifier": None, "event": event}
    [seen] = server.seen
    assert seen.method == "POST" and seen.raw_path == "/2015-03-31/functions/ok/invocations"
    assert seen.headers["x-amz-invocation-type"] == "RequestResponse" and seen.query == {}
    assert sigv4_valid(seen) and credential_scope(seen) == ("eu-west-1", "lambda")
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("lambda.invoke")]
    found = LOG_LINE.match(line)
    assert found is not None and found.group(1, 2, 3, 5) == ("ok", "endpoint", "ok", "c-1")


def test_invoke_api_qualifier_and_arn_naming(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    qualified = ARN.format("ok") + ":prod"
    assert one(configure(lambda_endpoint=url), call(qualified)).payload["qualifier"] == "prod"
    by_arn = one(configure(lambda_endpoint=url, lambda_function_name="arn"), call(qualified))
    assert by_arn.outcome == "ok" and by_arn.payload["function"] == ARN.format("ok")
    assert server.seen[0].raw_path == "/2015-03-31/functions/ok/invocations" and server.seen[0].query_string == (
        "Qualifier=prod"
    )
    assert server.seen[1].raw_path == (
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aok/invocations"
    )
    assert all(sigv4_valid(seen) for seen in server.seen)


def test_a_bare_name_is_signed_for_the_callers_region(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    assert one(configure(lambda_endpoint=url), call("ok")).outcome == "ok"
    assert credential_scope(server.seen[0]) == ("us-east-1", "lambda") and sigv4_valid(server.seen[0])


def test_invoke_api_function_error(api: tuple[InvokeApiServer, str]) -> None:
    result = one(configure(lambda_endpoint=api[1]), call(ARN.format("fails")))
    assert (result.outcome, result.payload) == ("error", None)
    assert result.error == "function error (Unhandled): RuntimeError: boom"


def test_throttling_and_5xx_are_retried(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    server.flaky[:] = [429, 503, 500]
    result = one(configure(lambda_endpoint=url), call(ARN.format("flaky")))
    assert result.outcome == "ok" and len(server.seen) == 4  # the first call and 3 retries
    assert len({seen.headers["authorization"] for seen in server.seen}) >= 1 and all(map(sigv4_valid, server.seen))


def test_after_three_retries_the_last_answer_is_the_error(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    server.flaky[:] = [503, 503, 503, 429, 503]
    result = one(configure(lambda_endpoint=url), call(ARN.format("flaky")))
    assert result.outcome == "error" and len(server.seen) == 4
    assert (
        result.error
        == "Invoke API answered HTTP 429 TooManyRequestsException: TooManyRequestsException from the test server"
    )


def test_an_unknown_function_and_an_unreachable_endpoint_are_errors(api: tuple[InvokeApiServer, str]) -> None:
    unknown = one(configure(lambda_endpoint=api[1]), call(ARN.format("nothing")))
    assert unknown.outcome == "error" and unknown.error is not None
    assert unknown.error.startswith("Invoke API answered HTTP 404 ResourceNotFoundException: Function not found")
    started = time.monotonic()
    refused = one(configure(lambda_endpoint=DEAD), call("ok"))
    assert refused.outcome == "error" and refused.error is not None
    assert refused.error.startswith(f"cannot reach the Invoke API at {DEAD}: ConnectionRefusedError")
    assert 0.6 <= time.monotonic() - started < 3  # 3 retries after 0.1, 0.2 and 0.4 s


def test_a_response_that_is_not_json_or_over_32_kb_is_an_error(api: tuple[InvokeApiServer, str]) -> None:
    settings = configure(lambda_endpoint=api[1])
    [text, big], _ = run(settings, call("text"), call("big"))
    assert text.outcome == "error" and text.error == "the response is not JSON: 'this is not JSON'"
    assert big.outcome == "error" and big.error is not None and "larger than 32 KB" in big.error


def test_the_time_limit_and_its_log_line(api: tuple[InvokeApiServer, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parley.lambda")
    started = time.monotonic()
    result = one(configure(lambda_endpoint=api[1]), call("slow", timeout=0.3))
    assert result.outcome == "timeout" and result.error == "no answer within 0.3 s"
    assert 0.3 <= time.monotonic() - started < 1.5 and 300 <= result.duration_ms < 1500
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("lambda.invoke")]
    assert "outcome=timeout" in line and "sam local start-lambda --warm-containers EAGER" in line
    assert "PARLEY_LAMBDA_TIMEOUT=30" in line


def test_lambda_timeout_overrides_the_flows_limit(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    server.slow_seconds = 0.5
    assert one(configure(lambda_endpoint=url, lambda_timeout=0.2), call("slow", timeout=8)).outcome == "timeout"
    assert one(configure(lambda_endpoint=url, lambda_timeout=5), call("slow", timeout=0.1)).outcome == "ok"


def test_an_asynchronous_call_is_an_event_invocation(api: tuple[InvokeApiServer, str]) -> None:
    server, url = api
    result = one(configure(lambda_endpoint=url), call(ARN.format("ok"), asynchronous=True))
    assert (result.outcome, result.payload) == ("ok", None)
    assert server.seen[0].headers["x-amz-invocation-type"] == "Event" and sigv4_valid(server.seen[0])


def test_an_asynchronous_call_where_event_is_refused_runs_as_request_response(
    api: tuple[InvokeApiServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = api
    server.events = False  # as sam local start-lambda: 501 NotImplemented
    caplog.set_level(logging.INFO, "parley.lambda")
    first, second = run(configure(lambda_endpoint=url), call("ok", asynchronous=True), call("ok", asynchronous=True))[0]
    assert first.outcome == second.outcome == "ok" and first.payload["status"] == "success"
    assert [seen.headers["x-amz-invocation-type"] for seen in server.seen] == [
        "Event",
        "RequestResponse",
        "RequestResponse",  # asked once per endpoint, not on every call
    ]
    assert f"lambda.event-unsupported endpoint={url}" in caplog.text


# -- HTTP targets -----------------------------------------------------------------------------------------------
def test_http_target_ok_with_the_parley_headers(target: tuple[HttpTargetServer, str]) -> None:
    server, url = target
    settings = configure(lambdas={"startBot": f"{url}/ok"})
    result = one(settings, call(ARN.format("startBot"), contact="c-9", event={"Name": "ContactFlowEvent"}))
    assert (result.outcome, result.target) == ("ok", "http")
    assert result.payload == {"status": "success", "path": "/ok", "event": {"Name": "ContactFlowEvent"}}
    [seen] = server.seen
    assert seen.headers["x-parley-function"] == ARN.format("startBot")
    assert seen.headers["x-parley-contact-id"] == "c-9" and seen.headers["content-type"] == "application/json"


def test_http_target_errors(target: tuple[HttpTargetServer, str]) -> None:
    server, url = target
    names = ("bad", "text", "fails", "flaky")
    settings = configure(lambdas={name: f"{url}/{name}" for name in names})
    [bad, text, fails, flaky], _ = run(settings, *(call(name) for name in names))
    assert bad.outcome == "error" and bad.error == 'HTTP target answered 400: \'{"message":"bad request"}\''
    assert text.outcome == "error" and text.error == "the response is not JSON: '<html>not json</html>'"
    assert fails.outcome == "error" and fails.error == "function error (Handled): ValueError: nope"
    assert flaky.outcome == "ok"  # a 503 is retried, as the Invoke API's
    assert [seen.raw_path for seen in server.seen] == ["/bad", "/text", "/fails", "/flaky", "/flaky"]


def test_http_target_timeout(target: tuple[HttpTargetServer, str]) -> None:
    result = one(configure(lambdas={"slow": f"{target[1]}/slow"}), call("slow", timeout=0.3))
    assert (result.outcome, result.target) == ("timeout", "http")


# -- resolution and the missing function ------------------------------------------------------------------------
def test_resolution_order_over_real_targets(
    api: tuple[InvokeApiServer, str], target: tuple[HttpTargetServer, str]
) -> None:
    url = target[1]
    arn = ARN.format("ok")
    mapped = {arn + ":prod": f"{url}/by-arn", "ok:prod": f"{url}/by-qualifier", "ok": f"{url}/by-name"}
    settings = configure(lambda_endpoint=api[1], lambdas=mapped)
    results, _ = run(settings, call(arn + ":prod"), call(arn + ":dev"), call(ARN.format("other")))
    assert [r.payload.get("path") for r in results[:2]] == ["/by-arn", "/by-name"]
    assert results[2].target == "endpoint" and results[2].outcome == "error"  # `other` is unknown to the API
    qualified_only = configure(lambdas={"ok:prod": f"{url}/by-qualifier", "ok": f"{url}/by-name"})
    assert one(qualified_only, call(arn + ":prod")).payload["path"] == "/by-qualifier"


def test_a_missing_function_warns_once_per_function_and_contact(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parley.lambda")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:startBot"
    results, invoker = run(Settings(), call(arn, "c-1"), call(arn, "c-1"), call(arn, "c-2"), call("other", "c-1"))
    assert {(r.outcome, r.target) for r in results} == {("missing", "none")}
    assert results[0].error == "no --lambda mapping or --lambda-endpoint for startBot"
    warnings = [r.getMessage() for r in caplog.records if r.name == "parley.lambda"]
    assert warnings == [
        f"lambda.missing function={arn} contact=c-1 — map it with --lambda startBot=http://HOST/PATH or --lambda "
        "startBot=package.module:handler, or point --lambda-endpoint at sam local start-lambda",
        f"lambda.missing function={arn} contact=c-2 — map it with --lambda startBot=http://HOST/PATH or --lambda "
        "startBot=package.module:handler, or point --lambda-endpoint at sam local start-lambda",
        "lambda.missing function=other contact=c-1 — map it with --lambda other=http://HOST/PATH or --lambda "
        "other=package.module:handler, or point --lambda-endpoint at sam local start-lambda",
    ]
    assert [r["outcome"] for r in invoker.records("c-1", "startBot")] == ["missing", "missing"]


# -- the record -------------------------------------------------------------------------------------------------
def test_the_record_is_a_ring_filtered_by_contact_and_function(api: tuple[InvokeApiServer, str]) -> None:
    settings = configure(lambda_endpoint=api[1], request_log_size=3)
    invocations = [call("ok", "c-1"), call("fails", "c-1"), call("ok", "c-2"), call(ARN.format("ok"), "c-1")]
    results, invoker = run(settings, *invocations)
    assert [r["function"] for r in invoker.records()] == ["fails", "ok", ARN.format("ok")]
    assert [r["function"] for r in invoker.records("c-1", "ok")] == [ARN.format("ok")]
    assert len(invoker.records(limit=1)) == 1 and invoker.records(limit=0) == []
    assert invoker.note_branch(results[3].record_id, "NextAction") and not invoker.note_branch(
        results[0].record_id, "x"
    )
    [last] = invoker.records(limit=1)
    assert last["branch"] == "NextAction" and last["outcome"] == "ok" and last["target"] == "endpoint"
    assert last["invocationType"] == "RequestResponse" and last["event"] == {"Name": "ContactFlowEvent"}
    assert last["response"]["status"] == "success" and last["error"] is None and last["durationMs"] > 0
    assert set(last) == {
        "id", "time", "function", "name", "contact", "target", "invocationType", "outcome", "durationMs",
        "event", "response", "error", "branch",
    }  # fmt: skip


# -- Python callables in parley.Server ---------------------------------------------------------------------------
def admin(server: ParleyServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, payload = server.admin.request(method, path, body)
    assert status == 200, payload
    return payload


def invoke(server: ParleyServer, function: str, **fields: Any) -> Any:
    return admin(server, "POST", "/_parley/lambda/invoke", {"function": function, **fields})


def chat_event(server: ParleyServer) -> tuple[dict[str, Any], str]:
    connect = server.client("connect")
    instance = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias="lambdas",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    flow = connect.list_contact_flows(InstanceId=instance["Id"], ContactFlowTypes=["CONTACT_FLOW"])
    contact_id = connect.start_chat_contact(
        InstanceId=instance["Id"],
        ContactFlowId=next(f["Id"] for f in flow["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow"),
        ParticipantDetails={"DisplayName": "Customer"},
    )["ContactId"]
    data = {"ContactId": contact_id, "InstanceARN": instance["Arn"], "Channel": "CHAT"}
    return {"Name": "ContactFlowEvent", "Details": {"ContactData": data, "Parameters": {}}}, contact_id


def test_python_handlers_in_an_in_process_server(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parley.lambda")
    holder: dict[str, ParleyServer] = {}

    def describe(event: dict[str, Any], context: Any) -> dict[str, Any]:
        data = event["Details"]["ContactData"]
        connect = holder["server"].client("connect")  # calls Parley back while Parley waits for this function
        found = connect.describe_contact(InstanceId=data["InstanceARN"].rsplit("/", 1)[1], ContactId=data["ContactId"])
        return {"status": found["Contact"]["Channel"], "arn": context.invoked_function_arn}

    def raises(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("the handler failed")

    async def coroutine(event: dict[str, Any], context: Any) -> dict[str, Any]:
        await asyncio.sleep(0.01)
        return {"coroutine": True, "thread": threading.current_thread().name}

    def fields(event: dict[str, Any], context: Any) -> dict[str, Any]:
        members = ("function_name", "function_version", "invoked_function_arn", "memory_limit_in_mb")
        names = ("aws_request_id", "log_group_name", "log_stream_name")
        return {name: getattr(context, name) for name in (*members, *names)} | {
            "remaining": context.get_remaining_time_in_millis()
        }

    lambdas = {"describe": describe, "raises": raises, "coroutine": coroutine, ARN.format("fields"): fields}
    with ParleyServer(lambdas=lambdas, seed=7) as server:
        holder["server"] = server
        event, contact_id = chat_event(server)
        described = invoke(server, ARN.format("describe"), event=event, contact=contact_id)
        assert described["outcome"] == "ok" and described["target"] == "python"
        assert described["payload"] == {"status": "CHAT", "arn": ARN.format("describe")}
        raised = invoke(server, "raises", contact=contact_id)
        assert raised["outcome"] == "error" and raised["error"] == "RuntimeError: the handler failed"
        coroutined = invoke(server, "coroutine")
        assert coroutined["payload"]["coroutine"] and coroutined["payload"]["thread"].startswith("parley-lambda")
        context = invoke(server, ARN.format("fields"), timeoutSeconds=3)["payload"]
        listed = admin(server, "GET", f"/_parley/lambda/invocations?contact={contact_id}")
    [traced] = [r for r in caplog.records if r.getMessage().startswith("lambda.error function=raises")]
    assert traced.exc_info is not None and "the handler failed" in caplog.text and "Traceback" in caplog.text
    assert context["function_name"] == "fields" and context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == ARN.format("fields") and context["memory_limit_in_mb"] == 128
    assert context["log_group_name"] == "/aws/lambda/fields" and 1000 < context["remaining"] <= 3000
    assert re.match(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$", context["log_stream_name"])
    assert re.match(r"^[0-9a-f-]{36}$", context["aws_request_id"])
    assert [(r["name"], r["outcome"], r["target"]) for r in listed["invocations"]] == [
        ("describe", "ok", "python"),
        ("raises", "error", "python"),
    ]


def test_a_handler_past_its_limit_leaves_the_loop_free_and_its_late_result_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "parley.lambda")
    done = threading.Event()

    def sleeps(event: dict[str, Any], context: Any) -> dict[str, Any]:
        time.sleep(1.0)
        done.set()
        return {"late": True}

    with ParleyServer(lambdas={"sleeps": sleeps}) as server:
        answers: list[Any] = []
        calling = threading.Thread(target=lambda: answers.append(invoke(server, "sleeps", timeoutSeconds=0.6)))
        calling.start()
        time.sleep(0.1)
        started = time.monotonic()
        with urllib.request.urlopen(server.endpoint_url + "/_parley/health", timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < 0.6  # served while the handler sleeps on its thread (0.9 s more)
        calling.join(5)
        assert answers[0]["outcome"] == "timeout" and answers[0]["error"] == "no answer within 0.6 s"
        assert done.wait(5)
        time.sleep(0.1)
    assert "lambda.late function=sleeps contact=none (" in caplog.text
    assert "returned after its time limit; the result is discarded" in caplog.text


@pytest.mark.parley(lambdas={"marked": lambda event, context: {"from": "the marker"}})
def test_the_pytest_marker_takes_lambdas(parley_endpoint: str) -> None:
    from parley.testing import AdminClient

    status, payload = AdminClient(parley_endpoint).request("POST", "/_parley/lambda/invoke", {"function": "marked"})
    assert status == 200 and payload["payload"] == {"from": "the marker"}


def test_admin_input_is_checked() -> None:
    with ParleyServer() as server:
        for body, words in (
            ({}, "function is required"),
            ({"function": "f", "event": []}, "event must be a JSON object"),
            ({"function": "f", "timeoutSeconds": 0}, "timeoutSeconds must be above 0"),
            ({"function": "f", "nope": 1}, "lambda invoke has no field 'nope'"),
        ):
            status, payload = server.admin.request("POST", "/_parley/lambda/invoke", body)
            assert status == 400 and words in payload["message"]
        status, payload = server.admin.request("GET", "/_parley/lambda/invocations?limit=-1")
        assert status == 400 and "limit must be at least 0" in payload["message"]
        assert invoke(server, "nothing")["outcome"] == "missing"
        assert admin(server, "DELETE", "/_parley/lambda/invocations") == {"cleared": 1}


# -- parley serve: module:function handlers, the environment rule, the CLI -----------------------------------------
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(Path(sys.executable).parent / "parley")  # the console script: the working directory is not on sys.path


def clean_env() -> dict[str, str]:
    """No PARLEY_* and no AWS_*: what the handlers' clients find is what `parley serve` set."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "AWS_"))}


def serve(*args: str) -> RunningParley:
    process = subprocess.Popen(
        [SCRIPT, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(),
        cwd=ROOT,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("parley: listening on "):
            running = RunningParley(line.split("listening on ", 1)[1].strip(), process)
            running.lines.extend(entry.rstrip("\n") for entry in seen)
            running.drain = threading.Thread(target=drain, args=(process.stdout, running.lines), daemon=True)
            running.drain.start()
            return running
    process.wait()
    raise AssertionError("parley did not start:\n" + "".join(seen))


def cli(url: str, *args: str) -> Any:
    done = subprocess.run(
        [SCRIPT, *args, "--endpoint-url", url], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_parley_serve_runs_module_function_handlers_that_build_clients_at_import() -> None:
    running = serve(
        "--lambda",
        "describe=tests.contract.lambda_handlers:describe_contact",
        "--lambda",
        "sleeps=tests.contract.lambda_handlers:sleeps",
    )
    try:
        connect = boto3.client(
            "connect", endpoint_url=running.url, region_name="us-east-1", aws_access_key_id="test",
            aws_secret_access_key="test",
        )  # fmt: skip
        instance = connect.create_instance(
            IdentityManagementType="CONNECT_MANAGED",
            InstanceAlias="cli",
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )
        flows = connect.list_contact_flows(InstanceId=instance["Id"], ContactFlowTypes=["CONTACT_FLOW"])
        contact_id = connect.start_chat_contact(
            InstanceId=instance["Id"],
            ContactFlowId=next(f["Id"] for f in flows["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow"),
            ParticipantDetails={"DisplayName": "Customer"},
        )["ContactId"]
        event = {"Details": {"ContactData": {"ContactId": contact_id, "InstanceARN": instance["Arn"]}}}
        arn = "arn:aws:lambda:us-east-1:123456789012:function:describe"
        answer = cli(running.url, "lambda", "invoke", arn, "--event", json.dumps(event), "--contact", contact_id)
        assert answer["outcome"] == "ok" and answer["target"] == "python", answer
        assert answer["payload"]["contactId"] == contact_id and answer["payload"]["channel"] == "CHAT"
        assert answer["payload"]["function"] == "describe" and 0 < answer["payload"]["remainingMs"] <= 8000
        late = cli(running.url, "lambda", "invoke", "sleeps", "--event", '{"seconds": 1}', "--timeout", "0.3")
        assert late["outcome"] == "timeout"
        listed = cli(running.url, "lambda", "invocations", "--contact", contact_id)["invocations"]
        assert [(r["name"], r["outcome"], r["contact"]) for r in listed] == [("describe", "ok", contact_id)]
        assert [
            r["name"] for r in cli(running.url, "lambda", "invocations", "--function", "sleeps")["invocations"]
        ] == ["sleeps"]
        assert cli(running.url, "lambda", "invocations", "--clear") == {"cleared": 2}
    finally:
        assert running.stop() == 0
    output = "\n".join(running.lines)
    assert "lambda.environment set AWS_ACCESS_KEY_ID, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_CONNECT" in output
    assert re.search(rf"lambda\.invoke function=describe target=python outcome=ok \d+ms contact={contact_id}", output)


def test_parley_serve_stops_when_a_handler_cannot_be_imported() -> None:
    done = subprocess.run(
        [SCRIPT, "serve", "--port", "0", "--lambda", "startBot=no_such_module_xyz.bot:handler"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(
        "parley: --lambda startBot=no_such_module_xyz.bot:handler: cannot import no_such_module_xyz.bot: "
        "ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )
    bad = subprocess.run(
        [SCRIPT, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env={**clean_env(), "PARLEY_LAMBDAS": "startBot"},
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("parley: PARLEY_LAMBDAS: expected NAME=TARGET")


def test_the_cli_says_when_there_is_no_answer() -> None:
    done = subprocess.run(
        [SCRIPT, "lambda", "invocations", "--endpoint-url", DEAD], capture_output=True, text=True, env=clean_env()
    )
    assert done.returncode == 1 and done.stderr.startswith(f"parley: cannot reach Parley at {DEAD}")
