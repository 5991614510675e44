"""CreateParticipant throughput and latency, each request on a fresh chat, next to a bare ASGI endpoint.

Every configuration gets its own server process on 127.0.0.1 and two wrk runs with the same flags: a
1-second calibration (also a warm-up), then the measured run on a pool of pre-created chats sized
rps x duration x 1.3, where rps is the calibration rate of the busiest wrk thread x threads. A run
with any non-2xx response, socket error or exhausted pool fails loudly.

    .venv/bin/python bench/run.py [--duration 10] [--connections 64] [--threads 2] [--repeat 1] [--profile]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SCRIPT = BENCH / "create_participant.lua"
RESULTS = BENCH / "results"
PARLEY = [sys.executable, "-m", "parley", "serve", "--port", "0", "--quota-active-chats", "0", "--quota-instances", "0"]
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "bare": ("bare ASGI (uvicorn+httptools+uvloop)", [sys.executable, str(BENCH / "bare_app.py")]),
    "memory": ("Parley in-memory, access log off", [*PARLEY, "--log-level", "warning"]),
    "memory-log": ("Parley in-memory, access log on (to a file)", [*PARLEY, "--log-level", "info"]),
    "durable": ("Parley durable (--data-dir, synchronous=FULL)", [*PARLEY, "--log-level", "warning"]),
}
MARGIN = 1.3
CALIBRATION_POOL = 4000  # chats for the first 1-second calibration; x4 while that runs out
CHAT_WORKERS = 8
BOT_TIMEOUT_S = 15  # Parley's default --bot-connect-timeout: a bot that never connects is then dropped (a write)
JSON_HEADERS = {"Content-Type": "application/json"}
INSTANCE: dict[str, Any] = {"IdentityManagementType": "CONNECT_MANAGED", "InstanceAlias": "bench"}
INSTANCE |= {"InboundCallsEnabled": True, "OutboundCallsEnabled": True}


class BenchError(RuntimeError):
    pass


@dataclass
class Server:
    url: str
    port: int
    pid: int
    stdout: Path

    def call(self, conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> Any:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=JSON_HEADERS)
        response = conn.getresponse()
        data = response.read()
        if response.status // 100 != 2:
            raise BenchError(f"{method} {path} -> {response.status}: {data[:300]!r}")
        return json.loads(data)


@contextmanager
def server(command: list[str], workdir: Path, preexec: Callable[[], None] | None = None) -> Iterator[Server]:
    out, err = workdir / "stdout.log", workdir / "stderr.log"
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(
            command, stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL, cwd=BENCH.parent, preexec_fn=preexec
        )
    try:
        deadline = time.monotonic() + 30
        while b"\n" not in out.read_bytes() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        first = out.read_bytes().split(b"\n", 1)[0].decode()
        if "listening on http://" not in first:
            raise BenchError(f"server did not start: {first!r}\n{err.read_text()[-2000:]}")
        url = first.split("listening on ", 1)[1].strip()
        yield Server(url, int(url.rsplit(":", 1)[1]), proc.pid, out)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def prepare_instance(srv: Server) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        instance = srv.call(conn, "PUT", "/instance", INSTANCE)["Id"]
        flows = srv.call(conn, "GET", f"/contact-flows-summary/{instance}")["ContactFlowSummaryList"]
        flow = next((f for f in flows if f["Name"] == "Default inbound flow"), flows[0])["Id"]
        return instance, flow
    finally:
        conn.close()


def create_chats(srv: Server, instance: str, flow: str, count: int, budget_s: float = 600) -> list[str]:
    """`count` new chat contacts, over CHAT_WORKERS keep-alive connections."""
    deadline = time.monotonic() + budget_s
    body = {"InstanceId": instance, "ContactFlowId": flow, "ParticipantDetails": {"DisplayName": "c"}}

    def work(n: int) -> list[str]:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        ids = []
        try:
            for _ in range(n):
                if time.monotonic() > deadline:
                    raise BenchError(f"creating {count} chats took longer than {budget_s:.0f} s")
                ids.append(srv.call(conn, "PUT", "/contact/chat", body)["ContactId"])
        finally:
            conn.close()
        return ids

    shares = [count // CHAT_WORKERS + (i < count % CHAT_WORKERS) for i in range(CHAT_WORKERS)]
    with ThreadPoolExecutor(CHAT_WORKERS) as pool:
        return [cid for ids in pool.map(work, shares) for cid in ids]


def wrk(
    url: str, ids_file: Path, instance: str, seconds: int, args: argparse.Namespace, calibrating: bool = False
) -> dict[str, Any] | None:
    """wrk's figures, or None when a calibration run used up its pool (that pool was too small)."""
    command = [*f"wrk -t{args.threads} -c{args.connections} -d{seconds}s --latency -s".split(), str(SCRIPT), url]
    command += ["--", str(ids_file), instance, str(args.threads)]  # the Lua script's arguments
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    stats: dict[str, Any] = json.loads(line[6:])
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["command"] = " ".join(command)
    stats["wrk_output"] = done.stdout
    if calibrating and stats["exhausted"]:
        return None
    errors = {k: stats[k] for k in ("non2xx", "connect", "read", "write", "timeout", "exhausted") if stats[k]}
    if errors:
        raise BenchError(f"wrk saw errors {errors} (a benchmark of errors is worthless):\n{done.stdout}")
    return stats


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server through the measured run, as collapsed stacks (None without py-spy)."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        print("  (py-spy not found: pip install py-spy; running without a profile)", flush=True)
        return None
    command = [spy, "record", "-p", str(pid), "-d", str(seconds + 1), "-r", "100", "-f", "raw"]
    return subprocess.Popen([*command, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hot_spots(collapsed: Path, top: int = 12) -> list[tuple[str, float]]:
    """Share of samples per innermost Python line (a C call such as an SQL statement counts for its caller)."""
    shares: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        shares[stack.rsplit(";", 1)[-1]] += int(count)
    total = max(sum(shares.values()), 1)
    return [(name, n / total) for name, n in shares.most_common(top)]


def measure(key: str, args: argparse.Namespace, rps_cap: float) -> dict[str, Any]:
    label, command = CONFIGS[key]
    with tempfile.TemporaryDirectory(prefix=f"parley-bench-{key}-") as tmp:
        workdir = Path(tmp)
        if key == "durable":
            command = [*command, "--data-dir", str(workdir / "data")]
        with server(command, workdir) as srv:
            instance, flow = ("bare", "") if key == "bare" else prepare_instance(srv)
            created = 0

            def pool(size: int, name: str) -> Path:
                nonlocal created
                created, started = created + size, time.monotonic()
                fake = key == "bare"  # the bare app ignores the ids; the client does the same work
                ids = [str(uuid.uuid4()) for _ in range(size)] if fake else create_chats(srv, instance, flow, size)
                (workdir / name).write_text("\n".join(ids) + "\n")
                print(f"  {key}: {size} chats ready in {time.monotonic() - started:.1f} s", flush=True)
                return workdir / name

            cap = math.ceil(rps_cap * MARGIN)
            size, calibration = (cap if key == "bare" else min(CALIBRATION_POOL, cap)), None
            for _ in range(6):  # x4 while the pool runs out within the second
                calibration = wrk(srv.url, pool(size, "calibrate.txt"), instance, 1, args, calibrating=True)
                if calibration is not None or size >= cap:
                    break
                size = min(size * 4, cap)
            if calibration is None:
                raise BenchError(f"{key}: the calibration pool of {size} chats ran out within 1 s")
            # Each wrk thread has its own share of the pool, and the threads do not get equal service.
            busiest = calibration["busiest_thread_sent"] * args.threads / (calibration["duration_us"] / 1e6)
            expected = max(busiest, args.max_rps) if key == "bare" else busiest  # the bare app's ids are free
            size = math.ceil(expected * args.duration * MARGIN) + args.connections
            calibrated_at = time.monotonic()
            ids = pool(size, "ids.txt")
            if key != "bare":  # let the calibration bots' timers fire before the measured run, not during it
                time.sleep(max(0.0, calibrated_at + BOT_TIMEOUT_S + 1 - time.monotonic()))
            log_before, load = srv.stdout.read_bytes().count(b"\n"), os.getloadavg()[0]
            spy = profile(srv.pid, args.duration, RESULTS / f"profile-{key}.txt") if args.profile else None
            cpu_before = cpu_seconds(srv.pid)
            stats = wrk(srv.url, ids, instance, args.duration, args)
            assert stats is not None
            cpu = cpu_seconds(srv.pid) - cpu_before
            log_lines = srv.stdout.read_bytes().count(b"\n") - log_before
            if spy is not None:
                spy.wait(timeout=60)
                stats["hot_spots"] = hot_spots(RESULTS / f"profile-{key}.txt")
        stats.update(
            config=key,
            label=label,
            server_command=" ".join(command).replace(str(workdir), "DIR"),
            pool=size,
            calibration_rps=calibration["rps"],
            access_log_lines=log_lines,
            server_cpu_us_per_request=cpu / stats["requests"] * 1e6,
            server_cpu_share=cpu / (stats["duration_us"] / 1e6),  # 1.0 = one core busy throughout
            chats_in_store=0 if key == "bare" else created,
            loadavg_before=load,
        )
        print(f"  {key}: {stats['rps']:,.0f} req/s, p50 {stats['p50_us'] / 1000:.2f} ms", flush=True)
        for name, share in stats.get("hot_spots", []):
            print(f"      {share:6.1%}  {name}")
        return stats


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n", 1)[0],
        "commit": git("rev-parse", "HEAD") + (" (modified)" if git("status", "--porcelain", "--", "src") else ""),
    }


def git(*words: str) -> str:
    done = subprocess.run(["git", *words], capture_output=True, text=True, timeout=10, check=False, cwd=BENCH.parent)
    return done.stdout.strip()


def table(runs: list[dict[str, Any]]) -> str:
    rows = [
        "| round | configuration | req/s | ratio to bare | p50 ms | p99 ms | server CPU µs/req (cores) | CPU ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        ratio = f"{run['ratio']:.2f}" if run.get("ratio") is not None else "-"
        cpu_ratio = f"{run['cpu_ratio']:.2f}" if run.get("cpu_ratio") is not None else "-"
        rows.append(
            f"| {run['round']} | {run['label']} | {run['rps']:,.0f} | {ratio} "
            f"| {run['p50_us'] / 1000:.2f} | {run['p99_us'] / 1000:.2f} "
            f"| {run['server_cpu_us_per_request']:.0f} ({run['server_cpu_share']:.2f}) | {cpu_ratio} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per configuration")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--repeat", type=int, default=1, help="rounds over every configuration")
    parser.add_argument("--only", default=",".join(CONFIGS), help="comma-separated subset of " + ", ".join(CONFIGS))
    parser.add_argument("--profile", action="store_true", help="sample each server with py-spy (slows it)")
    parser.add_argument("--max-rps", type=float, default=40_000, help="upper bound sizing the calibration pools")
    args = parser.parse_args()
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    if unknown := [k for k in keys if k not in CONFIGS]:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}")
    if args.duration >= BOT_TIMEOUT_S:
        print(f"bench: note: runs of {BOT_TIMEOUT_S} s or more include the work of dropping unconnected bots")
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    runs: list[dict[str, Any]] = []
    try:
        for round_ in range(1, args.repeat + 1):
            print(f"round {round_}/{args.repeat}", flush=True)
            bare: dict[str, Any] | None = None
            for key in sorted(keys, key=lambda k: k != "bare"):  # bare first: it bounds the others
                stats = measure(key, args, bare["rps"] if bare else args.max_rps)
                bare = stats if key == "bare" else bare
                stats["round"] = round_
                if bare is not None and key != "bare":  # by CPU: what the ratio would be on an idle machine
                    stats["ratio"] = stats["rps"] / bare["rps"]
                    stats["cpu_ratio"] = bare["server_cpu_us_per_request"] / stats["server_cpu_us_per_request"]
                runs.append(stats)
    except BenchError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    print()
    print(table(runs))
    print()
    command = f"{os.path.relpath(sys.executable)} bench/run.py --duration {args.duration} --connections"
    command += f" {args.connections} --threads {args.threads} --repeat {args.repeat} --only {','.join(keys)}"
    command += " --profile" * args.profile
    print(f"reproduce: {command}")
    for run in runs[: len(keys)]:
        print(f"  {run['config']}: {run['server_command']}\n      {run['command']}")
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), "command": command}
    (RESULTS / "latest.json").write_text(json.dumps({**report, "runs": runs}, indent=2) + "\n")
    print(f"wrote {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
