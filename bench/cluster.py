"""Several nodes: CreateParticipant rate and SendMessage-to-delivery latency, one to three nodes on PostgreSQL
and Redis behind HAProxy, beside one node on SQLite (in memory and durable) behind the same HAProxy, in one run.

For each configuration, fresh nodes (and a fresh database) start behind Debian's HAProxy (round-robin, as in
tests/cluster). Then, through the balancer:
  1. CreateParticipant rate: --creates chats are started (StartChatContact with a ClientToken), then one
     CUSTOM_BOT is added to each (CreateParticipant with a ClientToken, as boto3 sends), --concurrency at a
     time; the rate, p50/p99, and the CPU each part used (the nodes, PostgreSQL, Redis, HAProxy, this load
     generator) per request.
  2. Delivery latency at --chats chats: a customer and a custom bot per chat, each on a subscribed WebSocket
     (offering permessage-deflate, as browsers do) through the balancer, so sockets spread over the nodes;
     messages sent open-loop at --rate msg/s for --duration s; latency from just before each POST to the frame
     on each socket of its chat (bench/latency.py's analysis: lost, duplicated and stray frames fail the run).

    .venv/bin/python bench/cluster.py [--only sqlite-memory,sqlite,pg1,pg2,pg3] [--chats 1000] [--creates 2000]

PostgreSQL and Redis are this machine's (--postgres, --redis; PARLEY_TEST_POSTGRES_URL / PARLEY_TEST_REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from chatload import INSTANCE, HttpPool, build_fleet, parley_tokens
from latency import percentiles, phase, raise_fd_limit
from run import RESULTS, BenchError, cpu_seconds, free_port, git
from store_units import fresh_database

NODE = [sys.executable, "-m", "parley", "serve", "--quota-active-chats", "0", "--quota-instances", "0"]
NODE += ["--log-level", "warning", "--bot-connect-timeout", "0"]  # no background removals during the run
CONFIGS: dict[str, tuple[str, int, str]] = {
    "sqlite-memory": ("one node, in memory", 1, "memory"),
    "sqlite": ("one node, SQLite durable (--data-dir, synchronous=FULL)", 1, "sqlite"),
    "pg1": ("one node, PostgreSQL + Redis", 1, "pg"),
    "pg2": ("two nodes, PostgreSQL + Redis", 2, "pg"),
    "pg3": ("three nodes, PostgreSQL + Redis", 3, "pg"),
}
HAPROXY = """global
    maxconn 8000
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
frontend parley
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}
"""


@dataclass
class Running:
    url: str
    port: int
    nodes: list[subprocess.Popen[bytes]]
    haproxy: subprocess.Popen[bytes]
    extra: dict[str, Any] = field(default_factory=dict)


def processes_named(name: str) -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == name:
                found.append(int(comm.parent.name))
    return found


def cpu_by_part(run: Running) -> dict[str, float]:
    """CPU seconds so far of each part of the deployment, and of this load generator."""
    return {
        "nodes": sum(cpu_seconds(node.pid) for node in run.nodes),
        "postgres": sum(cpu_seconds(pid) for pid in processes_named("postgres")),
        "redis": sum(cpu_seconds(pid) for pid in processes_named("redis-server")),
        "haproxy": cpu_seconds(run.haproxy.pid),
        "client": time.process_time(),
    }


def spent(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """CPU microseconds per request of each part."""
    return {part: round((after[part] - before[part]) / requests * 1e6, 1) for part in before}


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_parley/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextlib.contextmanager
def deployment(key: str, args: argparse.Namespace, folder: Path) -> Iterator[Running]:
    """The configuration's nodes behind HAProxy; everything stopped (and the database dropped) afterwards."""
    _, size, kind = CONFIGS[key]
    with contextlib.ExitStack() as stack:
        balancer = free_port()
        flags = ["--public-url", f"http://127.0.0.1:{balancer}"]
        if kind == "pg":
            flags += ["--store", stack.enter_context(fresh_database(args.postgres)), "--redis-url", args.redis]
        elif kind == "sqlite":
            flags += ["--data-dir", str(folder / f"data-{secrets.token_hex(4)}")]  # a fresh one each time
        ports = [free_port() for _ in range(size)]
        log = stack.enter_context((folder / f"{key}.log").open("wb"))
        nodes = [subprocess.Popen([*NODE, "--port", str(p), *flags], stdout=log, stderr=log) for p in ports]
        servers = "\n".join(f"    server n{i} 127.0.0.1:{p}" for i, p in enumerate(ports))
        config = folder / f"{key}-haproxy.cfg"
        config.write_text(HAPROXY.format(port=balancer, servers=servers))
        haproxy = subprocess.Popen([shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(config)])
        try:
            for port in ports:
                wait(lambda port=port: healthy(port), f"node on port {port}")
            wait(lambda: healthy(balancer), "HAProxy")
            yield Running(f"http://127.0.0.1:{balancer}", balancer, nodes, haproxy)
        finally:
            for process in [*nodes, haproxy]:
                process.terminate()
            for process in [*nodes, haproxy]:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def gathered(count: int, concurrency: int, job: Any) -> list[Any]:
    """`job(n)` for n in range(count), at most `concurrency` at a time, results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> Any:
        async with gate:
            return await job(n)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def create_rate(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    pool = HttpPool("127.0.0.1", run.port, args.concurrency)
    await pool.warm(args.concurrency)
    instance = (await pool.call("PUT", "/instance", {**INSTANCE, "ClientToken": str(uuid.uuid4())}))["Id"]
    flows = (await pool.call("GET", f"/contact-flows-summary/{instance}"))["ContactFlowSummaryList"]
    flow = next(f for f in flows if f["Name"] == "Default inbound flow")["Id"]
    start = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": "c"}}

    async def start_chat(n: int) -> str:
        body = {**start, "ClientToken": str(uuid.uuid4())}
        return str((await pool.call("PUT", "/contact/chat", body))["ContactId"])

    contacts = await gathered(args.creates, args.concurrency, start_chat)
    await asyncio.sleep(1)  # the chats' flows settle before the measured phase
    bot = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "bot"}

    async def create(n: int) -> Any:
        body = {"InstanceId": instance, "ContactId": contacts[n], "ParticipantDetails": bot}
        return await pool.request("POST", "/contact/create-participant", {**body, "ClientToken": str(uuid.uuid4())})

    before, began = cpu_by_part(run), time.perf_counter()
    answers = await gathered(args.creates, args.concurrency, create)
    wall = time.perf_counter() - began
    cpu = spent(before, cpu_by_part(run), len(answers))
    pool.close()
    errors = sum(a.status != 200 for a in answers)
    if errors:
        raise BenchError(f"{errors} CreateParticipant calls failed, e.g. {answers[0].body[:200]!r}")
    latency = percentiles((a.answered - a.written) * 1000 for a in answers)
    return {"requests": len(answers), "rps": len(answers) / wall, "latency_ms": latency, "cpu_us": cpu}


async def delivery(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    pool = HttpPool("127.0.0.1", run.port, args.http_limit)
    await pool.warm(32)
    fleet = await build_fleet(pool, await parley_tokens(pool), args.chats, 32, deflate=True)
    await asyncio.sleep(1)
    try:
        before = cpu_by_part(run)
        result = await phase(pool, fleet, run.nodes[0].pid, args.rate, args.duration, 0)
        result["cpu_us"] = spent(before, cpu_by_part(run), result["messages"])
        return result
    finally:
        await fleet.close()
        pool.close()


def say(key: str, created: dict[str, Any], delivered: dict[str, Any]) -> None:
    lat, cp = delivered["latency_ms"]["all"], created["latency_ms"]
    print(
        f"{CONFIGS[key][0]}: CreateParticipant {created['rps']:.0f}/s (p50 {cp['p50']:.1f} p99 {cp['p99']:.1f} ms; "
        f"CPU us/req {created['cpu_us']}); delivery at {delivered['rate']:g} msg/s, {lat['count']} deliveries: "
        f"p50 {lat['p50']:.2f} p99 {lat['p99']:.2f} ms, lost {delivered['lost']} dup {delivered['duplicated']}; "
        f"CPU us/msg {delivered['cpu_us']}",
        flush=True,
    )


async def measure(key: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    with deployment(key, args, folder) as run:
        created = await create_rate(run, args)
    with deployment(key, args, folder) as run:
        delivered = await delivery(run, args)
    say(key, created, delivered)
    return {"config": key, "label": CONFIGS[key][0], "create": created, "delivery": delivered}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="sqlite-memory,sqlite,pg1,pg2,pg3")
    parser.add_argument("--creates", type=int, default=2000, help="CreateParticipant calls (one chat each)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--chats", type=int, default=1000, help="chats (2 sockets each) for the delivery phase")
    parser.add_argument("--rate", type=float, default=200, help="messages/s in the delivery phase")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--http-limit", type=int, default=64)
    default_pg = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--postgres", default=default_pg)
    parser.add_argument("--redis", default=os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    raise_fd_limit()
    RESULTS.mkdir(exist_ok=True)
    runs = []
    logs = Path(tempfile.mkdtemp(prefix="parley-cluster-bench-"))  # kept: the nodes' logs and HAProxy's config
    for key in args.only.split(","):
        folder = logs / key
        folder.mkdir()
        runs.append(uvloop.run(measure(key, args, folder)))
    out = RESULTS / f"cluster-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(
        json.dumps({"commit": git("rev-parse", "--short", "HEAD"), "args": vars(args), "runs": runs}, indent=1)
    )
    print(f"written to {out}; the nodes' logs are in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
