"""Idle subscribed WebSockets: the server's RSS per socket at 10,000 and 50,000 sockets, with and without
permessage-deflate offered.

For each case a fresh in-memory `parley serve` starts (its fd limit raised), this process creates the chats
over HTTP (StartChatContact for a customer and CreateParticipant for a custom bot: two participants, two
sockets a chat) and then, per participant, CreateParticipantConnection, whose `Websocket.Url` it hands at
once to one of several client processes (bench/socket_client.py, 12,500 sockets each, each from its own
source address 127.0.0.x, since one address has only ~28,000 ephemeral ports). A client opens the socket
with the real handshake, offering `permessage-deflate; client_max_window_bits` as browsers do (or not),
subscribes and waits for the ack. The server's RSS is read (/proc) once the chats exist and again once
every socket is subscribed and the server has settled; per socket = the difference / sockets.

A process needs an fd per socket. The server's limit is raised as far as the hard limit allows (raising
the hard limit itself needs CAP_SYS_RESOURCE); when it is below the count asked for, as many sockets as fit
are opened and the RSS at the count asked for is projected: start + (measured - start) x asked / opened.

    .venv/bin/python bench/sockets.py [--counts 10000,50000] [--modes deflate,plain] [--limit-mib 1024]

Exits 1 when a case fails to open every socket or 50,000 browser sockets (deflate) take over --limit-mib.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from chatload import CONNECTION, HttpPool, parley_tokens
from run import BENCH, RESULTS, BenchError, git, server

PER_CLIENT = 12_500
PARLEY = [sys.executable, "-m", "parley", "serve", "--port", "0", "--quota-active-chats", "0", "--quota-instances", "0"]
PARLEY += ["--log-level", "warning", "--ws-idle-timeout", "0", "--max-sockets-per-participant", "0"]
PARLEY += ["--bot-connect-timeout", "0"]  # the bots connect only once every chat exists
FDS = 200_000
RESERVED_FDS = 1000  # the server's own files, listening socket and HTTP connections


@dataclass
class Case:
    sockets: int  # asked for
    opened: int  # measured: fewer than asked when the fd limit is lower (then RSS at `sockets` is projected)
    deflate: bool
    rss_start_mib: float  # the server before the first chat
    rss_chats_mib: float  # the server once every chat exists, before any socket
    rss_mib: float  # with every socket open and subscribed
    projected_mib: float  # at `sockets`: start + chats and sockets scaled from `opened` (= rss_mib when all opened)
    per_socket_kib: float
    extensions: list[str]  # what the server answered to the offer
    setup_s: float
    open_s: float


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for {pid}")


def raise_fd_limit() -> None:
    """The highest fd limit this process may have (raising the hard limit needs CAP_SYS_RESOURCE); also run
    in the server's child process."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FDS, FDS))
    except (ValueError, OSError):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_clients(count: int, deflate: bool) -> list[subprocess.Popen[str]]:
    clients = []
    for k in range(math.ceil(count / PER_CLIENT)):
        command = [sys.executable, str(BENCH / "socket_client.py"), "--source", f"127.0.0.{k + 2}"]
        command += [] if deflate else ["--no-deflate"]
        clients.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    return clients


async def chat_tokens(pool: HttpPool, chats: int) -> list[str]:
    tokens_of = await parley_tokens(pool)
    gate, out = asyncio.Semaphore(32), list[str]()

    async def one(chat: int) -> None:
        async with gate:
            out.extend(await tokens_of(pool, chat))

    await asyncio.gather(*(one(chat) for chat in range(chats)))
    return out


