"""Several `parley serve` nodes on one PostgreSQL database and one Redis, behind Debian's HAProxy.

A test gets a fresh database (dropped afterwards) and its own nodes; HAProxy balances round-robin, request
by request, passes WebSockets through (`timeout tunnel`) and takes a node out as soon as its health check
fails, so a killed node's clients land on the others. Each node hands out URLs under the balancer's address
(`--public-url`), as a node behind a load balancer must.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.backing import redis_url
from tests.conftest import RunningParley, start_parley
from tests.store.backends import fresh_postgres_database

HAPROXY_CONFIG = """\
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option redispatch
    retries 3
frontend parley
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /_parley/health
    http-check expect status 200
    default-server inter 250ms fall 2 rise 1 on-marked-down shutdown-sessions
{servers}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if found is None:
        problem = "haproxy is not installed: `make test` installs Debian's haproxy package"
        if os.environ.get("PARLEY_REQUIRE_SERVICES") == "1":
            pytest.fail(problem + " (PARLEY_REQUIRE_SERVICES=1)")
        pytest.skip(problem)
    return found


@dataclass
class Node:
    name: str
    port: int
    args: tuple[str, ...]
    env: dict[str, str]
    running: RunningParley | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.running = start_parley("--port", str(self.port), *self.args, env=self.env, timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what was acknowledged must already be in the database."""
        assert self.running is not None
        self.running.process.send_signal(signal.SIGKILL)
        self.running.process.wait(timeout=10)
        self.running.stop()  # reaps it and closes its output

    def lines(self) -> list[str]:
        return list(self.running.lines) if self.running else []

    def count(self, needle: str) -> int:
        return sum(1 for line in self.lines() if needle in line)


@dataclass
class Cluster:
    url: str  # the balancer
    nodes: list[Node]
    database: str
    redis: str
    haproxy: subprocess.Popen[bytes] | None = None
    config: Path | None = None
    dead: set[str] = field(default_factory=set)

    def kill(self, node: Node) -> None:
        node.kill()
        self.dead.add(node.name)
        # HAProxy marks it down after two failed checks (250 ms apart); retries redispatch meanwhile.
        wait_until(lambda: _all_up(self.url, 2 * len(self.live())), 10, f"HAProxy to route around {node.name}")

    def live(self) -> list[Node]:
        return [node for node in self.nodes if node.name not in self.dead]

    def stop(self) -> None:
        for node in self.nodes:
            if node.running is not None and node.name not in self.dead:
                node.running.stop()
        if self.haproxy is not None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait()


def wait_until(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _start_haproxy(port: int, nodes: list[Node], folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    servers = "\n".join(f"    server {node.name} 127.0.0.1:{node.port} check" for node in nodes)
    config = folder / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers))
    with (folder / "haproxy.log").open("wb") as log:
        process = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)], stdout=log, stderr=log)
    return process, config


def _all_up(url: str, count: int) -> bool:
    """Every node answers through the balancer: `count` consecutive health checks, round-robin, all 200."""
    try:
        for _ in range(count):
            with urllib.request.urlopen(f"{url}/_parley/health", timeout=2) as response:
                if response.status != 200:
                    return False
        return True
    except OSError:
        return False


@contextmanager
def cluster(
    folder: Path, size: int = 3, args: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """`size` nodes on a fresh database and one Redis, behind HAProxy; all stopped afterwards."""
    haproxy_binary()
    redis = redis_url()
    with fresh_postgres_database() as database:
        balancer = free_port()
        public = f"http://127.0.0.1:{balancer}"
        common = ("--store", database, "--redis-url", redis, "--public-url", public, "--log-level", "info", *args)
        nodes = [Node(f"n{i + 1}", free_port(), common, dict(env or {})) for i in range(size)]
        running = Cluster(public, nodes, database, redis)
        try:
            for node in nodes:
                node.start()
            running.haproxy, running.config = _start_haproxy(balancer, nodes, folder)
            wait_until(lambda: _all_up(public, 2 * size), 15, "HAProxy to route to every node")
            yield running
        finally:
            running.stop()


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=15) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found
