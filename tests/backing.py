"""The backing services some tests need (PostgreSQL, Redis), found through the environment.

`PARLEY_TEST_POSTGRES_URL` (e.g. postgresql://postgres@127.0.0.1:5432/test) and `PARLEY_TEST_REDIS_URL`
(e.g. redis://127.0.0.1:6379/0) say where they are; `.ci/run` sets both for this machine's servers. A test
that needs one the environment does not name, or that does not answer, is skipped, unless
PARLEY_REQUIRE_SERVICES=1 (set by `.ci/run`) makes it a failure.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES = "PARLEY_TEST_POSTGRES_URL"
REDIS = "PARLEY_TEST_REDIS_URL"


def _missing(problem: str) -> None:
    if os.environ.get("PARLEY_REQUIRE_SERVICES") == "1":
        pytest.fail(problem + " (PARLEY_REQUIRE_SERVICES=1)")
    pytest.skip(problem)


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def service_url(variable: str, default_port: int) -> str:
    """The named service's URL; skips (or fails, when services are required) if it is absent or silent."""
    url = os.environ.get(variable, "")
    if not url:
        _missing(f"{variable} is not set")
    if not _answers(url, default_port):
        _missing(f"{variable}={url} does not answer")
    return url


def postgres_url() -> str:
    return service_url(POSTGRES, 5432)


def redis_url() -> str:
    return service_url(REDIS, 6379)
