"""Fixtures for the console tests: Debian's Chromium through Playwright (never a downloaded browser), a
Parley per test module, and the artifacts directory the screenshots go to (test-artifacts/console/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningParley, start_parley

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WAIT_MS = 10_000


def chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    problem = "Debian's chromium is not installed (/usr/bin/chromium): `make test` installs it with apt-get"
    if os.environ.get("PARLEY_REQUIRE_SERVICES") == "1":
        pytest.fail(problem + " (PARLEY_REQUIRE_SERVICES=1)")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)  # the machine may be shared: 10 s, not Playwright's 5 s
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[RunningParley]:
    running = start_parley("--quota-active-chats", "0")
    yield running
    running.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def console_url(server: RunningParley, page: str = "contacts") -> str:
    return f"{server.url}/_parley/ui/#/{page}"
