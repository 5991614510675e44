"""Opting in to a reset: the `parley` fixture, or the bare `parley` marker, start each test on empty state."""

from __future__ import annotations

from typing import Any

import pytest

INSTANCE: dict[str, Any] = {
    "IdentityManagementType": "CONNECT_MANAGED",
    "InboundCallsEnabled": True,
    "OutboundCallsEnabled": True,
}


def create_on_empty_state(connect_client: Any) -> None:
    assert connect_client.list_instances()["InstanceSummaryList"] == []
    connect_client.create_instance(InstanceAlias="left-behind", **INSTANCE)


def test_the_parley_fixture_resets_state(parley: Any, connect_client: Any) -> None:
    create_on_empty_state(connect_client)


def test_the_parley_fixture_resets_state_again(parley: Any, connect_client: Any) -> None:
    create_on_empty_state(connect_client)


@pytest.mark.parley
def test_the_bare_marker_resets_state(connect_client: Any) -> None:
    create_on_empty_state(connect_client)
