"""The pure parts of the edge limits: JSON nesting depth, the frame rate bucket, refusal bytes, the
declared-error choice for a reused ClientToken, and the limit settings' flags and environment twins."""

from __future__ import annotations

import json

import pytest

from parley.limits import Limits
from parley.protocol.errors import ServiceError
from parley.protocol.spec import load_operations
from parley.services.base import mismatch_code
from parley.settings import Settings, SettingsError, load
from parley.transport.guard import refusal_bytes
from parley.transport.websocket import FrameRefused, Rate, first_json_value, nested_deeper_than


def test_nesting_depth_counts_brackets_outside_strings_only() -> None:
    assert not nested_deeper_than('{"a":[[1]]}', 3)
    assert nested_deeper_than('{"a":[[[1]]]}', 3)
    assert not nested_deeper_than('{"a":"[[[[[[[[[[\\"[[[["}', 3)  # brackets inside a string (with an escape)
    assert nested_deeper_than("[" * 1100, 32)


def test_a_frame_nested_too_deeply_is_refused_and_never_reaches_the_parser() -> None:
    with pytest.raises(FrameRefused):
        first_json_value("[" * 100_000, 32)
    assert first_json_value('{"topic":"aws/subscribe"})', 32) == {"topic": "aws/subscribe"}
    assert first_json_value("not json", 32) is None


def test_the_rate_allows_a_burst_of_twice_the_rate_then_refuses() -> None:
    rate = Rate(5)
    assert [rate.take() for _ in range(12)] == [True] * 10 + [False] * 2
    assert all(Rate(0).take() for _ in range(1000))  # 0: no limit


def test_a_refusal_is_a_complete_json_error_response() -> None:
    raw = refusal_bytes(ServiceError("ValidationError", 414, "too long"))
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert b"\r\nx-amzn-errortype: ValidationError" in head and b"\r\nconnection: close" in head
    assert json.loads(body) == {"__type": "ValidationError", "message": "too long", "Message": "too long"}
    assert b"content-length: %d" % len(body) in head


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("CreateInstance", "InvalidRequestException"),
        ("StartChatContact", "InvalidParameterException"),
        ("StartWebRTCContact", "InvalidParameterException"),
        ("CreateParticipant", "ConflictException"),
        ("CreateContact", "IdempotencyException"),
    ],
)
def test_a_reused_client_token_answers_the_first_declared_preference(operation: str, expected: str) -> None:
    op = load_operations("connect")[operation]
    assert mismatch_code(op, Settings()) == expected
    assert expected in op.error_codes


def test_the_mismatch_choice_is_a_setting() -> None:
    op = load_operations("connect")["StartChatContact"]
    settings = load({"idempotency_mismatch_errors": "StartChatContact=InvalidRequestException"}, {})
    assert mismatch_code(op, settings) == "InvalidRequestException"


def test_every_limit_has_a_flag_and_an_environment_twin() -> None:
    from_env = load({}, {"PARLEY_HEADER_TIMEOUT": "2.5", "PARLEY_MAX_SOCKETS_PER_PARTICIPANT": "5"})
    assert from_env.limits.header_timeout == 2.5 and from_env.limits.max_sockets_per_participant == 5
    from_flag = load({"header_timeout": "3"}, {"PARLEY_HEADER_TIMEOUT": "2.5"})
    assert from_flag.limits.header_timeout == 3.0
    assert load({}, {}).limits == Limits()
    with pytest.raises(SettingsError, match="PARLEY_MAX_BODY_BYTES"):
        load({}, {"PARLEY_MAX_BODY_BYTES": "0"})
    with pytest.raises(SettingsError, match="--body-timeout"):
        load({"body_timeout": "-1"}, {})
