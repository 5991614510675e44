"""Crash safety at length: SIGKILL a durable Parley many times under concurrent writes (contacts,
participants, messages, attachments; two threads each), checking after every restart that each
acknowledged write is there and after every kill that `PRAGMA integrity_check` is ok.
Same machinery as tests/contract/test_crash_safety.py (tests/contract/crash_writers.py).

    .venv/bin/python bench/crash.py [--kills 50] [--seed 1] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.contract.crash_writers import crash_rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="threads per kind of write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parley-crash-") as data_dir:
        report = crash_rounds(Path(data_dir), args.kills, args.seed, args.threads)
    print(
        json.dumps(
            {
                "kills": report.kills,
                "acknowledged_writes": report.acknowledged,
                "lost": report.lost[:50],
                "integrity_failures": report.integrity,
                "write_errors_while_up": report.errors[:20],
                "seconds": round(report.seconds, 1),
            },
            indent=1,
        )
    )
    return 1 if report.lost or report.integrity or report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
