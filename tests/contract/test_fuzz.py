"""Model-driven fuzzing of every implemented operation against a real Parley (see fuzz_strategies.py).

Each operation gets EXAMPLES hypothesis-drawn requests, valid-but-odd and malformed, over one keep-alive
connection: no answer is a 5xx, every answer is JSON, every error is the AWS wire form with a code the
operation declares or a common one, and the server logs no traceback. `bench/fuzz.py` runs the same
strategies for 100,000 requests and more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.protocol.spec import OperationSpec
from tests.conftest import RunningParley, start_parley
from tests.contract.fuzz_strategies import Outcome, WireRequest, requests
from tests.contract.fuzzing import Sender, bad_log_lines, implemented_operations, known_things

OPERATIONS = implemented_operations()
EXAMPLES = 2_500 // len(OPERATIONS)  # about 2,500 requests in all: 30-50 s on a shared 2-core machine


@pytest.fixture(scope="module")
def server() -> Iterator[RunningParley]:
    running = start_parley("--log-level", "warning", "--quota-instances", "0", "--quota-active-chats", "0")
    yield running
    running.stop()


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_fuzzed_requests_get_declared_json_errors_and_never_a_5xx(server: RunningParley, op: OperationSpec) -> None:
    running = server
    known = known_things(running.url)  # fresh chats: an earlier operation may have ended the last ones
    sender = Sender(running.url)
    strategy = requests(op, known)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        outcome = sender.send(op, data.draw(strategy))
        assert not outcome.problems(), outcome.describe()

    try:
        check()
    finally:
        sender.close()
    assert bad_log_lines(running.lines) == []


def test_the_oracle_catches_what_it_must() -> None:
    """A 5xx, a body that is not JSON, a bare error body and an undeclared code are each a problem."""
    op = next(op for op in OPERATIONS if op.name == "SendMessage")
    request = WireRequest("POST", "/participant/message", {}, b"{}", "valid")
    json_headers = {"content-type": "application/json"}

    def problems(status: int, code: str | None, body: bytes, headers: dict[str, str] = json_headers) -> list[str]:
        extra = {"x-amzn-errortype": code} if code else {}
        return Outcome(op, request, status, {**headers, **extra}, body).problems()

    assert problems(200, None, b"{}") == []
    assert problems(400, "ValidationException", b'{"__type":"ValidationException","message":"m"}') == []
    assert problems(500, "InternalServerException", b'{"__type":"InternalServerException","message":"m"}')
    assert problems(400, None, b"Invalid HTTP request received.", {"content-type": "text/plain"})
    assert problems(400, "ValidationException", b"{}")
    assert problems(409, "IdempotencyException", b'{"__type":"IdempotencyException","message":"m"}')
