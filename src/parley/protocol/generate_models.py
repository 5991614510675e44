"""Writes protocol/models/SERVICE.json from botocore's models: `python -m parley.protocol.generate_models`.

Serving reads those files instead of importing botocore and parsing its models (~150 ms of start-up).
They are derived from the installed botocore, so they are not kept in git: `make` writes them after installing,
and a start that finds none writes them itself (protocol/spec.py).
They hold every operation and shape of both services as botocore has them, minus the documentation.
tests/unit/protocol/test_generated_models.py fails when botocore's models no longer give the same files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from parley.protocol.botocore_models import API_VERSIONS, service_description

MODELS = Path(__file__).with_name("models")
DROPPED = frozenset({"documentation", "documentationUrl"})  # prose: read by no part of Parley


def _stripped(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stripped(item) for key, item in value.items() if key not in DROPPED}
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    return value


def generated(service: str) -> str:
    """The file's text for `service`: what botocore loads, documentation left out, one line."""
    description = service_description(service)
    data = {key: _stripped(description[key]) for key in ("version", "metadata", "operations", "shapes")}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def path_of(service: str) -> Path:
    return MODELS / f"{service}.json"


def main() -> int:
    MODELS.mkdir(exist_ok=True)  # not in git: a fresh checkout has no such directory
    for service in sorted(API_VERSIONS):
        path_of(service).write_text(generated(service), encoding="utf-8")
        print(f"wrote {path_of(service)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
