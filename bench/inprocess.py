"""CreateParticipant and DescribeInstance called straight on the ASGI app (no sockets), timed and profiled by layer.

What a request costs Parley itself, without the HTTP server, in CPU time (this machine is shared): each
CreateParticipant on a fresh chat with a ClientToken (as boto3 sends), then DescribeInstance. `--profile` runs
the same loop under cProfile and prints the share of CPU time per layer (the package a function lives in).

    .venv/bin/python bench/inprocess.py [--count 5000] [--durable] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from parley.app import Parley, build_app
from parley.settings import configure

Call = Callable[[str, str, dict[str, Any] | None], Awaitable[tuple[int, bytes]]]
LAYERS = (  # first match wins: a path fragment and the layer it stands for
    ("parley/transport/", "edge (transport)"),
    ("parley/protocol/", "protocol (route, parse, validate, serialize)"),
    ("parley/services/", "services"),
    ("parley/chat/tokens", "token signing"),
    ("parley/chat/", "domain (chat)"),
    ("parley/store/", "store"),
    ("parley/timers", "timers"),
    ("parley/bus/", "bus"),
    ("parley/ids", "ids"),
    ("hmac", "token signing"),
    ("json/", "json"),
    ("uuid", "ids"),
    ("sqlite3", "store"),
    ("asyncio", "asyncio"),
)


def caller(app: Parley) -> Call:
    async def call(method: str, path: str, body: dict[str, Any] | None) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        sent: list[dict[str, Any]] = []
        headers = [(b"host", b"127.0.0.1:4599"), (b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(data)).encode()))
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b""}
        scope |= {"headers": headers, "scheme": "http", "server": ("127.0.0.1", 4599), "http_version": "1.1"}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": data, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return call


async def ok(call: Call, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, data = await call(method, path, body)
    if status != 200:
        raise RuntimeError(f"{method} {path} -> {status}: {data[:300]!r}")
    return json.loads(data)


async def started(app: Parley) -> asyncio.Future[None]:
    """The app's lifespan, started; the future it returns stops it."""
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    ready = asyncio.Event()
    messages = iter(("startup", "shutdown"))

    async def receive() -> dict[str, Any]:
        kind = next(messages)
        if kind == "shutdown":
            await stop
        return {"type": f"lifespan.{kind}"}

    async def send(message: dict[str, Any]) -> None:
        ready.set()

    running = asyncio.ensure_future(app({"type": "lifespan"}, receive, send))
    await ready.wait()
    stop.add_done_callback(lambda _: running)  # keeps the task referenced until it is stopped
    return stop


async def prepare(call: Call, count: int) -> tuple[str, list[str]]:
    instance = (
        await ok(
            call,
            "PUT",
            "/instance",
            {
                "IdentityManagementType": "CONNECT_MANAGED",
                "InstanceAlias": "bench",
                "InboundCallsEnabled": True,
                "OutboundCallsEnabled": True,
            },
        )
    )["Id"]
    flows = (await ok(call, "GET", f"/contact-flows-summary/{instance}"))["ContactFlowSummaryList"]
    flow = next(f for f in flows if f["Name"] == "Default inbound flow")["Id"]
    body = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": "c"}}
    chats = [
        (await ok(call, "PUT", "/contact/chat", {**body, "ClientToken": str(uuid.uuid4())}))["ContactId"]
        for _ in range(count)
    ]
    return instance, chats


async def create_participants(call: Call, instance: str, chats: list[str]) -> float:
    started = time.process_time()
    for contact in chats:
        body = {
            "InstanceId": instance,
            "ContactId": contact,
            "ClientToken": f"bench-{contact}",
            "ParticipantDetails": {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "bot"},
        }
        await ok(call, "POST", "/contact/create-participant", body)
    return (time.process_time() - started) / len(chats)


async def describe_instances(call: Call, instance: str, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        await ok(call, "GET", f"/instance/{instance}")
    return (time.process_time() - started) / count


def layer_of(filename: str) -> str:
    return next((name for fragment, name in LAYERS if fragment in filename), "other")


def by_layer(profile: cProfile.Profile) -> list[tuple[str, float]]:
    stats = pstats.Stats(profile)
    shares: Counter[str] = Counter()
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        shares[layer_of(filename if filename != "~" else name)] += row[2]  # tottime: own time
    total = sum(shares.values()) or 1.0
    return [(name, seconds / total) for name, seconds in shares.most_common()]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="parley-inprocess-") as tmp:
        settings = configure(
            quota_active_chats=0, quota_instances=0, log_level="warning", data_dir=tmp if args.durable else None
        )
        app = build_app(settings)
        stop = await started(app)
        call = caller(app)
        instance, chats = await prepare(call, args.count * 2)
        warm = await create_participants(call, instance, chats[: args.count])
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            profile.enable()
        cost = await create_participants(call, instance, chats[args.count :])
        read = await describe_instances(call, instance, args.count)
        if profile is not None:
            profile.disable()
        print(f"CreateParticipant: {cost * 1e6:.0f} µs (warm-up {warm * 1e6:.0f} µs)", end="; ")
        print(f"DescribeInstance: {read * 1e6:.0f} µs")
        if profile is not None:
            for name, share in by_layer(profile):
                print(f"  {share:6.1%}  {name}")
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
            if args.callers:
                pstats.Stats(profile).print_callers(args.callers)
        stop.set_result(None)
        await asyncio.sleep(0.1)
        app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--durable", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with the most own time")
    parser.add_argument("--callers", default="", help="also print who calls the functions matching this")
    asyncio.run(main(parser.parse_args()))
