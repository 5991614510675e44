"""The store contract for streams and their outbox: items queue in order, are delivered, retried, dead,
redriven and counted alike on every backend."""

from __future__ import annotations

from parley.chat.model import STOPPED, OutboxEntry, Selection
from parley.chat.ports import UnitOfWork
from tests.store import records as r
from tests.store.conftest import Node
from tests.store.records import SCOPE


def streaming(node: Node, messages: int) -> None:
    """Stream s-1 carries MESSAGE items of chain c-1; `messages` messages and one event are recorded."""

    def record(repo: UnitOfWork) -> None:
        repo.put_stream(SCOPE, r.stream("s-1", "c-1"))
        repo.put_stream(SCOPE, r.stream("s-2", "c-2"))
        for number in range(messages):
            repo.stream_item(SCOPE, repo.append_item(SCOPE, r.item(f"m-{number}", "c-1")))
        repo.stream_item(SCOPE, repo.append_item(SCOPE, r.item("e-1", "c-1", "EVENT")))  # not a kind it carries

    node.run(record)


def test_streams_are_kept_by_chain_and_found_across_scopes(node: Node) -> None:
    streaming(node, 0)
    assert [s.id for s in node.read(lambda repo: repo.chain_streams(SCOPE, "c-1"))] == ["s-1"]
    assert node.read(lambda repo: repo.find_stream("s-2")) == (SCOPE, r.stream("s-2", "c-2"))
    selected = node.read(lambda repo: repo.select_streams(Selection(contact_id="c-2")))
    assert [s.id for _, s in selected] == ["s-2"]
    assert [s.id for _, s in node.read(lambda repo: repo.select_streams(Selection()))] == ["s-1", "s-2"]
    stopped = r.stream("s-1", "c-1")
    stopped.state = STOPPED
    node.run(lambda repo: repo.put_stream(SCOPE, stopped))
    assert node.read(lambda repo: repo.get_stream(SCOPE, "s-1")) == stopped
    node.run(lambda repo: repo.stream_item(SCOPE, repo.append_item(SCOPE, r.item("m-9", "c-1"))))
    assert node.read(lambda repo: repo.streams_with_pending()) == []  # a stopped stream queues nothing


def test_the_outbox_delivers_in_item_order_and_counts(node: Node) -> None:
    streaming(node, 3)
    assert node.read(lambda repo: repo.streams_with_pending()) == ["s-1"]
    pending = node.read(lambda repo: repo.outbox_next("s-1", 10))
    assert [e.item.id for e in pending] == ["m-0", "m-1", "m-2"]
    assert [e.item.id for e in node.read(lambda repo: repo.outbox_next("s-1", 10, pending[0].seq))] == ["m-1", "m-2"]
    node.run(lambda repo: repo.outbox_done(pending[0], False, 100.0, 10))
    node.run(lambda repo: repo.outbox_done(pending[1], True, 101.0, 10))  # filtered: counted, not kept
    counts = node.read(lambda repo: repo.outbox_counts("s-1"))
    assert (counts.delivered, counts.filtered, counts.pending, counts.last_delivered_at) == (1, 1, 1, 100.0)
    delivered = node.read(lambda repo: repo.outbox_entries("s-1", "delivered", 10))
    assert [(e.item.id, e.done_at) for e in delivered] == [("m-0", 100.0)]
    assert node.read(lambda repo: repo.outbox_totals()) == {"delivered": 1, "pending": 1}


def test_failures_retry_then_die_and_a_redrive_brings_them_back(node: Node) -> None:
    streaming(node, 2)
    first = node.read(lambda repo: repo.outbox_next("s-1", 1))[0]
    retry = OutboxEntry(first.seq, "s-1", first.item, "pending", 1, 50.0, "HTTP 500")
    assert node.run(lambda repo: repo.outbox_failed(retry, dead=False)) is True
    counts = node.read(lambda repo: repo.outbox_counts("s-1"))
    assert (counts.pending, counts.retrying, counts.dead, counts.last_error) == (2, 1, 0, "HTTP 500")
    assert node.run(lambda repo: repo.outbox_failed(retry, dead=True)) is True
    assert node.run(lambda repo: repo.outbox_failed(retry, dead=True)) is False  # no longer pending
    assert [e.item.id for e in node.read(lambda repo: repo.outbox_entries("s-1", "dead", 10))] == ["m-0"]
    assert node.run(lambda repo: repo.outbox_redrive("s-1")) == 1
    again = node.read(lambda repo: repo.outbox_next("s-1", 10))
    assert [(e.item.id, e.attempts) for e in again] == [("m-0", 0), ("m-1", 0)]


def test_overflow_sends_the_oldest_pending_to_the_dead_list(node: Node) -> None:
    streaming(node, 5)
    assert node.read(lambda repo: repo.streams_over(3)) == ["s-1"]
    assert node.read(lambda repo: repo.streams_over(5)) == []
    assert node.run(lambda repo: repo.outbox_overflow("s-1", 3)) == 2
    assert [e.item.id for e in node.read(lambda repo: repo.outbox_next("s-1", 10))] == ["m-2", "m-3", "m-4"]
    dead = node.read(lambda repo: repo.outbox_entries("s-1", "dead", 10))
    assert [(e.item.id, e.last_error) for e in dead] == [("m-0", "overflow"), ("m-1", "overflow")]
    assert node.run(lambda repo: repo.outbox_clear_dead("s-1")) == 2
    assert node.read(lambda repo: repo.outbox_counts("s-1")).dead == 0


def test_delivered_history_is_trimmed_to_its_length(node: Node) -> None:
    streaming(node, 40)
    for entry in node.read(lambda repo: repo.outbox_next("s-1", 100)):
        node.run(lambda repo, entry=entry: repo.outbox_done(entry, False, 1.0, 5))  # type: ignore[misc]
    kept = node.read(lambda repo: repo.outbox_entries("s-1", "delivered", 100))
    assert 5 <= len(kept) < 5 + 16  # trimmed every 16th delivery (sql_streams.TRIM_EVERY)
    assert kept[0].item.id == "m-39"  # the newest first
    assert node.read(lambda repo: repo.outbox_counts("s-1")).delivered == 40