async def hand_out(pool: HttpPool, tokens: list[str], clients: list[subprocess.Popen[str]]) -> None:
    """A URL per participant, written to its client as soon as it exists (a URL is good for 100 s)."""
    gate = asyncio.Semaphore(32)

    async def one(index: int, token: str) -> None:
        async with gate:
            out = await pool.call("POST", "/participant/connection", CONNECTION, token)
        pipe = clients[index // PER_CLIENT].stdin
        assert pipe is not None
        pipe.write(out["Websocket"]["Url"] + "\n")
        pipe.flush()

    await asyncio.gather(*(one(i, token) for i, token in enumerate(tokens)))


def reports(clients: list[subprocess.Popen[str]]) -> list[dict[str, object]]:
    out = []
    for client in clients:
        pipe: IO[str] | None = client.stdin
        assert pipe is not None and client.stdout is not None
        pipe.write("\n")
        pipe.flush()
        out.append(json.loads(client.stdout.readline()))
    return out


async def measure(pid: int, port: int, asked: int, count: int, deflate: bool) -> Case:
    pool = HttpPool("127.0.0.1", port, 32)
    start = rss_kib(pid)
    started = time.perf_counter()
    tokens = await chat_tokens(pool, count // 2)
    setup = time.perf_counter() - started
    await asyncio.sleep(1)
    before = rss_kib(pid)
    clients = start_clients(count, deflate)
    try:
        started = time.perf_counter()
        await hand_out(pool, tokens, clients)
        answers = await asyncio.get_running_loop().run_in_executor(None, reports, clients)
        opened = time.perf_counter() - started
        failures = [f for a in answers for f in a["failures"]]  # type: ignore[attr-defined]
        total = sum(int(a["opened"]) for a in answers)  # type: ignore[call-overload]
        if failures or total != count:
            raise BenchError(f"{total} of {count} sockets opened: {failures[:3]}")
        await asyncio.sleep(3)  # let the server settle (freed handshake buffers, the last acks written)
        after = rss_kib(pid)
    finally:
        pool.close()
        for client in clients:
            client.kill()
            client.wait()
    extensions = sorted({e for a in answers for e in a["extensions"]})  # type: ignore[attr-defined]
    per = (after - before) / count
    projected = start + (after - start) * asked / count
    start_mib, chats_mib, rss_mib, projected_mib = (kib / 1024 for kib in (start, before, after, projected))
    return Case(asked, count, deflate, start_mib, chats_mib, rss_mib, projected_mib, per, extensions, setup, opened)


def run_case(asked: int, deflate: bool, fd_limit: int) -> Case:
    count = min(asked, (fd_limit - RESERVED_FDS) // 2 * 2)  # two sockets a chat
    with tempfile.TemporaryDirectory(prefix="parley-sockets-") as tmp, server(PARLEY, Path(tmp), raise_fd_limit) as srv:
        return asyncio.run(measure(srv.pid, srv.port, asked, count, deflate))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="10000,50000")
    parser.add_argument("--modes", default="deflate,plain")
    parser.add_argument("--limit-mib", type=float, default=1024.0)
    args = parser.parse_args()
    raise_fd_limit()
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    cases = []
    print(f"fd limit {fd_limit}: beyond {fd_limit - RESERVED_FDS} sockets the RSS is projected from what opened")
    columns = f"{'chats MiB':>9} {'RSS MiB':>8} {'at asked':>8} {'KiB/socket':>10} {'open s':>7}  negotiated"
    print(f"{'sockets':>8} {'opened':>7} {'offer':<8} {columns}")
    for count in (int(c) for c in args.counts.split(",")):
        for mode in args.modes.split(","):
            case = run_case(count, mode == "deflate", fd_limit)
            cases.append(case)
            offer = "deflate" if case.deflate else "none"
            shown = ", ".join(case.extensions) or "-"
            print(
                f"{case.sockets:>8} {case.opened:>7} {offer:<8} {case.rss_chats_mib:>9.0f} {case.rss_mib:>8.0f} "
                f"{case.projected_mib:>8.0f} "
                f"{case.per_socket_kib:>10.1f} {case.open_s:>7.1f}  {shown}",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    report = {"commit": git("rev-parse", "--short", "HEAD"), "cases": [asdict(c) for c in cases]}
    (RESULTS / "sockets.json").write_text(json.dumps(report, indent=2))
    over = [c for c in cases if c.sockets >= 50_000 and c.deflate and c.projected_mib > args.limit_mib]
    if over:
        print(
            f"sockets: 50,000 browser sockets take {over[0].projected_mib:.0f} MiB > {args.limit_mib:.0f}",
            file=sys.stderr,
        )
    return 1 if over else 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(main())
