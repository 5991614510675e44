"""Without boto3 the server fixtures work and only a client fixture fails, saying what to install."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from conftest import LOADED_BY_PLUGIN


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    assert LOADED_BY_PLUGIN == []


def test_the_server_needs_no_boto3(parley_endpoint: str) -> None:
    with urllib.request.urlopen(parley_endpoint + "/_parley/health") as response:
        assert json.loads(response.read())["status"] == "ok"


def test_a_client_fixture_says_what_to_install(connect_client: Any) -> None:
    raise AssertionError("unreachable: the fixture fails without boto3")
