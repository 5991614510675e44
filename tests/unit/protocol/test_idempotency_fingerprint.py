"""A ClientToken's fingerprint is the same whichever encoder writes it, so a retry matches its first call
across versions and nodes; the fast encoder is used only for inputs that cannot hold what it writes otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from parley.protocol.idempotency import fingerprint, plain_input
from parley.protocol.spec import load_operations

CONNECT = load_operations("connect")
REQUESTS: list[dict[str, Any]] = [
    {"InstanceId": "i", "ContactId": "c", "ClientToken": "t", "ParticipantDetails": {"DisplayName": "bot"}},
    {"B": {"z": [1, 2, {"y": True, "x": None}], "a": 10**30}, "A": 'quote"back\\slash\n\ttab\u0001'},
    {"DEL": "\x7f", "Z": 1},
    {"Name": "café ☕ 😀", "Attributes": {"é": "x", "e": "y"}},
    {"Zeta": -5, "alpha": False, "Alpha": [], "_": {}},
]


@pytest.mark.parametrize("params", REQUESTS)
def test_the_fast_fingerprint_is_the_json_module_s(params: dict[str, Any]) -> None:
    assert fingerprint(params, "ClientToken", plain=True) == fingerprint(params, "ClientToken")


def test_the_token_itself_is_not_part_of_the_fingerprint() -> None:
    base = {"InstanceId": "i", "ClientToken": "one"}
    assert fingerprint(base, "ClientToken", plain=True) == fingerprint({**base, "ClientToken": "two"}, "ClientToken")


def test_only_inputs_of_strings_integers_booleans_lists_and_objects_are_plain() -> None:
    assert plain_input(CONNECT["CreateParticipant"])
    assert plain_input(CONNECT["StartChatContact"])
    assert not plain_input(CONNECT["StartTaskContact"])  # ScheduledTime is a timestamp


def test_a_timestamp_still_fingerprints_as_its_tag() -> None:
    moment = datetime(2024, 1, 2, tzinfo=UTC)
    assert fingerprint({"At": moment}, "ClientToken") != fingerprint({"At": moment.isoformat()}, "ClientToken")
