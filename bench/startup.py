"""Startup: launch to the first 200 of `GET /_parley/health`, for `parley serve --port 0`, over N runs.

Each run starts a fresh process, reads its `parley: listening on URL` line, then polls the health
endpoint until it answers 200; the clock runs from just before the process is spawned. One discarded
warm-up run per command fills the OS page cache and writes the .pyc files. Exits 1 when a command's
median is over the limit; the maximum is reported, not gated, since on a shared 2-core machine it mostly
measures the other processes (the CPU column is what Parley itself spent). The warm-up runs without
PYTHONDONTWRITEBYTECODE even where the environment sets it: otherwise every module edited since its .pyc
was written would be compiled again at each launch, which is not what an installed Parley does.

    .venv/bin/python bench/startup.py [--runs 20] [--limit 0.25]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SERVE = ["serve", "--port", "0"]
COMMANDS: dict[str, list[str]] = {
    "python -m parley serve --port 0": [sys.executable, "-m", "parley", *SERVE],
    "parley serve --port 0 (console script)": [str(Path(sys.executable).with_name("parley")), *SERVE],
}


@dataclass(frozen=True)
class Run:
    listening_s: float  # launch -> the `listening on` line
    healthy_s: float  # launch -> the first 200 of /_parley/health
    cpu_s: float  # CPU the server process had used by then (user + system): what other load cannot inflate


def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process, from /proc (Linux); 0.0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health_ok(url: str) -> bool:
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=2)
    try:
        connection.request("GET", "/_parley/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def launch(command: list[str], env: dict[str, str], timeout: float = 10.0) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        listening = time.perf_counter() - started
        if not line.startswith("parley: listening on "):
            raise RuntimeError(f"{command}: unexpected first line {line!r}")
        url = line.split("listening on ", 1)[1].strip()
        while not health_ok(url):
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{command}: no 200 from /_parley/health within {timeout} s")
            time.sleep(0.001)
        return Run(listening, time.perf_counter() - started, cpu_seconds(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def summary(runs: list[Run]) -> dict[str, float]:
    healthy = [run.healthy_s for run in runs]
    return {
        "p50_s": statistics.median(healthy),
        "max_s": max(healthy),
        "min_s": min(healthy),
        "listening_p50_s": statistics.median(run.listening_s for run in runs),
        "cpu_p50_s": statistics.median(run.cpu_s for run in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--limit", type=float, default=0.25, help="seconds allowed for the median")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    report: dict[str, object] = {"machine": machine(), "runs": args.runs, "limit_s": args.limit, "commands": {}}
    over = False
    print(f"{'command':<42} {'p50 s':>7} {'max s':>7} {'min s':>7} {'line p50 s':>10} {'CPU p50 s':>9}")
    for name, command in COMMANDS.items():
        launch(command, {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"})  # warm-up, not counted
        runs = [launch(command, env) for _ in range(args.runs)]
        stats = summary(runs)
        report["commands"][name] = {"stats": stats, "runs": [asdict(run) for run in runs]}  # type: ignore[index]
        over = over or stats["p50_s"] > args.limit
        print(
            f"{name:<42} {stats['p50_s']:>7.3f} {stats['max_s']:>7.3f} {stats['min_s']:>7.3f} "
            f"{stats['listening_p50_s']:>10.3f} {stats['cpu_p50_s']:>9.2f}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(report, indent=2))
    if over:
        print(f"startup: a median is over the {args.limit} s limit", file=sys.stderr)
    return 1 if over else 0


def machine() -> dict[str, str]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count())}


if __name__ == "__main__":
    sys.exit(main())
