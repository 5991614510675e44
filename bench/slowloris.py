"""Slow and idle clients against a real Parley: how fast the connection guard cuts them, and whether
honest requests are still answered meanwhile.

Opens N connections that send half a request head and N that send nothing, then times (a) how long
until the server has closed all of them, (b) the latency of honest requests made during the attack.

    .venv/bin/python bench/slowloris.py [--connections 2000] [--header-timeout 2]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import subprocess
import sys
import time

HALF_HEAD = b"PUT /contact/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def start(header_timeout: float) -> tuple[subprocess.Popen[str], str, int]:
    args = [sys.executable, "-m", "parley", "serve", "--port", "0", "--log-level", "warning"]
    process = subprocess.Popen([*args, "--header-timeout", str(header_timeout)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    host, port = line.rsplit("//", 1)[1].strip().rsplit(":", 1)
    return process, host, int(port)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def opened(host: str, port: int, payload: bytes) -> Connection:
    reader, writer = await asyncio.open_connection(host, port)
    if payload:
        writer.write(payload)
        await writer.drain()
    return reader, writer


async def closed(connection: Connection) -> tuple[float, bytes]:
    """Wait for the server to close; (when, what it answered)."""
    reader, writer = connection
    answer = await reader.read()
    writer.close()
    return time.monotonic(), answer


def honest_latencies(host: str, port: int, seconds: float) -> list[float]:
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        started = time.monotonic()
        connection.request("GET", "/_parley/health")
        assert connection.getresponse().status == 200
        latencies.append(time.monotonic() - started)
        connection.close()
    return latencies


async def attack(host: str, port: int, count: int, header_timeout: float) -> None:
    started = time.monotonic()
    connections = []
    for i in range(0, 2 * count, 200):  # in batches, so the accept backlog never overflows
        batch = [opened(host, port, HALF_HEAD if n % 2 else b"") for n in range(i, min(i + 200, 2 * count))]
        connections += await asyncio.gather(*batch)
    held = time.monotonic()
    honest = asyncio.get_running_loop().run_in_executor(None, honest_latencies, host, port, header_timeout)
    results = await asyncio.gather(*(closed(connection) for connection in connections))
    latencies = await honest
    last = max(when for when, _ in results)
    answered = sum(1 for _, answer in results if answer.startswith(b"HTTP/1.1 408"))
    print(f"{2 * count} connections ({count} half-sent, {count} silent), header timeout {header_timeout:g} s")
    print(f"  opened in {held - started:.2f} s; the last was cut {last - started:.2f} s after the first opened")
    print(f"  half-sent answered 408 RequestTimeout: {answered}/{count}; silent closed without a word")
    print(
        f"  honest GET /_parley/health during the attack: {len(latencies)} requests, "
        f"median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000, help="half-sent ones; as many silent ones")
    parser.add_argument("--header-timeout", type=float, default=2.0)
    options = parser.parse_args()
    process, host, port = start(options.header_timeout)
    try:
        asyncio.run(attack(host, port, options.connections, options.header_timeout))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
