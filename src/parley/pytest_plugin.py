"""The pytest plugin, registered by the `pytest11` entry point: installing Parley is enough to use it.

One in-process Parley per test session, which under pytest-xdist means one per worker process, and
fixtures around it: `parley_settings` (override it to configure the server), `parley_server`,
`parley` (the server, reset before the test), `parley_endpoint`, `connect_client`, `participant_client`
and `parley_env`. `@pytest.mark.parley(...)` gives a test its own server with those settings, or, without
arguments, resets the shared one. Loading the plugin imports nothing heavy; boto3 only when a client
fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from parley.testing import ParleyClock, ParleyServer, ResetUnavailable

MARKER = (
    "parley(seed=None, settings=None, **settings): run the test against its own Parley server with these "
    "settings (lambdas={function name or ARN: callable} too); without arguments, reset the shared server's "
    "state before the test"
)
SESSION_TOKENS = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


@dataclass(frozen=True)
class _Target:
    """The server a test talks to, and whether its state is known to be empty."""

    server: ParleyServer
    fresh: bool


def _marker_settings(marker: pytest.Mark) -> dict[str, Any]:
    """`parley(seed=7, settings={...}, region=...)` -> one settings mapping; extra keywords win."""
    if marker.args:
        raise pytest.UsageError("@pytest.mark.parley takes keyword arguments only (seed=..., settings={...})")
    settings = dict(marker.kwargs.get("settings") or {})
    settings.update((key, value) for key, value in marker.kwargs.items() if key != "settings")
    return settings


def _reset(server: ParleyServer) -> None:
    try:
        server.admin.reset()
    except ResetUnavailable as exc:
        message = f"Parley cannot reset state between tests: {exc}"
    else:
        return
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def parley_settings() -> dict[str, Any]:
    """Settings of the session's server, by their Python names; override this fixture in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def parley_server(parley_settings: dict[str, Any]) -> Iterator[ParleyServer]:
    """One Parley for the whole session (per xdist worker), on a free port; stopped at the end."""
    with ParleyServer(**parley_settings) as server:
        yield server


@pytest.fixture
def _parley_target(request: pytest.FixtureRequest, parley_settings: dict[str, Any]) -> Iterator[_Target]:
    marker = request.node.get_closest_marker("parley")
    if marker is None:
        yield _Target(request.getfixturevalue("parley_server"), fresh=False)
        return
    own = _marker_settings(marker)
    if not own:
        server: ParleyServer = request.getfixturevalue("parley_server")
        _reset(server)
        yield _Target(server, fresh=True)
        return
    with ParleyServer(**{**parley_settings, **own}) as dedicated:
        yield _Target(dedicated, fresh=True)


@pytest.fixture
def parley(_parley_target: _Target) -> ParleyServer:
    """The server this test talks to, its state wiped first (`POST /_parley/reset`)."""
    if not _parley_target.fresh:
        _reset(_parley_target.server)
    return _parley_target.server


@pytest.fixture
def parley_endpoint(_parley_target: _Target) -> str:
    """`http://127.0.0.1:<port>` of the server this test talks to."""
    return _parley_target.server.endpoint_url


def _client(target: _Target, service: str) -> Any:
    try:
        return target.server.client(service)
    except ImportError as exc:
        message = f"the {service} client fixture needs boto3: {exc}"
    pytest.fail(message, pytrace=False)  # outside the handler: one clear line, no chained traceback


@pytest.fixture
def connect_client(_parley_target: _Target) -> Any:
    """A boto3 `connect` client for Parley, with dummy credentials."""
    return _client(_parley_target, "connect")


@pytest.fixture
def participant_client(_parley_target: _Target) -> Any:
    """A boto3 `connectparticipant` client for Parley, unsigned (as chat widgets call it)."""
    return _client(_parley_target, "connectparticipant")


@pytest.fixture
def parley_env(_parley_target: _Target, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Points every SDK in this process and its subprocesses at Parley for one test; restored after it.

    Sets AWS_ENDPOINT_URL_CONNECT, AWS_ENDPOINT_URL_CONNECTPARTICIPANT, dummy credentials and the region,
    and removes a session token or profile that would not match them. Returns what it set."""
    env = _parley_target.server.env
    for name in SESSION_TOKENS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def parley_clock(_parley_target: _Target) -> ParleyClock:
    """The virtual clock of the server this test talks to: `parley_clock.advance("PT16S")` instead of sleeping.
    Needs `clock="virtual"` (in `parley_settings`, or `@pytest.mark.parley(clock="virtual")`)."""
    clock = ParleyClock(_parley_target.server.admin)
    if not clock.virtual:
        pytest.fail(
            'parley_clock needs a virtual clock: @pytest.mark.parley(clock="virtual"), or clock="virtual" in '
            "the parley_settings fixture",
            pytrace=False,
        )
    return clock
