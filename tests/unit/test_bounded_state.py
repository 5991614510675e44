"""State that grows with traffic but must stay bounded: the request log's ring and the ClientToken records."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from parley.chat.model import Scope
from parley.store.sql_repo import SWEEP_EVERY
from parley.store.sqlite import SqliteStore
from parley.transport.request_log import BODY_BUDGET, BODY_LIMIT, Entry, RequestFilter, RequestLog


def entry(n: int, body: bytes) -> Entry:
    return Entry(
        time.time(), "connect.StartChatContact", "PUT", "/contact/chat", 200, None, 1.0, str(n), None, body, body
    )


def test_the_request_log_keeps_no_body_over_its_display_limit() -> None:
    ring = RequestLog(100)
    for n in range(300):
        ring.record(entry(n, b"x" * (BODY_LIMIT + 1 + n)))
    kept = list(ring._entries)
    assert len(kept) == 100
    assert sum(len(e.request) + len(e.response) for e in kept) == 0
    last = ring.select(RequestFilter(limit=1))[0]
    assert last["request"] == f"<{BODY_LIMIT + 300} bytes>" and last["response"] == last["request"]


def test_the_request_log_keeps_at_most_its_body_budget() -> None:
    ring = RequestLog(100_000)
    for n in range(2000):
        ring.record(entry(n, b"y" * BODY_LIMIT))
    kept = list(ring._entries)
    assert sum(len(e.request) + len(e.response) for e in kept) <= BODY_BUDGET
    assert len(kept) == BODY_BUDGET // (2 * BODY_LIMIT) and kept[-1].request_id == "1999"
    assert ring.clear() == len(kept)


def test_the_request_log_keeps_small_bodies() -> None:
    ring = RequestLog(10)
    ring.record(entry(1, b'{"InstanceId":"i"}'))
    assert ring.select(RequestFilter())[0]["request"] == {"InstanceId": "i"}


def test_expired_client_token_records_are_swept() -> None:
    store = SqliteStore(None)
    repo, scope = store._repo, Scope("123456789012", "us-east-1")
    now = datetime(2030, 1, 1, tzinfo=UTC)
    try:
        for n in range(3000):
            repo.put_idempotent(scope, f"old{n}", "f", "{}", now - timedelta(seconds=1))
        repo.put_idempotent(scope, "live", "f", "{}", now + timedelta(days=1))
        for n in range(SWEEP_EVERY):
            repo.get_idempotent(scope, f"k{n}", now)
        assert store._conn.execute("SELECT key FROM idempotency").fetchall() == [("live",)]
        assert repo.get_idempotent(scope, "live", now) == ("f", "{}")
    finally:
        store.close()
