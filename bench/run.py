"""Throughput and latency of Parley's hot path next to the baselines it is measured against, in one run.

- CreateParticipant (each request on a fresh chat, with a ClientToken as boto3 sends) in memory, with the
  access log, and durable, against a bare ASGI JSON endpoint on uvicorn + httptools + uvloop (the ratio's
  baseline); the same two on granian, to compare servers; and the least CreateParticipant, in memory and
  durable (`least_app.py`: the same work with no layers), the floor under the ratio.
- DescribeInstance against moto's server (`moto_server`, a dev dependency) answering the same request.

Every configuration gets its own server process on 127.0.0.1 and two wrk runs with the same flags: a
1-second calibration (also a warm-up), then the measured run. A CreateParticipant run uses a pool of
pre-created chats sized rps x duration x --margin (2), where rps is the calibration rate of the busiest wrk
thread x threads, or more if a calibration pool ran out within its second. A run with any non-2xx response,
socket error or exhausted pool fails loudly.

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
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SCRIPTS = {"create": BENCH / "create_participant.lua", "describe": BENCH / "describe_instance.lua"}
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
PARLEY_FLAGS = ["--quota-active-chats", "0", "--quota-instances", "0"]
PARLEY = [sys.executable, "-m", "parley", "serve", "--port", "{port}", *PARLEY_FLAGS]
GRANIAN = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--http", "1"]
GRANIAN += ["--port", "{port}", "--working-dir", str(BENCH), "--log-level", "warning", "--backlog", "2048"]
QUIET = {"PARLEY_LOG_LEVEL": "warning", "PARLEY_QUOTA_ACTIVE_CHATS": "0", "PARLEY_QUOTA_INSTANCES": "0"}


@dataclass(frozen=True)
class Config:
    label: str
    command: list[str]  # "{port}" is replaced by a free port
    workload: str = "create"  # "create": CreateParticipant on fresh chats; "describe": DescribeInstance
    baseline: str = "bare"  # the configuration this one's ratio is taken to
    env: dict[str, str] = field(default_factory=dict)
    durable: bool = False

    @property
    def serves_parley(self) -> bool:
        """Whether the server is Parley (`-m parley`, or Parley's app on granian), by the command's words: a
        checkout's path may well contain "parley" (~/parley/.venv/bin/python runs the bare endpoint too)."""
        return "parley" in self.command or any(word.startswith("granian_apps:") for word in self.command)


CONFIGS: dict[str, Config] = {
    "bare": Config("bare ASGI (uvicorn+httptools+uvloop)", [sys.executable, str(BENCH / "bare_app.py"), "{port}"]),
    "bare-stock": Config(
        "bare ASGI on stock uvicorn (no guard, two writes)",
        [sys.executable, str(BENCH / "bare_app.py"), "{port}", "stock"],
    ),
    "least": Config(
        "the least CreateParticipant (bench/least_app.py)", [sys.executable, str(BENCH / "least_app.py"), "{port}"]
    ),
    "least-durable": Config(
        "the least CreateParticipant, durable (bench/least_app.py --data-dir)",
        [sys.executable, str(BENCH / "least_app.py"), "{port}"],
        durable=True,
    ),
    "least-journal": Config(
        "the least CreateParticipant, durable, one journal entry a request (bench/least_app.py --journal)",
        [sys.executable, str(BENCH / "least_app.py"), "{port}", "--journal"],
        durable=True,
    ),
    "memory": Config("Parley in-memory, access log off", [*PARLEY, "--log-level", "warning"]),
    "memory-log": Config("Parley in-memory, access log on (to a file)", [*PARLEY, "--log-level", "info"]),
    "durable": Config(
        "Parley durable (--data-dir, synchronous=FULL)", [*PARLEY, "--log-level", "warning"], durable=True
    ),
    "bare-granian": Config("bare ASGI on granian (uvloop)", [*GRANIAN, "bare_app:app"]),
    "memory-granian": Config("Parley in-memory on granian", [*GRANIAN, "--factory", "granian_apps:parley"], env=QUIET),
    "describe": Config("Parley DescribeInstance (in-memory)", [*PARLEY, "--log-level", "warning"], "describe", "moto"),
    "moto": Config(
        "moto_server DescribeInstance", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", "{port}"], "describe", ""
    ),
}
DEFAULT_ONLY = (
    "bare,bare-stock,least,least-durable,least-journal,memory,durable,describe,moto,bare-granian,memory-granian"
)
MARGIN = 2.0  # the 1-second calibration also warms up: the measured run can be much faster
CALIBRATION_POOL = 4000  # chats for the first 1-second calibration; x4 while that runs out
CHAT_WORKERS = 8
BOT_TIMEOUT_S = 15  # Parley's default --bot-connect-timeout: a bot that never connects is then dropped (a write)
# A credential scope naming the service: moto's server routes on it; Parley reads account and region from it.
HEADERS = {
    "Content-Type": "application/json",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/connect/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000",
    "X-Amz-Date": "20240101T000000Z",
}
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
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=HEADERS)
        response = conn.getresponse()
        data = response.read()
        if response.status // 100 != 2:
            raise BenchError(f"{method} {path} -> {response.status}: {data[:300]!r}")
        return json.loads(data)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answering(port: int) -> bool:
    """Whether an HTTP server answers on `port` (any status will do)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/_parley/health")
        conn.getresponse().read()
        conn.close()
        return True
    except OSError:
        return False


@contextmanager
def server(config: Config | list[str], workdir: Path, preexec: Callable[[], None] | None = None) -> Iterator[Server]:
    """A server process serving `config` (or a bare command). A command naming `{port}` is given a free port and
    is up once HTTP answers there; any other must print `... listening on http://HOST:PORT` as its first line."""
    config = config if isinstance(config, Config) else Config("", config)
    port = free_port() if "{port}" in config.command else 0
    command = [word.replace("{port}", str(port)) for word in config.command]
    if config.durable:
        command += ["--data-dir", str(workdir / "data")]
    out, err = workdir / "stdout.log", workdir / "stderr.log"
    with out.open("wb") as out_f, err.open("wb") as err_f:
        env = {**os.environ, **config.env}
        popen = {"stdin": subprocess.DEVNULL, "cwd": BENCH.parent, "preexec_fn": preexec, "env": env}
        proc = subprocess.Popen(command, stdout=out_f, stderr=err_f, **popen)  # type: ignore[call-overload]
    try:
        port = wait_for_port(proc, port, out) if port else wait_for_line(proc, out)
        if not port:
            raise BenchError(f"server did not start: {' '.join(command)}\n{err.read_text()[-2000:]}")
        yield Server(f"http://127.0.0.1:{port}", port, proc.pid, out)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_for_port(proc: subprocess.Popen[bytes], port: int, out: Path) -> int:
    deadline = time.monotonic() + 60
    while not answering(port) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return port if proc.poll() is None and answering(port) else 0


def wait_for_line(proc: subprocess.Popen[bytes], out: Path) -> int:
    deadline = time.monotonic() + 30
    while b"\n" not in out.read_bytes() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first = out.read_bytes().split(b"\n", 1)[0].decode()
    return int(first.rsplit(":", 1)[1]) if "listening on http://" in first else 0


def prepare_instance(srv: Server, with_flow: bool = True) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        instance = srv.call(conn, "PUT", "/instance", {**INSTANCE, "ClientToken": str(uuid.uuid4())})["Id"]
        if not with_flow:
            return instance, ""
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
                token = {"ClientToken": str(uuid.uuid4())}  # as boto3 sends on every StartChatContact
                ids.append(srv.call(conn, "PUT", "/contact/chat", {**body, **token})["ContactId"])
        finally:
            conn.close()
        return ids

    shares = [count // CHAT_WORKERS + (i < count % CHAT_WORKERS) for i in range(CHAT_WORKERS)]
    with ThreadPoolExecutor(CHAT_WORKERS) as pool:
        return [cid for ids in pool.map(work, shares) for cid in ids]


def wrk(
    url: str, ids_file: Path | None, instance: str, seconds: int, args: argparse.Namespace, calibrating: bool = False
) -> dict[str, Any] | None:
    """wrk's figures, or None when a calibration run used up its pool (that pool was too small). Without an
    `ids_file`, the run is DescribeInstance."""
    script = SCRIPTS["create" if ids_file else "describe"]
    command = [*f"wrk -t{args.threads} -c{args.connections} -d{seconds}s --latency -s".split(), str(script), url]
    command += ["--", str(ids_file), instance, str(args.threads)] if ids_file else ["--", instance]
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
    """User + system CPU so far of a process, its threads and its live descendants (granian's workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    return sum(times.get(member, 0.0) for member in tree)


def profile(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server through the measured run, as collapsed stacks (None without py-spy)."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        print("  (py-spy not found: pip install py-spy; running without a profile)", flush=True)
        return None
    command = [spy, "record", "-p", str(pid), "-d", str(seconds + 1), "-r", "100", "-f", "raw", "--subprocesses"]
    return subprocess.Popen([*command, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hot_spots(collapsed: Path, top: int = 12) -> list[tuple[str, float]]:
    """Share of samples per innermost Python line (a C call such as an SQL statement counts for its caller)."""
    shares: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        shares[stack.rsplit(";", 1)[-1]] += int(count)
    total = max(sum(shares.values()), 1)
    return [(name, n / total) for name, n in shares.most_common(top)]


@dataclass
class Pools:
    ids: Path | None  # None: a DescribeInstance run
    size: int
    created: int
    calibration: dict[str, Any]
    instance: str


def chat_pools(key: str, srv: Server, workdir: Path, args: argparse.Namespace, rps_cap: float) -> Pools:
    """Calibrates on a pool of fresh chats (x4 while it runs out within the second), then makes the measured
    run's pool; a bare endpoint gets made-up ids, which the client sends the same way."""
    fake = not CONFIGS[key].serves_parley
    instance, flow = ("bare", "") if fake else prepare_instance(srv)
    created = 0

    def pool(size: int, name: str) -> Path:
        nonlocal created
        created, started = created + size, time.monotonic()
        ids = [str(uuid.uuid4()) for _ in range(size)] if fake else create_chats(srv, instance, flow, size)
        (workdir / name).write_text("\n".join(ids) + "\n")
        print(f"  {key}: {size} chats ready in {time.monotonic() - started:.1f} s", flush=True)
        return workdir / name

    cap = math.ceil((args.max_rps if fake else rps_cap) * args.margin)  # made-up ids cost nothing
    size, calibration = (cap if fake else min(CALIBRATION_POOL, cap)), None
    ran_out = 0  # the largest pool a 1-second calibration used up: the server did at least that many a second
    for _ in range(6):
        calibration = wrk(srv.url, pool(size, "calibrate.txt"), instance, 1, args, calibrating=True)
        if calibration is not None or size >= cap:
            break
        ran_out, size = size, min(size * 4, cap)
    if calibration is None:
        raise BenchError(f"{key}: the calibration pool of {size} chats ran out within 1 s")
    # Each wrk thread has its own share of the pool, and the threads do not get equal service. A durable
    # server's rate swings from one second to the next (WAL checkpoints), so a pool that ran out within a
    # second also bounds the rate from below: the measured run must not use up its pool either.
    busiest = calibration["busiest_thread_sent"] * args.threads / (calibration["duration_us"] / 1e6)
    expected = max(busiest, args.max_rps) if fake else max(busiest, ran_out)  # the bare app's ids are free
    size = math.ceil(expected * args.duration * args.margin) + args.connections
    calibrated_at = time.monotonic()
    ids = pool(size, "ids.txt")
    if not fake:  # let the calibration bots' timers fire before the measured run, not during it
        time.sleep(max(0.0, calibrated_at + BOT_TIMEOUT_S + 1 - time.monotonic()))
    return Pools(ids, size, created - size, calibration, instance)


def describe_pools(srv: Server, args: argparse.Namespace) -> Pools:
    instance, _ = prepare_instance(srv, with_flow=False)
    calibration = wrk(srv.url, None, instance, 1, args)
    assert calibration is not None
    return Pools(None, 0, 0, calibration, instance)


LAYERS = (  # (path fragment, layer): a sample counts for its innermost Parley frame's layer
    ("parley/transport/guard", "server (uvicorn, httptools, socket writes)"),
    ("parley/transport/single_write", "server (uvicorn, httptools, socket writes)"),
    ("parley/transport/", "Parley's HTTP edge (dispatch, CORS, headers, respond, logs)"),
    ("parley/app.py", "Parley's HTTP edge (dispatch, CORS, headers, respond, logs)"),
    ("parley/protocol/idempotency", "ClientToken (fingerprint, stored output)"),
    ("parley/protocol/", "protocol (route, parse, validate, serialize)"),
    ("parley/chat/tokens", "token HMAC"),
    ("parley/services/effects", "timers"),
    ("parley/timers", "timers"),
    ("parley/services/", "services (map, unit runner, ClientToken check)"),
    ("parley/chat/", "domain"),
    ("parley/store/", "store"),
    ("parley/ids", "ids (uuid4)"),
)


def layers(collapsed: Path) -> list[tuple[str, float]]:
    """Share of samples per layer: each stack counts for its innermost Parley frame (C calls such as SQL, JSON or
    HMAC count for their caller); a stack with no Parley frame is the server or the event loop."""
    shares: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame for frame in stack.split(";") if "parley/" in frame]
        where = frames[-1] if frames else ""
        name = next((layer for part, layer in LAYERS if part in where), "server (uvicorn, httptools, socket writes)")
        shares[name if frames else "server (uvicorn, httptools, socket writes)"] += int(count)
    total = max(sum(shares.values()), 1)
    return [(name, n / total) for name, n in shares.most_common()]


def measure(key: str, args: argparse.Namespace, rps_cap: float) -> dict[str, Any]:
    config = CONFIGS[key]
    with tempfile.TemporaryDirectory(prefix=f"parley-bench-{key}-") as tmp:
        workdir = Path(tmp)
        with server(config, workdir) as srv:
            describing = config.workload == "describe"
            pools = describe_pools(srv, args) if describing else chat_pools(key, srv, workdir, args, rps_cap)
            log_before, load = srv.stdout.read_bytes().count(b"\n"), os.getloadavg()[0]
            spy = profile(srv.pid, args.duration, RESULTS / f"profile-{key}.txt") if args.profile else None
            cpu_before = cpu_seconds(srv.pid)
            stats = wrk(srv.url, pools.ids, pools.instance, args.duration, args)
            assert stats is not None
            cpu = cpu_seconds(srv.pid) - cpu_before
            log_lines = srv.stdout.read_bytes().count(b"\n") - log_before
            if spy is not None:
                spy.wait(timeout=60)
                stats["hot_spots"] = hot_spots(RESULTS / f"profile-{key}.txt")
                stats["layers"] = layers(RESULTS / f"profile-{key}.txt")
        stats.update(
            config=key,
            label=config.label,
            workload=config.workload,
            server_command=" ".join(config.command + ["--data-dir", "DIR"] * config.durable),
            pool=pools.size,
            calibration_rps=pools.calibration["rps"],
            access_log_lines=log_lines,
            server_cpu_us_per_request=cpu / stats["requests"] * 1e6,
            server_cpu_share=cpu / (stats["duration_us"] / 1e6),  # 1.0 = one core busy throughout
            chats_in_store=pools.created + pools.size if config.serves_parley and not describing else 0,
            loadavg_before=load,
        )
        print(f"  {key}: {stats['rps']:,.0f} req/s, p50 {stats['p50_us'] / 1000:.2f} ms", flush=True)
        for name, share in stats.get("hot_spots", []):
            print(f"      {share:6.1%}  {name}")
        for name, share in stats.get("layers", []):
            print(f"      {share:6.1%}  layer: {name}")
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
        "| round | configuration | req/s | ratio | p50 ms | p99 ms | server CPU µs/req (cores) | CPU ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        ratio = cpu_ratio = "-"
        if run.get("ratio") is not None:
            times = run["baseline"] == "moto"  # "20x moto's server", but "0.30 of bare"
            ratio = f"{run['ratio']:.1f}x {run['baseline']}" if times else f"{run['ratio']:.2f} of {run['baseline']}"
            cpu_ratio = f"{run['cpu_ratio']:.2f}"
        rows.append(
            f"| {run['round']} | {run['label']} | {run['rps']:,.0f} | {ratio} "
            f"| {run['p50_us'] / 1000:.2f} | {run['p99_us'] / 1000:.2f} "
            f"| {run['server_cpu_us_per_request']:.0f} ({run['server_cpu_share']:.2f}) | {cpu_ratio} |"
        )
    return "\n".join(rows)


def one_round(keys: list[str], args: argparse.Namespace, round_: int) -> list[dict[str, Any]]:
    """Every configuration once, baselines first (the bare endpoint also bounds the chat pools); each ratio is
    to its baseline in the same round, by throughput and by server CPU per request."""
    measured: dict[str, dict[str, Any]] = {}
    for key in sorted(keys, key=lambda k: (k not in ("bare", "moto"), keys.index(k))):
        bare = measured.get("bare")
        stats = measure(key, args, bare["rps"] if bare else args.max_rps)
        stats["round"] = round_
        baseline = measured.get(CONFIGS[key].baseline)
        if baseline is not None:
            stats["baseline"] = CONFIGS[key].baseline
            stats["ratio"] = stats["rps"] / baseline["rps"]
            stats["cpu_ratio"] = baseline["server_cpu_us_per_request"] / stats["server_cpu_us_per_request"]
        measured[key] = stats
    return list(measured.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per configuration")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--repeat", type=int, default=1, help="rounds over every configuration")
    parser.add_argument("--only", default=DEFAULT_ONLY, help="comma-separated subset of " + ", ".join(CONFIGS))
    parser.add_argument("--profile", action="store_true", help="sample each server with py-spy (slows it)")
    parser.add_argument("--margin", type=float, default=MARGIN, help="pool size over the calibrated need")
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
            runs += one_round(keys, args, round_)
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
