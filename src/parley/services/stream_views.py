"""What the admin API shows of streams (streaming.md §6): the list with counts and errors, one stream's
pending, dead and recent messages, redrive, clearing the dead list, captured messages, health counters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parley.chat import streams
from parley.chat.model import OutboxEntry, Selection, Stream, StreamCounts
from parley.chat.ports import UnitOfWork
from parley.services.base import Store
from parley.services.stream_message import body
from parley.services.stream_routes import kind_of
from parley.services.streams import Streamer


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def summary(stream: Stream, counts: StreamCounts) -> dict[str, Any]:
    return {
        "StreamingId": stream.id,
        "contactId": stream.contact_id,
        "initialContactId": stream.chain_id,
        "topicArn": stream.topic_arn,
        "target": kind_of(stream.target),
        "state": stream.state,
        "paused": stream.paused,
        "filter": stream.filter,
        "counts": {
            "delivered": counts.delivered,
            "pending": counts.pending,
            "retrying": counts.retrying,
            "dead": counts.dead,
            "filtered": counts.filtered,
        },
        "lastError": counts.last_error,
        "lastDeliveredAt": _when(counts.last_delivered_at),
    }


def _message(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "itemId": entry.item.id,
        "attempts": entry.attempts,
        "lastError": entry.last_error,
        "deliveredAt": _when(entry.done_at),
        "message": body(entry.item),
    }


class StreamViews:
    def __init__(self, store: Store, streamer: Streamer) -> None:
        self._store = store
        self._streamer = streamer

    async def list(self, selection: Selection, topic: str | None, state: str | None) -> dict[str, Any]:
        def unit(repo: UnitOfWork) -> list[tuple[Stream, StreamCounts]]:
            return [(s, repo.outbox_counts(s.id)) for _, s in repo.select_streams(selection)]

        found = await self._store.read(unit)
        shown = [
            summary(s, c)
            for s, c in found
            if topic in (None, s.topic_arn, s.topic_arn.rsplit(":", 1)[-1]) and state in (None, s.state)
        ]
        return {"streams": shown}

    async def detail(self, streaming_id: str, history: int) -> dict[str, Any] | None:
        def unit(repo: UnitOfWork) -> dict[str, Any] | None:
            found = repo.find_stream(streaming_id)
            if found is None:
                return None
            shown = summary(found[1], repo.outbox_counts(streaming_id))
            for state, key, limit in (
                ("pending", "pending", 1000),
                ("dead", "dead", 1000),
                ("delivered", "recent", history),
            ):
                shown[key] = [_message(e) for e in repo.outbox_entries(streaming_id, state, limit)]
            return shown

        return await self._store.read(unit)

    async def redrive(self, streaming_id: str) -> int | None:
        moved = await self._store.run(lambda repo: streams.redrive(repo, streaming_id))
        if moved is not None:
            self._streamer.resume(streaming_id)
        return moved

    async def clear_dead(self, streaming_id: str) -> int | None:
        def unit(repo: UnitOfWork) -> int | None:
            return None if repo.find_stream(streaming_id) is None else repo.outbox_clear_dead(streaming_id)

        return await self._store.run(unit)

    def messages(self, topic: str | None, contact: str | None, limit: int) -> dict[str, Any]:
        return {"messages": self._streamer.captures.list(topic, contact, limit)}

    async def health(self) -> dict[str, int]:
        totals = await self._store.read(lambda r: r.outbox_totals())
        return {"pending": totals.get("pending", 0), "dead": totals.get("dead", 0)}
