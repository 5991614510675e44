"""A flow's InvokeLambdaFunction through every kind of target (flows.md §5, §6): the Lambda Invoke API (the test
server speaks the wire boto3's own `lambda` client calls), an HTTP target and a Python `module:function`; and
the failures a flow must route to its Error branch: a function that raises, one that times out, one whose answer
is not JSON. An ASYNCHRONOUS call lets the flow go on at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import RunningParley, start_parley
from tests.contract.admin_helpers import ok
from tests.contract.lambda_servers import HttpTargetServer, InvokeApiServer, serving
from tests.flows.test_flow_runs import chat_on, document, flow, say, texts, wait

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[InvokeApiServer, str, HttpTargetServer, str]]:
    api, target = InvokeApiServer(), HttpTargetServer()
    with serving(api) as api_url, serving(target) as target_url:
        api.slow_seconds = 3.0
        target.slow_seconds = 3.0
        yield api, api_url, target, target_url


@pytest.fixture(scope="module")
def server(servers: tuple[InvokeApiServer, str, HttpTargetServer, str]) -> Iterator[RunningParley]:
    _, api_url, _, target_url = servers
    running = start_parley(
        "--quota-active-chats",
        "0",
        "--quota-instances",
        "0",
        "--lambda-endpoint",
        api_url,
        "--lambda",
        f"web={target_url}/ok",
        "--lambda",
        f"webslow={target_url}/slow",
        "--lambda",
        "raises=tests.flows.bot_handler:failing",
    )
    yield running
    running.stop()


def calling(function: str, asynchronous: bool = False) -> str:
    parameters: dict[str, Any] = {
        "LambdaFunctionARN": ARN.format(function),
        "InvocationTimeLimitSeconds": "1",
        "ResponseValidation": {"ResponseType": "JSON"},
        "LambdaInvocationAttributes": {"who": "$.Name", "fixed": "yes"},
    }
    if asynchronous:
        parameters["InvocationType"] = "ASYNCHRONOUS"
    check = {
        "Identifier": "check",
        "Type": "Compare",
        "Parameters": {"ComparisonValue": "$.External.status"},
        "Transitions": {
            "NextAction": "failed",
            "Conditions": [{"NextAction": "good", "Condition": {"Operator": "Equals", "Operands": ["success"]}}],
            "Errors": [{"NextAction": "failed", "ErrorType": "NoMatchingCondition"}],
        },
    }
    return document(
        "call",
        {
            "Identifier": "call",
            "Type": "InvokeLambdaFunction",
            "Parameters": parameters,
            "Transitions": {"NextAction": "check", "Errors": [{"NextAction": "error", "ErrorType": "NoMatchingError"}]},
        },
        check,
        say("good", "answered $.External.status", "hold"),
        say("failed", "answered without success", "hold"),
        say("error", "took the Error branch", "hold"),
        wait("hold", 3600, ["CustomerReturned"], {"WaitCompleted": "end", "CustomerReturned": "hold"}),
        {"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
    )


CASES = [
    ("ok", False, "answered success", "endpoint", "ok"),
    ("web", False, "answered success", "http", "ok"),
    ("fails", False, "took the Error branch", "endpoint", "error"),
    ("raises", False, "took the Error branch", "python", "error"),
    ("slow", False, "took the Error branch", "endpoint", "timeout"),
    ("webslow", False, "took the Error branch", "http", "timeout"),
    ("text", False, "took the Error branch", "endpoint", "error"),
    ("nobody", False, "took the Error branch", "endpoint", "error"),  # the endpoint knows no such function
    ("ok", True, "answered without success", "endpoint", "ok"),
]


@pytest.mark.parametrize(("function", "asynchronous", "said", "target", "outcome"), CASES)
def test_each_target_and_each_failure_routes_the_flow(
    server: RunningParley, function: str, asynchronous: bool, said: str, target: str, outcome: str
) -> None:
    key = f"3{CASES.index((function, asynchronous, said, target, outcome)):011d}"
    chat = chat_on(server, calling(function, asynchronous), key=key)
    customer = chat.customer()
    run = flow(server, chat.contact_id)
    assert run["action"] == "hold", run
    assert texts(chat.cp, customer.connection_token) == [said]
    records = _records(server, chat.contact_id)
    assert [(r["target"], r["outcome"]) for r in records] == [(target, outcome)]
    event = records[0]["event"]
    assert event["Name"] == "ContactFlowEvent"
    assert event["Details"]["Parameters"] == {"who": "", "fixed": "yes"}
    assert event["Details"]["ContactData"]["ContactId"] == chat.contact_id
    if not asynchronous:
        assert records[0]["branch"], "the record names the branch the flow took"


def test_an_asynchronous_call_is_an_event_invocation(
    server: RunningParley, servers: tuple[InvokeApiServer, str, HttpTargetServer, str]
) -> None:
    api = servers[0]
    before = len(api.seen)
    chat = chat_on(server, calling("ok", asynchronous=True), key="300000000099")
    chat.customer()
    flow(server, chat.contact_id)
    deadline = time.monotonic() + 5
    while len(api.seen) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    kinds = [s.headers.get("x-amz-invocation-type") for s in api.seen[before:]]
    assert kinds == ["Event"]
    assert json.loads(api.seen[before].body)["Details"]["ContactData"]["ContactId"] == chat.contact_id


def _records(server: RunningParley, contact_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while True:
        found: list[dict[str, Any]] = ok(server.url, "GET", f"lambda/invocations?contact={contact_id}")["invocations"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)
