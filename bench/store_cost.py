"""What the store costs a request, in process: no sockets, no HTTP server, the ASGI app called directly.

For each store, one app (`build_app`, lifespan started) in this process:

- **memory**: the in-memory store (the default without --data-dir);
- **sqlite-memory**: SQLite `:memory:` (what the default was before), wired in by this script only;
- **durable**: SQLite in a temporary --data-dir (WAL, synchronous=FULL, group commit).

It times, request by request: CreateParticipant (custom bot, each on its own chat, with a ClientToken as every
SDK sends one) and DescribeInstance, in rounds where the stores take turns, each keeping its best round (the
lowest median); then StartChatContact and the store's active-chat count alone with 100 and with 20,000
active chats on the instance (quota raised so the count is not cut short). Flows are off and
bots never time out, so what runs is the request and its unit of work. The machine is shared and noisy:
compare the stores within one run.

    .venv/bin/python bench/store_cost.py [--requests 2000] [--chats 20000] [--rounds 3] [--stores …]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from parley import app as wiring
from parley.app import Parley, build_app
from parley.chat.model import Scope
from parley.chat.ports import UnitOfWork
from parley.settings import configure
from parley.store.sqlite import SqliteStore

Message = dict[str, Any]
SCOPE = Scope("123456789012", "us-east-1")  # the default account and region of an unsigned request
HEADERS = [(b"host", b"127.0.0.1:4599"), (b"content-type", b"application/json")]
INSTANCE = {"IdentityManagementType": "CONNECT_MANAGED", "InboundCallsEnabled": True, "OutboundCallsEnabled": True}
FILL_BATCH = 200  # StartChatContact requests in flight while filling (a durable store commits them together)


async def call(app: Parley, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*HEADERS, (b"content-length", str(len(raw)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 4599),
    }
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], json.loads(answer["body"] or b"null")


async def ok(app: Parley, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, answer = await call(app, method, path, body)
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {answer}")
    return answer


class Lifespan:
    """The ASGI lifespan protocol, as a server drives it: one task from startup to shutdown."""

    def __init__(self, app: Parley) -> None:
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._done: asyncio.Queue[str] = asyncio.Queue()
        self._task = asyncio.ensure_future(app({"type": "lifespan"}, self._inbox.get, self._sent))

    async def _sent(self, message: Message) -> None:
        await self._done.put(message["type"])

    async def step(self, event: str) -> None:
        await self._inbox.put({"type": f"lifespan.{event}"})
        answer = await self._done.get()
        if not answer.endswith(".complete"):
            raise RuntimeError(f"lifespan {event}: {answer}")
        if event == "shutdown":
            await self._task


@contextmanager
def store_kind(kind: str) -> Iterator[dict[str, Any]]:
    """Settings for the store kind; `sqlite-memory` swaps the wiring's choice for SQLite :memory:."""
    chosen = wiring._store
    if kind == "sqlite-memory":
        wiring._store = lambda settings: SqliteStore(None)
    try:
        if kind == "durable":
            with tempfile.TemporaryDirectory() as data_dir:
                yield {"data_dir": data_dir}
        else:
            yield {}
    finally:
        wiring._store = chosen


async def timed(count: int, request: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    spent = []
    for n in range(count):
        start = time.perf_counter_ns()
        await request(n)
        spent.append((time.perf_counter_ns() - start) / 1000)
    spent.sort()
    return {
        "median_us": round(statistics.median(spent), 1),
        "mean_us": round(statistics.fmean(spent), 1),
        "p99_us": round(spent[int(len(spent) * 0.99) - 1], 1),
    }


async def start_chats(app: Parley, instance: str, flow: str, count: int) -> list[str]:
    body = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": "c"}}
    ids: list[str] = []
    while len(ids) < count:
        batch = min(FILL_BATCH, count - len(ids))
        started = await asyncio.gather(*(ok(app, "PUT", "/contact/chat", body) for _ in range(batch)))
        ids += [answer["ContactId"] for answer in started]
    return ids


async def measure(kind: str, requests: int, chats: int) -> dict[str, Any]:
    with store_kind(kind) as extra:
        settings = configure(
            quota_active_chats=10 * chats,
            quota_instances=0,
            flows="off",
            bot_connect_timeout=0,
            log_level="warning",
            **extra,
        )
        app = build_app(settings)
        lifespan = Lifespan(app)
        await lifespan.step("startup")
        try:
            return await (_request_costs(app, requests) if chats == 0 else _scaling(app, chats))
        finally:
            await lifespan.step("shutdown")
            app.close()


async def new_instance(app: Parley, alias: str) -> tuple[str, str]:
    """A new instance and its Default inbound flow."""
    instance = (await ok(app, "PUT", "/instance", {**INSTANCE, "InstanceAlias": alias}))["Id"]
    flows = await ok(app, "GET", f"/contact-flows-summary/{instance}")
    return instance, next(f["Id"] for f in flows["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow")


async def _request_costs(app: Parley, requests: int) -> dict[str, Any]:
    instance, flow = await new_instance(app, "bench")
    result: dict[str, Any] = {}
    pool = await start_chats(app, instance, flow, requests)

    async def create_participant(n: int) -> None:
        details = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "bot"}
        body = {"InstanceId": instance, "ContactId": pool[n], "ParticipantDetails": details}
        await ok(app, "POST", "/contact/create-participant", {**body, "ClientToken": str(uuid.uuid4())})

    result["CreateParticipant"] = await timed(requests, create_participant)
    result["DescribeInstance"] = await timed(requests, lambda n: ok(app, "GET", f"/instance/{instance}"))
    return result


async def _scaling(app: Parley, chats: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for active in (100, chats):
        instance, flow = await new_instance(app, f"bench-{active}")
        await start_chats(app, instance, flow, active)
        result |= await _start_chat_cost(app, instance, flow, active)
    return result


async def _start_chat_cost(app: Parley, instance: str, flow: str, active: int) -> dict[str, Any]:
    """StartChatContact, and the active-chat count it makes, on an instance with `active` chats."""
    body = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": "c"}}
    started = await timed(200, lambda n: ok(app, "PUT", "/contact/chat", body))
    now = app.clock.now()

    def count(repo: UnitOfWork) -> int:
        return repo.count_active_contacts(SCOPE, instance, "CHAT", now, 10**9)

    counted = await timed(200, lambda n: app.store.read(count))
    return {f"StartChatContact@{active}": started, f"count_active_contacts@{active}": counted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=20000)
    parser.add_argument("--stores", default="memory,sqlite-memory,durable")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the per-request costs, stores in turn")
    args = parser.parse_args()
    kinds = args.stores.split(",")
    results: dict[str, dict[str, Any]] = {kind: {} for kind in kinds}
    for _ in range(args.rounds):  # the stores take turns, and each keeps its best round: load comes and goes
        for kind in kinds:
            for name, cell in asyncio.run(measure(kind, args.requests, 0)).items():
                best = results[kind].get(name)
                results[kind][name] = cell if best is None or cell["median_us"] < best["median_us"] else best
    for kind in kinds:
        results[kind] |= asyncio.run(measure(kind, 0, args.chats))
    names = list(results[kinds[0]])
    print(f"{'median µs per call (mean / p99)':34}" + "".join(f"{kind:>26}" for kind in results))
    for name in names:
        cells = [results[kind][name] for kind in results]
        print(f"{name:34}" + "".join(f"{c['median_us']:>10} ({c['mean_us']} / {c['p99_us']})".rjust(26) for c in cells))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
