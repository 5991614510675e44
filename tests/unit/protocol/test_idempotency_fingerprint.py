"""A ClientToken's fingerprint is the same whichever encoder writes it, so a retry matches its first call
across versions and nodes; the fast encoder is used only for inputs that cannot hold what it writes otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.protocol.idempotency import _OUTPUT, decode_output, encode_output, fingerprint, plain_input
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


OUTPUTS: list[dict[str, Any]] = [
    {"ParticipantId": "p", "ParticipantCredentials": {"Expiry": datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)}},
    {"List": [1, 2.5, None, True, "café \u2028 😀"], "Blob": b"\x00\xff", "Nested": {"t": [datetime.now(UTC)]}},
    {"NotFinite": float("nan"), "Big": 10**30, "Surrogate": "\ud800", "IntKey": {1: "one"}},
]


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_stored_answer_reads_back_as_the_json_module_s_would(output: dict[str, Any]) -> None:
    fast = decode_output(encode_output(output))
    slow = decode_output(_OUTPUT.encode(output))
    assert json.dumps(fast, default=repr, sort_keys=True) == json.dumps(slow, default=repr, sort_keys=True)
