"""SendMessage-to-delivery latency on every participant's socket, next to a bare ASGI fan-out.

For each configuration (bare, Parley in memory, Parley durable) and each chat count, a fresh server
process is started, then this process (the load generator) builds the chats: a customer and a custom
bot per chat, each with a subscribed WebSocket (2 sockets a chat). It sends messages open-loop at a
fixed total rate, spread round-robin over the chats, customer and bot taking turns, and records for every
(message, socket of its chat) the time from just before the POST is written until the frame is read on
that socket; the sender's own socket (its echo) counts too. Afterwards a ladder of higher rates finds the
highest rate sustained: every message delivered once, the schedule kept (>= 95 %), and p99 from the
scheduled send time within --slo-ms. Any lost, duplicated or stray delivery, failed POST or closed socket
in the fixed-rate phase fails the run.

    .venv/bin/python bench/latency.py [--chats 100,1000] [--rate 200] [--duration 15] [--only bare,memory,durable]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import uvloop

from chatload import (
    ROLES,
    Fleet,
    HttpPool,
    LoadError,
    Receipt,
    Sent,
    TokenSource,
    bare_tokens,
    build_fleet,
    drain,
    open_loop,
    parley_tokens,
)
from run import BENCH, RESULTS, BenchError, cpu_seconds, git, hot_spots, profile, server

PARLEY = [sys.executable, "-m", "parley", "serve", "--port", "0", "--quota-active-chats", "0", "--quota-instances", "0"]
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "bare": ("bare ASGI fan-out", [sys.executable, str(BENCH / "bare_chat.py")]),
    "memory": ("Parley in-memory", [*PARLEY, "--log-level", "warning"]),
    "durable": ("Parley durable (--data-dir, synchronous=FULL)", [*PARLEY, "--log-level", "warning"]),
}
LADDER = "400,800,1200,1600,2400,3200,4800,6400"


def raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit: 1,000 chats are 2,000 sockets on each side."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def percentiles(values: Iterable[float]) -> dict[str, float]:
    """Nearest-rank p50/p90/p99 and the max, in the unit given; NaN when there are none."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50": math.nan, "p90": math.nan, "p99": math.nan, "max": math.nan}
    rank = {p: ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in (50, 90, 99)}
    return {"count": len(ordered), "p50": rank[50], "p90": rank[90], "p99": rank[99], "max": ordered[-1]}


def deliveries(sent: list[Sent], receipts: list[Receipt]) -> dict[str, Any]:
    """Latency groups (ms) of first deliveries, plus lost / duplicated / stray counts."""
    ok = {s.seq: s for s in sent if s.response.status == 200}
    groups: dict[str, list[float]] = {k: [] for k in ("all", "peer", "echo", *ROLES, "from_due")}
    seen: set[tuple[int, int]] = set()
    duplicated = stray = 0
    for receipt in receipts:
        message = ok.get(receipt.seq)
        if message is None or receipt.socket // 2 != message.sender // 2:
            stray += 1  # not a message of this phase, or on another chat's socket
        elif (receipt.seq, receipt.socket) in seen:
            duplicated += 1
        else:
            seen.add((receipt.seq, receipt.socket))
            ms = (receipt.at - message.response.written) * 1000
            groups["all"].append(ms)
            groups["echo" if receipt.socket == message.sender else "peer"].append(ms)
            groups[ROLES[receipt.socket % 2]].append(ms)
            groups["from_due"].append((receipt.at - message.due) * 1000)
    counts = {"expected": 2 * len(ok), "lost": 2 * len(ok) - len(seen), "duplicated": duplicated, "stray": stray}
    return {"latency_ms": {k: percentiles(v) for k, v in groups.items()}, **counts}


