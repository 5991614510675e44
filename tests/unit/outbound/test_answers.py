"""flows.md §5.3: a response is JSON of at most 32 KB; a function error is reported with the runtime's message."""

from __future__ import annotations

import json

from parley.outbound.answers import MAX_RESPONSE_BYTES, from_body, from_return, function_error


def test_json_up_to_32_kb_is_the_payload() -> None:
    body = json.dumps({"k": "v" * (MAX_RESPONSE_BYTES - 20)}).encode()
    assert len(body) <= MAX_RESPONSE_BYTES
    assert from_body(body).ok and from_body(b'{"a":[1,{"b":null}]}').payload == {"a": [1, {"b": None}]}


def test_more_than_32_kb_is_an_error() -> None:
    answer = from_body(json.dumps({"k": "v" * MAX_RESPONSE_BYTES}).encode())
    assert not answer.ok and answer.error is not None and "larger than 32 KB" in answer.error


def test_a_body_that_is_not_json_is_an_error_quoting_it() -> None:
    answer = from_body(b"<html>oops</html>")
    assert not answer.ok and answer.error == "the response is not JSON: '<html>oops</html>'"


def test_a_return_value_goes_through_json() -> None:
    assert from_return({"t": (1, 2), "s": "é"}).payload == {"t": [1, 2], "s": "é"}
    assert from_return(None).ok and from_return(None).payload is None
    refused = from_return({"when": object()})
    assert not refused.ok and refused.error is not None and refused.error.startswith("the return value is not JSON")
    assert not from_return(float("nan")).ok


def test_function_errors_name_the_kind_type_and_message() -> None:
    body = b'{"errorMessage":"boom","errorType":"RuntimeError","stackTrace":[]}'
    assert function_error("Unhandled", body) == "function error (Unhandled): RuntimeError: boom"
    assert function_error("Handled", b"plain") == "function error (Handled): 'plain'"
