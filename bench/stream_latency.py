"""Does chat message streaming slow the chat? SendMessage-to-delivery with and without two streams per chat.

Two fresh in-memory Parley processes in one run, each with --chats chats (customer and custom bot, both
sockets subscribed, as bench/latency.py builds them) and the same open-loop load (--rate msg/s for
--duration s):

- `plain`: no streaming;
- `live`: one stream per chat, `chatStreaming`, to a webhook in this process;
- `streams`: every chat has two streams: `chatStreaming` to that webhook (a live target) and `deadTarget`
  to a port where nothing listens (connection refused, retried with backoff all along).

Reported for each: the WebSocket delivery latency over every socket (from just before the SendMessage POST
is written to the frame on the socket), the POST's own latency, and for `streams` the latency to the live
webhook (POST written -> notification received) and the dead target's retry count.

    .venv/bin/python bench/stream_latency.py [--chats 100] [--rate 200] [--duration 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
from aiohttp import web

from chatload import DIGITS, INSTANCE, MARKER, HttpPool, TokenSource, build_fleet, drain, open_loop
from latency import CONFIGS, Meter, analyse, percentiles, raise_fd_limit
from run import RESULTS, server

ACCOUNT_TOPIC = "arn:aws:sns:us-east-1:123456789012:"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Webhook:
    """The live target: when each message's notification arrived (first arrival per sequence number)."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.posts = 0

    async def handle(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        text = await request.text()
        self.posts += 1
        if (k := text.find(MARKER)) >= 0:
            seq = int(text[k + len(MARKER) : k + len(MARKER) + DIGITS])
            self.arrivals.setdefault(seq, at)
        return web.Response(status=200)

    async def start(self, port: int) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/sns", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner


async def streamed_tokens(pool: HttpPool, dead: bool) -> TokenSource:
    """As chatload.parley_tokens, plus ChatStreamingConfiguration and a second StartContactStreaming."""
    instance = (await pool.call("PUT", "/instance", INSTANCE))["Id"]
    flows = (await pool.call("GET", f"/contact-flows-summary/{instance}"))["ContactFlowSummaryList"]
    flow = next(f for f in flows if f["Name"] == "Default inbound flow")["Id"]

    async def tokens(pool: HttpPool, chat: int) -> tuple[str, str]:
        start = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": f"c{chat}"}}
        start["ChatStreamingConfiguration"] = {"StreamingEndpointArn": ACCOUNT_TOPIC + "chatStreaming"}
        started = await pool.call("PUT", "/contact/chat", start)
        if dead:
            await dead_stream(pool, instance, started["ContactId"], chat)
        bot = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": f"bot{chat}"}
        create = {"InstanceId": instance, "ContactId": started["ContactId"], "ParticipantDetails": bot}
        created = await pool.call("POST", "/contact/create-participant", create)
        return started["ParticipantToken"], created["ParticipantCredentials"]["ParticipantToken"]

    return tokens


async def dead_stream(pool: HttpPool, instance: str, contact_id: str, chat: int) -> None:
    second: dict[str, Any] = {"InstanceId": instance, "ContactId": contact_id, "ClientToken": f"dead-{chat}"}
    second["ChatStreamingConfiguration"] = {"StreamingEndpointArn": ACCOUNT_TOPIC + "deadTarget"}
    await pool.call("POST", "/contact/start-streaming", second)


async def plain_tokens(pool: HttpPool) -> TokenSource:
    from chatload import parley_tokens

    return await parley_tokens(pool)


async def session(key: str, args: argparse.Namespace, port: int, pid: int, hook: Webhook | None) -> dict[str, Any]:
    pool = HttpPool("127.0.0.1", port, 512)
    await pool.warm(32)
    tokens = await (streamed_tokens(pool, key == "streams") if hook else plain_tokens(pool))
    fleet = await build_fleet(pool, tokens, args.chats, 32, deflate=True)
    await pool.warm(64)
    await asyncio.sleep(1)
    try:
        first, meter = len(fleet.receipts), Meter(pid)
        sent = await open_loop(pool, fleet, args.rate, args.duration, 0)
        await drain(fleet, first, 2 * sum(s.response.status == 200 for s in sent), timeout=10)
        result = analyse(sent, fleet.receipts[first:], args.rate) | meter.read(len(sent))
        result["config"], result["chats"] = key, args.chats
        if hook is not None:
            await asyncio.sleep(2)  # the live stream's tail
            written = {s.seq: s.response.written for s in sent if s.response.status == 200}
            result["stream_ms"] = percentiles(
                (hook.arrivals[seq] - at) * 1000 for seq, at in written.items() if seq in hook.arrivals
            )
        return result
    finally:
        await fleet.close()
        pool.close()


async def run_config(key: str, args: argparse.Namespace) -> dict[str, Any]:
    hook = Webhook() if key != "plain" else None
    live, dead = free_port(), free_port()
    command = [*CONFIGS["memory"][1]]
    if hook is not None:
        command += [
            "--sns",
            f"chatStreaming=http://127.0.0.1:{live}/sns",
            "--sns",
            f"deadTarget=http://127.0.0.1:{dead}/sns",
        ]
    runner = await hook.start(live) if hook else None
    try:
        with (
            tempfile.TemporaryDirectory(prefix=f"parley-stream-latency-{key}-") as tmp,
            server(command, Path(tmp), preexec=raise_fd_limit) as srv,
        ):
            result = await session(key, args, srv.port, srv.pid, hook)
            if key == "streams":
                result["health"] = await admin(srv.port, "health")
                dead = (await admin(srv.port, "streams?topic=deadTarget"))["streams"]
                result["dead_target"] = {
                    "streams": len(dead),
                    "pending": sum(s["counts"]["pending"] for s in dead),
                    "retrying": sum(s["counts"]["retrying"] for s in dead),
                    "delivered": sum(s["counts"]["delivered"] for s in dead),
                    "lastError": dead[0]["lastError"] if dead else None,
                }
    finally:
        if runner is not None:
            await runner.cleanup()
    if hook is not None:
        result["webhook_posts"] = hook.posts
    return result


async def admin(port: int, path: str) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /_parley/{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    raw = await reader.read()
    writer.close()
    found: dict[str, Any] = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    return found


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200, help="total messages a second")
    parser.add_argument("--duration", type=float, default=15, help="seconds of the measured phase")
    parser.add_argument("--only", default="plain,live,streams", help="comma-separated subset of plain,live,streams")
    args = parser.parse_args()
    args.configs = [k.strip() for k in args.only.split(",") if k.strip() in ("plain", "live", "streams")]
    return args


def main() -> int:
    args = arguments()
    raise_fd_limit()
    out: dict[str, Any] = {}
    for key in args.configs:
        out[key] = uvloop.run(run_config(key, args))
    print(report(out, args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stream_latency.json").write_text(json.dumps(out, indent=2, default=str))
    return 0


def report(out: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"{args.chats} chats, {args.rate:g} msg/s for {args.duration:g} s, Parley in memory",
        "| configuration | WS deliveries | WS p50 ms | WS p99 ms | POST p50 ms | POST p99 ms | lost/dup "
        "| live webhook p50 / p99 ms | server CPU µs/msg | other jobs, cores |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, result in out.items():
        lat, post = result["latency_ms"]["all"], result["http_ms"]
        hook = result.get("stream_ms")
        live = f"{hook['p50']:.2f} / {hook['p99']:.2f} ({hook['count']:,})" if hook else "-"
        lines.append(
            f"| {key} | {lat['count']:,} | {lat['p50']:.2f} | {lat['p99']:.2f} | {post['p50']:.2f} | "
            f"{post['p99']:.2f} | {result['lost']}/{result['duplicated']} | {live} | "
            f"{result['server_cpu_us_per_message']:.0f} | {result['other_cores']:.2f} |"
        )
    if "streams" not in out:
        return "\n".join(lines)
    streamed = out["streams"]
    lines.append("")
    lines.append(
        f"live webhook: {streamed['stream_ms']['count']:,} of {streamed['messages']:,} messages, "
        f"p50 {streamed['stream_ms']['p50']:.2f} ms, p99 {streamed['stream_ms']['p99']:.2f} ms, "
        f"max {streamed['stream_ms']['max']:.2f} ms; dead target after the phase: {streamed['dead_target']}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