def analyse(sent: list[Sent], receipts: list[Receipt], rate: float) -> dict[str, Any]:
    written = sorted(s.response.written for s in sent)
    span = written[-1] - written[0] if len(written) > 1 else math.inf
    return {
        "rate": rate,
        "messages": len(sent),
        "achieved_rate": (len(sent) - 1) / span,
        "http_errors": sum(s.response.status != 200 for s in sent),
        "http_ms": percentiles((s.response.answered - s.response.written) * 1000 for s in sent),
        "send_lag_ms": percentiles((s.response.written - s.due) * 1000 for s in sent),
        **deliveries(sent, receipts),
    }


def clean(phase: dict[str, Any]) -> bool:
    return not (phase["http_errors"] or phase["lost"] or phase["duplicated"] or phase["stray"])


def sustained(phase: dict[str, Any], slo_ms: float) -> bool:
    kept_up = phase["achieved_rate"] >= 0.95 * phase["rate"]
    return clean(phase) and kept_up and phase["latency_ms"]["from_due"]["p99"] <= slo_ms


def machine_busy_seconds() -> float:
    """CPU time the whole machine (every core, every process, and the hypervisor's steal) used so far."""
    ticks = [int(f) for f in Path("/proc/stat").read_text().split()[1:9]]  # the aggregate "cpu" line
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Meter:
    """CPU used during a phase: by the server, by this load generator, and by anything else on the machine."""

    pid: int
    wall: float = field(default_factory=time.perf_counter)
    client: float = field(default_factory=time.process_time)
    machine: float = field(default_factory=machine_busy_seconds)
    server: float = 0.0

    def __post_init__(self) -> None:
        self.server = cpu_seconds(self.pid)

    def read(self, messages: int) -> dict[str, float]:
        wall, server = time.perf_counter() - self.wall, cpu_seconds(self.pid) - self.server
        client, machine = time.process_time() - self.client, machine_busy_seconds() - self.machine
        return {
            "server_cpu_us_per_message": server / messages * 1e6,
            "server_cores": server / wall,
            "client_cores": client / wall,
            "other_cores": max(0.0, machine - server - client) / wall,  # other jobs: the noise on a shared machine
        }


async def phase(pool: HttpPool, fleet: Fleet, pid: int, rate: float, seconds: float, seq: int) -> dict[str, Any]:
    """One open-loop run at `rate` msg/s, drained; sequence numbers start at `seq`."""
    first, meter = len(fleet.receipts), Meter(pid)
    gc.disable()  # the client's own collector pauses would show up as latency
    try:
        sent = await open_loop(pool, fleet, rate, seconds, seq)
        await drain(fleet, first, 2 * sum(s.response.status == 200 for s in sent), timeout=10)
    finally:
        gc.enable()
    result = analyse(sent, fleet.receipts[first:], rate) | meter.read(len(sent))
    result["sockets_closed"] = len(fleet.closed)
    if fleet.closed:
        raise LoadError(f"the server closed {len(fleet.closed)} sockets, e.g. socket {fleet.closed[0]}")
    return result


def say(label: str, chats: int, result: dict[str, Any]) -> None:
    lat = result["latency_ms"]["all"]
    print(
        f"  {label}, {chats} chats, {result['rate']:g} msg/s (achieved {result['achieved_rate']:.0f}): "
        f"p50 {lat['p50']:.2f} p99 {lat['p99']:.2f} max {lat['max']:.2f} ms over {lat['count']} deliveries; "
        f"lost {result['lost']} dup {result['duplicated']} stray {result['stray']} errors {result['http_errors']}; "
        f"cores: server {result['server_cores']:.2f}, client {result['client_cores']:.2f}, "
        f"other jobs {result['other_cores']:.2f}",
        flush=True,
    )


def profile_path(key: str, chats: int) -> Path:
    return RESULTS / f"profile-latency-{key}-{chats}.txt"


