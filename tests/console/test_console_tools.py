"""The console's tools: the request log live and filtered, and a virtual clock read and advanced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import RunningParley, client, start_parley
from tests.console.conftest import WAIT_MS, console_url


@pytest.fixture(scope="module")
def virtual() -> Iterator[RunningParley]:
    running = start_parley("--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
    yield running
    running.stop()


def test_the_request_log_is_live_and_filtered(browser: Any, virtual: RunningParley) -> None:
    page = browser.new_context().new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(console_url(virtual, "requests"))
    expect(page.get_by_label("Live updates")).to_have_text("live")
    page.get_by_label("Operation").fill("DescribeInstance")
    connect = client("connect", virtual.url)
    connect.list_instances()
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_instance(InstanceId="00000000-0000-4000-8000-000000000000")
    rows = page.get_by_role("table", name="Requests").get_by_role("row")
    expect(rows.filter(has_text="DescribeInstance")).to_contain_text("404 ResourceNotFoundException")
    expect(rows.filter(has_text="ListInstances")).to_have_count(0)  # filtered out, though it came first
    page.get_by_label("Operation").fill("")
    expect(rows.filter(has_text="ListInstances")).to_have_count(1)
    page.get_by_role("button", name="Clear the log").click()
    expect(rows.filter(has_text="ListInstances")).to_have_count(0)
    page.context.close()


def test_the_virtual_clock_is_read_and_advanced(browser: Any, virtual: RunningParley) -> None:
    page = browser.new_context().new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(console_url(virtual, "clock"))
    expect(page.get_by_label("Clock")).to_contain_text("2030-01-01T00:00:00.000Z (virtual clock")
    page.get_by_label("Advance by").fill("PT90S")
    page.get_by_role("button", name="Advance").click()
    expect(page.get_by_label("Clock")).to_contain_text("2030-01-01T00:01:30.000Z")
    page.context.close()
