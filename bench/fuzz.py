"""The model-driven fuzzer at scale: 100,000+ hypothesis-drawn requests against one fresh `parley serve`.

Same strategies and oracle as tests/contract/test_fuzz.py (tests/contract/fuzz_strategies.py), spread evenly
over every implemented operation. Reports the requests sent by kind and status, the error codes seen, the
server's RSS as it goes, and every broken answer (5xx, non-JSON, undeclared error code) or bad log line;
exits 1 when there is one.

    .venv/bin/python bench/fuzz.py [--requests 100000] [--seed 0] [--server-args '--data-dir /tmp/x']
"""

from __future__ import annotations

import argparse
import collections
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from tests.conftest import start_parley  # noqa: E402
from tests.contract.fuzz_strategies import Outcome, requests  # noqa: E402
from tests.contract.fuzzing import Sender, bad_log_lines, implemented_operations, known_things  # noqa: E402

from parley.protocol.spec import OperationSpec  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Tally:
    def __init__(self, pid: int, every: int) -> None:
        self.pid, self.every, self.sent = pid, every, 0
        self.kinds: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.codes: collections.Counter[str] = collections.Counter()
        self.broken: list[str] = []
        self.rss: list[tuple[int, float]] = [(0, rss_mb(pid))]
        self.started = time.monotonic()

    def add(self, outcome: Outcome) -> None:
        self.sent += 1
        self.kinds[outcome.request.kind] += 1
        self.statuses[outcome.status] += 1
        if outcome.status >= 400:
            self.codes[outcome.headers.get("x-amzn-errortype") or "?"] += 1
        if outcome.problems() and len(self.broken) < 50:
            self.broken.append(outcome.describe())
        if self.sent % self.every == 0:
            self.rss.append((self.sent, rss_mb(self.pid)))
            rate = self.sent / (time.monotonic() - self.started)
            print(f"  {self.sent:>7} requests, {rate:.0f}/s, server RSS {self.rss[-1][1]:.1f} MB", flush=True)


def fuzz(op: OperationSpec, count: int, sender: Sender, url: str, tally: Tally, base: int) -> None:
    chunk = 500  # fresh chats every so often: fuzzed StopContact and DisconnectParticipant end the old ones
    for start in range(0, count, chunk):
        strategy = requests(op, known_things(url))
        fuzz_some(strategy, op, min(chunk, count - start), sender, tally, base + start)


def fuzz_some(strategy: Any, op: OperationSpec, count: int, sender: Sender, tally: Tally, base: int) -> None:

    @seed(base)
    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        tally.add(sender.send(op, data.draw(strategy)))

    run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--server-args", default="", help="extra `parley serve` arguments")
    args = parser.parse_args()
    operations = implemented_operations()
    server = start_parley(
        "--log-level", "warning", "--quota-instances", "0", "--quota-active-chats", "0", *shlex.split(args.server_args)
    )
    try:
        sender = Sender(server.url)
        tally = Tally(server.process.pid, max(1000, args.requests // 20))
        per_op = max(1, args.requests // len(operations))
        print(f"fuzzing {len(operations)} operations x {per_op} requests against {server.url}", flush=True)
        for index, op in enumerate(operations):
            fuzz(op, per_op, sender, server.url, tally, args.seed * 1_000_000 + index * 10_000)
        sender.close()
        tally.rss.append((tally.sent, rss_mb(server.process.pid)))
        elapsed = time.monotonic() - tally.started
    finally:
        server.stop()
    bad_lines = bad_log_lines(server.lines)
    report = {
        "requests": tally.sent,
        "seconds": round(elapsed, 1),
        "per_second": round(tally.sent / elapsed),
        "kinds": dict(tally.kinds),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "5xx": sum(v for k, v in tally.statuses.items() if k >= 500),
        "error_codes": dict(tally.codes.most_common()),
        "rss_mb": [(n, round(mb, 1)) for n, mb in tally.rss],
        "broken_answers": tally.broken,
        "bad_log_lines": bad_lines[:20],
    }
    print(json.dumps(report, indent=1))
    return 1 if tally.broken or bad_lines else 0


if __name__ == "__main__":
    sys.exit(main())
