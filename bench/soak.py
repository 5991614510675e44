"""A soak: mixed chat traffic at half the measured capacity for ten minutes, reporting throughput, p99 latency
and the server's RSS over time, so that a leak shows as memory that does not level off.

The mix, all over keep-alive HTTP (bench/chatload.py) against one fresh `parley serve`:

- conversations: StartChatContact (with a ClientToken, as SDKs send), CreateParticipantConnection,
  SendEvent (typing), three SendMessage, GetTranscript, StopContact: eight requests, one after the other;
- a fleet of long-lived chats whose customer and bot each hold a subscribed WebSocket; SendMessage into
  them, every message pushed to both sockets (deliveries are counted).

First the capacity is measured closed-loop (CONCURRENCY conversation loops and fleet senders for
--probe seconds); then conversations start open-loop at half that rate (and fleet messages likewise) for
--duration seconds. Every --interval seconds: requests answered, p99 latency (from the scheduled start for
open-loop work), non-2xx answers and the server's RSS and CPU. Latency of a conversation's later requests
is measured from when each was written.

    .venv/bin/python bench/soak.py [--duration 600] [--probe 20] [--memory] [--fraction 0.5] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.conftest import RunningParley, start_parley  # noqa: E402

from chatload import DIGITS, MARKER, HttpPool, build_fleet, parley_tokens  # noqa: E402

CONCURRENCY = 64  # conversation loops while probing capacity (fsync latency needs many in flight)
FLEET_CHATS = 50
FLEET_SHARE = 0.25  # of all requests: fleet messages; the rest are conversations
CONVERSATION_REQUESTS = 8
SERVER_ARGS: tuple[str, ...] = ("--quota-active-chats", "0", "--quota-instances", "0", "--log-level", "warning")
SERVER_ARGS += ("--customer-connect-timeout", "0", "--bot-connect-timeout", "0")
TICKS = os.sysconf("SC_CLK_TCK")


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds) of a process."""
    rss = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return rss / 1024, (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Window:
    """What happened in one sampling interval."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    conversations: int = 0

    def failed(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


class Traffic:
    def __init__(self, pool: HttpPool, instance: str, flow: str, fleet: Any) -> None:
        self.pool, self.instance, self.flow, self.fleet = pool, instance, flow, fleet
        self.window = Window()
        self.seq = 0

    async def timed(
        self, method: str, path: str, body: Any, bearer: str | None = None, since: float | None = None
    ) -> Any:
        response = await self.pool.request(method, path, body, bearer)
        self.window.latencies.append(response.answered - (since if since is not None else response.written))
        if response.status // 100 != 2:
            self.window.failed(f"{path} {response.status}")
            return None
        return json.loads(response.body) if response.body else {}

    async def conversation(self, due: float | None = None) -> None:
        start = {
            "InstanceId": self.instance,
            "ContactFlowId": self.flow,
            "ParticipantDetails": {"DisplayName": "Soak"},
            "ClientToken": str(uuid.uuid4()),
        }
        started = await self.timed("PUT", "/contact/chat", start, since=due)
        if started is None:
            return
        connected = await self.timed(
            "POST", "/participant/connection", {"Type": ["CONNECTION_CREDENTIALS"]}, started["ParticipantToken"]
        )
        if connected is None:
            return
        token = connected["ConnectionCredentials"]["ConnectionToken"]
        typing = {"ContentType": "application/vnd.amazonaws.connect.event.typing"}
        await self.timed("POST", "/participant/event", typing, token)
        for n in range(3):
            await self.timed("POST", "/participant/message", {"ContentType": "text/plain", "Content": f"m{n}"}, token)
        await self.timed("POST", "/participant/transcript", {"MaxResults": 15}, token)
        await self.timed("POST", "/contact/stop", {"InstanceId": self.instance, "ContactId": started["ContactId"]})
        self.window.conversations += 1

    async def fleet_message(self, due: float | None = None) -> None:
        self.seq += 1
        sock = self.fleet.sockets[self.seq % len(self.fleet.sockets)]
        body = {
            "ContentType": "text/plain",
            "Content": f"{MARKER}{self.seq:0{DIGITS}d}",
            "ClientToken": str(uuid.uuid4()),
        }
        await self.timed("POST", "/participant/message", body, sock.connection_token, since=due)

    def take(self) -> Window:
        window, self.window = self.window, Window()
        return window


async def closed_loop(traffic: Traffic, seconds: float) -> float:
    """Requests per second with CONCURRENCY conversation loops and proportionate fleet senders."""
    deadline = time.perf_counter() + seconds
    traffic.take()

    async def loop(work: Any) -> None:
        while time.perf_counter() < deadline:
            await work()

    senders = max(1, round(CONCURRENCY * CONVERSATION_REQUESTS * FLEET_SHARE / (1 - FLEET_SHARE) / 4))
    started = time.perf_counter()
    await asyncio.gather(
        *(loop(traffic.conversation) for _ in range(CONCURRENCY)),
        *(loop(traffic.fleet_message) for _ in range(senders)),
    )
    return len(traffic.take().latencies) / (time.perf_counter() - started)


async def open_loop(work: Any, rate: float, seconds: float, tasks: set[asyncio.Task[None]]) -> None:
    """`work(due)` started at `rate` per second, whether or not earlier ones finished."""
    loop, start = asyncio.get_running_loop(), time.perf_counter()
    for k in range(round(rate * seconds)):
        due = start + k / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        task = loop.create_task(work(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0


async def sample(traffic: Traffic, pid: int, interval: float, until: float, rows: list[dict[str, Any]]) -> None:
    started = last = time.perf_counter()
    cpu_before = proc_stats(pid)[1]
    while last < until:
        await asyncio.sleep(min(interval, max(0.0, until - last)))
        now = time.perf_counter()
        window = traffic.take()
        rss, cpu = proc_stats(pid)
        rows.append(
            {
                "t": round(now - started),
                "rps": round(len(window.latencies) / (now - last)),
                "p99_ms": round(p99(window.latencies), 1),
                "p50_ms": round(sorted(window.latencies)[len(window.latencies) // 2] * 1000, 1)
                if window.latencies
                else 0,
                "failures": window.failures,
                "conversations": window.conversations,
                "rss_mb": round(rss, 1),
                "server_cpu": round((cpu - cpu_before) / (now - last), 2),
                "load1": round(os.getloadavg()[0], 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        last, cpu_before = now, cpu


async def soak(args: argparse.Namespace, server: RunningParley) -> dict[str, Any]:
    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    pool = HttpPool(host, int(port), limit=256)
    await pool.warm(32)
    tokens = await parley_tokens(pool)
    fleet = await build_fleet(pool, tokens, FLEET_CHATS, concurrency=8, deflate=True)
    summary = (await pool.call("GET", "/instance"))["InstanceSummaryList"][0]
    flows = (await pool.call("GET", f"/contact-flows-summary/{summary['Id']}"))["ContactFlowSummaryList"]
    flow = next(f for f in flows if f["Name"] == "Default inbound flow")["Id"]
    traffic = Traffic(pool, summary["Id"], flow, fleet)
    rss_start = proc_stats(server.process.pid)[0]
    capacity = await closed_loop(traffic, args.probe)
    rate = capacity * args.fraction
    conversations_per_s = rate * (1 - FLEET_SHARE) / CONVERSATION_REQUESTS
    messages_per_s = rate * FLEET_SHARE
    print(f"capacity {capacity:.0f} requests/s; soaking at {rate:.0f}/s for {args.duration} s", flush=True)
    rows: list[dict[str, Any]] = []
    tasks: set[asyncio.Task[None]] = set()
    until = time.perf_counter() + args.duration
    receipts_before = len(fleet.receipts)
    await asyncio.gather(
        open_loop(traffic.conversation, conversations_per_s, args.duration, tasks),
        open_loop(traffic.fleet_message, messages_per_s, args.duration, tasks),
        sample(traffic, server.process.pid, args.interval, until, rows),
    )
    await asyncio.gather(*tasks)
    await asyncio.sleep(1)
    delivered = len(fleet.receipts) - receipts_before
    await fleet.close()
    pool.close()
    return {
        "capacity_rps": round(capacity),
        "target_rps": round(rate),
        "conversations_per_s": round(conversations_per_s, 1),
        "fleet_messages_per_s": round(messages_per_s, 1),
        "fleet_deliveries": delivered,
        "fleet_deliveries_expected": 2 * round(messages_per_s * args.duration),
        "closed_sockets": len(fleet.closed),
        "rss_start_mb": round(rss_start, 1),
        "samples": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--probe", type=float, default=20, help="seconds of closed-loop capacity measurement")
    parser.add_argument("--fraction", type=float, default=0.5, help="of the measured capacity")
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--memory", action="store_true", help="in-memory store (default: --data-dir in a temp dir)")
    parser.add_argument("--server-args", default="")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parley-soak-") as data_dir:
        store = () if args.memory else ("--data-dir", data_dir)
        server = start_parley(*SERVER_ARGS, *store, *shlex.split(args.server_args))
        try:
            report = uvloop.run(soak(args, server))
        finally:
            server.stop()
    report["store"] = "memory" if args.memory else "durable (--data-dir, synchronous=FULL)"
    report["bad_log_lines"] = [line for line in server.lines if "Traceback" in line or "ERROR" in line][:20]
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
