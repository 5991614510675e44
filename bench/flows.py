"""Chats per second with a flow that runs, next to the same traffic with `--flows off`, in one run; and the
latency from the customer's connection to the flow's greeting on the chat's socket.

The flow has six actions: greet (MessageParticipant), look the customer up (InvokeLambdaFunction, a Python
`module:function` run inside the server), copy the answer to attributes (UpdateContactAttributes), branch on
it (Compare), set the working queue, transfer to it. Each chat is what an SDK sends: StartChatContact with a
ClientToken, then the customer's CreateParticipantConnection, then the flow's settling is awaited
(`/_parley/contacts/{id}/flow?wait=idle`, answered at once under --flows off), so a chat counts only once its
flow has run. Greeting latency: a CUSTOM_BOT joins and subscribes first, then the clock starts just before the
customer's CreateParticipantConnection is written and stops when the greeting frame reaches the bot's socket.

    .venv/bin/python bench/flows.py [--chats 2000] [--concurrency 32] [--latency-chats 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop
from websockets.asyncio.client import connect

from chatload import INSTANCE, SUBSCRIBE, HttpPool
from run import BENCH, cpu_seconds, server

PARLEY = [sys.executable, "-m", "parley", "serve", "--port", "0", "--log-level", "warning"]
PARLEY += ["--quota-active-chats", "0", "--lambda", "lookup=flow_handler:handler"]
GREETING = "Welcome, one moment please"


def flow_document(queue_arn: str) -> str:
    lookup = "arn:aws:lambda:us-east-1:123456789012:function:lookup"
    actions = [
        _act("greet", "MessageParticipant", {"Text": GREETING}, "lookup"),
        _act(
            "lookup",
            "InvokeLambdaFunction",
            {"LambdaFunctionARN": lookup, "InvocationTimeLimitSeconds": "3"},
            "remember",
        ),
        _act("remember", "UpdateContactAttributes", {"Attributes": {"tier": "$.External.tier"}}, "branch"),
        {
            "Identifier": "branch",
            "Type": "Compare",
            "Parameters": {"ComparisonValue": "$.Attributes.tier"},
            "Transitions": {
                "NextAction": "queue",
                "Conditions": [{"NextAction": "queue", "Condition": {"Operator": "Equals", "Operands": ["gold"]}}],
                "Errors": [{"NextAction": "queue", "ErrorType": "NoMatchingCondition"}],
            },
        },
        _act("queue", "UpdateContactTargetQueue", {"QueueId": queue_arn}, "transfer"),
        _act("transfer", "TransferContactToQueue", {}, "end"),
        {"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
    ]
    return json.dumps({"Version": "2019-10-30", "StartAction": "greet", "Actions": actions})


def _act(ident: str, kind: str, parameters: dict[str, Any], then: str) -> dict[str, Any]:
    errors = [{"NextAction": "end", "ErrorType": "NoMatchingError"}]
    return {
        "Identifier": ident,
        "Type": kind,
        "Parameters": parameters,
        "Transitions": {"NextAction": then, "Errors": errors},
    }


async def setup(pool: HttpPool) -> tuple[str, str]:
    instance = (await pool.call("PUT", "/instance", {**INSTANCE, "ClientToken": str(uuid.uuid4())}))["Id"]
    queues = (await pool.call("GET", f"/queues-summary/{instance}"))["QueueSummaryList"]
    queue = next(q for q in queues if q.get("Name") == "BasicQueue")["Arn"]
    body = {"Name": "bench", "Type": "CONTACT_FLOW", "Content": flow_document(queue)}
    flow = (await pool.call("PUT", f"/contact-flows/{instance}", body))["ContactFlowId"]
    return instance, flow


async def one_chat(pool: HttpPool, instance: str, flow: str, n: int) -> None:
    start = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": f"c{n}"}}
    started = await pool.call("PUT", "/contact/chat", {**start, "ClientToken": str(uuid.uuid4())})
    connection = {"Type": ["WEBSOCKET", "CONNECTION_CREDENTIALS"]}
    await pool.call("POST", "/participant/connection", connection, bearer=started["ParticipantToken"])
    response = await pool.request("GET", f"/_parley/contacts/{started['ContactId']}/flow?wait=idle&timeout=30", {})
    if response.status not in (200, 404):
        raise RuntimeError(f"flow did not settle: {response.status} {response.body[:200]!r}")


async def throughput(pool: HttpPool, instance: str, flow: str, chats: int, concurrency: int) -> float:
    counter = iter(range(chats))

    async def worker() -> None:
        for n in counter:
            await one_chat(pool, instance, flow, n)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return chats / (time.perf_counter() - began)


async def greeting_latency(pool: HttpPool, url: str, instance: str, flow: str, n: int) -> float:
    start = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": f"l{n}"}}
    started = await pool.call("PUT", "/contact/chat", {**start, "ClientToken": str(uuid.uuid4())})
    bot = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "observer"}
    create = {"InstanceId": instance, "ContactId": started["ContactId"], "ParticipantDetails": bot}
    created = await pool.call("POST", "/contact/create-participant", {**create, "ClientToken": str(uuid.uuid4())})
    token = created["ParticipantCredentials"]["ParticipantToken"]
    joined = await pool.call(
        "POST", "/participant/connection", {"Type": ["WEBSOCKET"], "ConnectParticipant": True}, bearer=token
    )
    async with connect(joined["Websocket"]["Url"], compression=None) as ws:
        await ws.send(SUBSCRIBE)
        await ws.recv()
        began = time.perf_counter()
        await pool.call(
            "POST", "/participant/connection", {"Type": ["CONNECTION_CREDENTIALS"]}, bearer=started["ParticipantToken"]
        )
        while True:
            frame = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(frame, str) and GREETING in frame:
                return (time.perf_counter() - began) * 1000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


async def measure(url: str, args: argparse.Namespace, latency: bool) -> dict[str, Any]:
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    pool = HttpPool(host, int(port), args.concurrency)
    try:
        instance, flow = await setup(pool)
        await throughput(pool, instance, flow, min(200, args.chats), args.concurrency)  # warm-up
        rate = await throughput(pool, instance, flow, args.chats, args.concurrency)
        result: dict[str, Any] = {"chats_per_s": round(rate, 1)}
        if latency:
            samples = [await greeting_latency(pool, url, instance, flow, n) for n in range(args.latency_chats)]
            result |= {
                "greeting_p50_ms": round(percentile(samples, 50), 2),
                "greeting_p99_ms": round(percentile(samples, 99), 2),
            }
        return result
    finally:
        pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-chats", type=int, default=300)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(BENCH), os.environ.get("PYTHONPATH"))))
    results: dict[str, Any] = {}
    for name, extra, latency in (("flows run", [], True), ("--flows off", ["--flows", "off"], False)):
        with tempfile.TemporaryDirectory() as tmp, server([*PARLEY, *extra], Path(tmp)) as srv:
            cpu = cpu_seconds(srv.pid)
            results[name] = uvloop.run(measure(srv.url, args, latency))
            results[name]["server_cpu_s"] = round(cpu_seconds(srv.pid) - cpu, 2)
        print(name, json.dumps(results[name]), flush=True)
    ratio = results["flows run"]["chats_per_s"] / results["--flows off"]["chats_per_s"]
    print(json.dumps({"results": results, "flows_run_over_off": round(ratio, 3)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    raise SystemExit(main())