async def session(key: str, chats: int, args: argparse.Namespace, port: int, pid: int) -> dict[str, Any]:
    pool = HttpPool("127.0.0.1", port, args.http_limit)
    await pool.warm(args.setup_concurrency)
    started = time.perf_counter()
    tokens: TokenSource = bare_tokens() if key == "bare" else await parley_tokens(pool)
    fleet = await build_fleet(pool, tokens, chats, args.setup_concurrency, deflate=not args.no_deflate)
    setup_s = time.perf_counter() - started
    print(f"  {key}: {chats} chats, {len(fleet.sockets)} sockets subscribed in {setup_s:.1f} s", flush=True)
    await pool.warm(args.http_warm)
    await asyncio.sleep(1)  # let the participant.joined pushes of the setup go by
    gc.collect()
    gc.freeze()
    out: dict[str, Any] = {"config": key, "label": CONFIGS[key][0], "chats": chats, "sockets": len(fleet.sockets)}
    out["setup_s"] = setup_s
    try:
        spy = profile(pid, math.ceil(args.duration), profile_path(key, chats)) if args.profile else None
        out["fixed"] = fixed = await phase(pool, fleet, pid, args.rate, args.duration, 0)
        say(CONFIGS[key][0], chats, fixed)
        if not clean(fixed):
            raise LoadError(f"{key}, {chats} chats: deliveries were lost, duplicated or stray, or POSTs failed")
        out["ladder"] = await ladder(pool, fleet, pid, args, CONFIGS[key][0], chats)
        best = [step["rate"] for step in [fixed, *out["ladder"]] if sustained(step, args.slo_ms)]
        out["max_sustained"] = max(best, default=None)
    finally:
        await fleet.close()
        pool.close()
    if spy is not None:
        spy.wait(timeout=60)
        out["hot_spots"] = hot_spots(profile_path(key, chats), top=20)
    return out


async def ladder(
    pool: HttpPool, fleet: Fleet, pid: int, args: argparse.Namespace, label: str, chats: int
) -> list[dict[str, Any]]:
    """Higher rates until one is not sustained in any of --step-tries tries (other jobs on a shared machine
    can spoil a single step); every try is kept."""
    steps: list[dict[str, Any]] = []
    seq = round(args.rate * args.duration)
    for rate in args.ladder:
        for _ in range(args.step_tries):
            await asyncio.sleep(0.5)
            step = await phase(pool, fleet, pid, rate, args.step_duration, seq)
            seq += step["messages"]
            steps.append(step)
            say(label, chats, step)
            if sustained(step, args.slo_ms):
                break
        if not sustained(steps[-1], args.slo_ms):
            break
    return steps


def measure(key: str, chats: int, args: argparse.Namespace) -> dict[str, Any]:
    command = CONFIGS[key][1]
    with tempfile.TemporaryDirectory(prefix=f"parley-latency-{key}-") as tmp:
        workdir = Path(tmp)
        if key == "durable":
            command = [*command, "--data-dir", str(workdir / "data")]
        load = os.getloadavg()[0]
        with server(command, workdir, preexec=raise_fd_limit) as srv:
            result = uvloop.run(session(key, chats, args, srv.port, srv.pid))
        result |= {"server_command": " ".join(command).replace(str(workdir), "DIR"), "loadavg_before": load}
        return result


def ratios(lat: dict[str, float], base: dict[str, float] | None) -> str:
    """p50 and p99 as multiples of the bare run's (same round, same chat count)."""
    if base is None:
        return "-"
    return f"{lat['p50'] / base['p50']:.1f} / {lat['p99'] / base['p99']:.1f}"


