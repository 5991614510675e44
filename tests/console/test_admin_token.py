"""The admin token: a Parley bound beyond loopback (here --host 0.0.0.0, reached on 127.0.0.1) requires
--admin-token for /_parley/, the console included; health, readiness and the AWS APIs stay open.
Also: --no-ui serves no console, and the start-up lines say where the console is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import RunningParley, client, start_parley

TOKEN = "console-secret-42"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningParley]:
    running = start_parley("--host", "0.0.0.0", "--admin-token", TOKEN)
    yield running
    running.stop()


def test_beyond_loopback_the_admin_api_needs_the_token(guarded: RunningParley) -> None:
    status, _, body = get(f"{guarded.url}/_parley/state")
    assert status == 401 and json.loads(body)["error"] == "AdminTokenRequired"
    assert get(f"{guarded.url}/_parley/state", {"x-parley-admin-token": "wrong-token"})[0] == 401
    assert get(f"{guarded.url}/_parley/state", {"x-parley-admin-token": TOKEN})[0] == 200
    assert get(f"{guarded.url}/_parley/requests", {"authorization": f"Bearer {TOKEN}"})[0] == 200
    assert get(f"{guarded.url}/_parley/ui/api/contacts", {"cookie": f"parley_admin_token={TOKEN}"})[0] == 200


def test_health_readiness_and_the_aws_apis_stay_open(guarded: RunningParley) -> None:
    assert get(f"{guarded.url}/_parley/health")[0] == 200
    assert get(f"{guarded.url}/_parley/ready")[0] == 200
    assert "InstanceSummaryList" in client("connect", guarded.url).list_instances()


def test_the_console_sends_a_browser_without_the_cookie_to_sign_in(guarded: RunningParley) -> None:
    status, headers, _ = get(f"{guarded.url}/_parley/ui/")
    assert status == 303 and headers["location"] == "/_parley/ui/login"
    status, _, _ = get(f"{guarded.url}/_parley/ui/events")
    assert status == 303


def test_the_token_is_given_once_in_the_browser_and_kept_in_a_cookie(browser: Any, guarded: RunningParley) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{guarded.url}/_parley/ui/")
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not this Parley's admin token")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Live updates")).to_have_text("live")
    page.get_by_role("link", name="Requests").click()
    expect(page.get_by_role("table", name="Requests")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "parley_admin_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/_parley/"
    page.goto(f"{guarded.url}/_parley/ui/#/clock")  # a new load: the cookie, no sign-in again
    expect(page.get_by_label("Clock")).to_contain_text("real clock")
    context.close()


def test_the_cli_sends_parley_admin_token(guarded: RunningParley) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    command = [sys.executable, "-m", "parley", "health", "--endpoint-url", guarded.url]
    state = [sys.executable, "-m", "parley", "state", "--endpoint-url", guarded.url]
    assert subprocess.run(command, env=base, capture_output=True, timeout=30).returncode == 0
    refused = subprocess.run(state, env=base, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and "AdminTokenRequired" in refused.stderr
    allowed = subprocess.run(state, env={**base, "PARLEY_ADMIN_TOKEN": TOKEN}, capture_output=True, timeout=30)
    assert allowed.returncode == 0


def test_beyond_loopback_without_a_token_the_admin_api_is_closed() -> None:
    running = start_parley("--host", "0.0.0.0")
    try:
        status, _, body = get(f"{running.url}/_parley/reset")
        assert status == 401 and json.loads(body)["error"] == "AdminTokenNotConfigured"
        assert get(f"{running.url}/_parley/ui/")[0] == 401
        assert get(f"{running.url}/_parley/health")[0] == 200
    finally:
        running.stop()


def test_loopback_stays_open_and_no_ui_serves_no_console() -> None:
    running = start_parley("--no-ui")
    try:
        assert get(f"{running.url}/_parley/state")[0] == 200
        status, _, body = get(f"{running.url}/_parley/ui/")
        assert status == 404 and json.loads(body)["error"] == "NotFound"
        assert not any("console at" in line for line in running.lines)
    finally:
        running.stop()


def test_the_console_url_is_printed_after_the_listening_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
    )
    try:
        assert process.stdout is not None
        first, second = process.stdout.readline().strip(), process.stdout.readline().strip()
        url = first.removeprefix("parley: listening on ")
        assert second == f"parley: console at {url}/_parley/ui/"
        assert get(f"{url}/_parley/ui/")[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_the_in_process_server_sends_its_own_token() -> None:
    from parley.testing import ParleyServer

    with ParleyServer(host="0.0.0.0", admin_token=TOKEN, ui=False) as running:
        running.admin.reset()  # through the gate, with the token
        assert get(f"{running.endpoint_url}/_parley/state")[0] == 401
        assert get(f"{running.endpoint_url}/_parley/ui/", {"x-parley-admin-token": TOKEN})[0] == 404