def row(run: dict[str, Any], base: dict[str, float] | None) -> str:
    fixed = run["fixed"]
    lat = fixed["latency_ms"]["all"]
    cells = [run["round"], run["label"], f"{run['chats']:,}", f"{run['sockets']:,}", f"{fixed['rate']:g}"]
    cells += [f"{lat['count']:,}", *(f"{lat[k]:.2f}" for k in ("p50", "p90", "p99", "max")), ratios(lat, base)]
    cells += [f"{fixed['http_ms']['p50']:.2f}", f"{fixed['server_cpu_us_per_message']:.0f}"]
    cells += [f"{fixed['other_cores']:.2f}", best_rate(run)]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(runs: list[dict[str, Any]]) -> str:
    rows = [
        "| round | configuration | chats | sockets | rate msg/s | deliveries | p50 ms | p90 ms | p99 ms | max ms "
        "| p50 / p99 vs bare | POST p50 ms | server CPU µs/msg | other jobs, cores | max sustained msg/s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bare = {(r["round"], r["chats"]): r["fixed"]["latency_ms"]["all"] for r in runs if r["config"] == "bare"}
    rows += [row(run, bare.get((run["round"], run["chats"]))) for run in runs]
    return "\n".join(rows)


def best_rate(run: dict[str, Any]) -> str:
    """The highest sustained rate; '≥' when the last rate tried was sustained too (the ladder ran out)."""
    best = run.get("max_sustained")
    if best is None:
        return f"< {run['fixed']['rate']:g}"
    last = (run["ladder"] or [run["fixed"]])[-1]
    return ("≥ " if last["rate"] == best else "") + f"{best:,.0f}"


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    packages = ("uvicorn", "httptools", "uvloop", "websockets")
    return {
        "nproc": os.cpu_count(),
        "cpu": next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: version(name) for name in packages},
        "commit": git("rev-parse", "HEAD") + (" (modified)" if git("status", "--porcelain", "--", "src") else ""),
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", default="100,1000", help="comma-separated chat counts")
    parser.add_argument("--only", default=",".join(CONFIGS), help="comma-separated subset of " + ", ".join(CONFIGS))
    parser.add_argument("--repeat", type=int, default=1, help="rounds over every configuration and chat count")
    parser.add_argument("--rate", type=float, default=200, help="total messages a second, the reported phase")
    parser.add_argument("--duration", type=float, default=15, help="seconds of the reported phase")
    parser.add_argument("--ladder", default=LADDER, help="higher rates tried for the max sustained ('' = none)")
    parser.add_argument("--step-duration", type=float, default=5, help="seconds of each ladder step")
    parser.add_argument("--step-tries", type=int, default=2, help="tries of a ladder step before giving up")
    parser.add_argument("--slo-ms", type=float, default=100, help="p99 from the scheduled send, sustained")
    parser.add_argument("--setup-concurrency", type=int, default=32, help="chats being set up at once")
    parser.add_argument("--http-warm", type=int, default=64, help="keep-alive connections opened before sending")
    parser.add_argument("--http-limit", type=int, default=512, help="most keep-alive connections (open loop)")
    parser.add_argument("--no-deflate", action="store_true", help="sockets without permessage-deflate")
    parser.add_argument("--profile", action="store_true", help="py-spy the server during the reported phase")
    args = parser.parse_args()
    args.keys = [k.strip() for k in args.only.split(",") if k.strip()]
    if unknown := [k for k in args.keys if k not in CONFIGS]:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}")
    args.chat_counts = [int(n) for n in args.chats.split(",") if n.strip()]
    args.ladder = [float(r) for r in args.ladder.split(",") if r.strip() and float(r) > args.rate]
    return args


def main() -> int:
    args = arguments()
    raise_fd_limit()
    RESULTS.mkdir(exist_ok=True)
    runs: list[dict[str, Any]] = []
    try:
        for round_ in range(1, args.repeat + 1):
            for chats in args.chat_counts:
                for key in sorted(args.keys, key=lambda k: k != "bare"):  # bare first, for the ratios
                    print(f"round {round_}/{args.repeat}: {key}, {chats} chats", flush=True)
                    runs.append({"round": round_, **measure(key, chats, args)})
    except (BenchError, LoadError, OSError) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    print()
    print(table(runs))
    command = shlex.join([os.path.relpath(sys.executable), f"bench/{Path(__file__).name}", *sys.argv[1:]])
    print(f"\nreproduce: {command}")
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), "command": command}
    (RESULTS / "latency.json").write_text(json.dumps({**report, "args": vars(args), "runs": runs}, indent=2) + "\n")
    print(f"wrote {RESULTS / 'latency.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
