"""Streams and their outbox over SQL (the `Repo` stream methods and the `Outbox` port).

`stream_item` runs inside the unit of work that records an item, so the item and its outbox rows commit
together. An outbox row's `seq` is the stream's delivery order. Delivered rows are kept only as the last
PARLEY_STREAM_HISTORY of their stream; the stream row keeps the running counters.
"""

from __future__ import annotations

from parley.chat.model import ACTIVE, Item, OutboxEntry, Removed, Scope, Selection, Stream, StreamCounts
from parley.store.codec import dump, load
from parley.store.sql_inventory import SqlInventory, where

TRIM_EVERY = 16
ENTRY = "SELECT seq, streaming_id, item, state, attempts, first_at, last_error, done_at FROM stream_outbox"


def _entry(row: tuple[int, str, str, str, int, float | None, str | None, float | None]) -> OutboxEntry:
    item = load(Item, row[2])
    return OutboxEntry(row[0], row[1], item, row[3], row[4], row[5], row[6], row[7])


class SqlStreams(SqlInventory):
    # the domain's side ----------------------------------------------------------------------
    def put_stream(self, scope: Scope, stream: Stream) -> None:
        self._db.execute(
            "INSERT INTO streams (account, region, id, chain_id, instance_id, contact_id, state, doc)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (account, region, id) DO UPDATE SET state=excluded.state,"
            " doc=excluded.doc",
            (
                scope.account,
                scope.region,
                stream.id,
                stream.chain_id,
                stream.instance_id,
                stream.contact_id,
                stream.state,
                dump(stream),
            ),
        )

    def get_stream(self, scope: Scope, streaming_id: str) -> Stream | None:
        row = self._db.execute(
            "SELECT doc FROM streams WHERE account=? AND region=? AND id=?",
            (scope.account, scope.region, streaming_id),
        ).fetchone()
        return load(Stream, row[0]) if row else None

    def chain_streams(self, scope: Scope, chain_id: str) -> list[Stream]:
        rows = self._db.execute(
            "SELECT doc FROM streams WHERE account=? AND region=? AND chain_id=? ORDER BY rowid",
            (scope.account, scope.region, chain_id),
        ).fetchall()
        return [load(Stream, r[0]) for r in rows]

    def stream_item(self, scope: Scope, item: Item) -> None:
        rows = self._db.execute(
            "SELECT doc FROM streams WHERE account=? AND region=? AND chain_id=? AND state=?",
            (scope.account, scope.region, item.chain_id, ACTIVE),
        ).fetchall()
        if not rows:
            return
        doc = dump(item)
        for row in rows:
            stream = load(Stream, row[0])
            if item.type in stream.kinds:
                self._db.execute(
                    "INSERT INTO stream_outbox (streaming_id, state, item) VALUES (?, 'pending', ?)", (stream.id, doc)
                )

    # the worker's side ----------------------------------------------------------------------
    def find_stream(self, streaming_id: str) -> tuple[Scope, Stream] | None:
        row = self._db.execute("SELECT account, region, doc FROM streams WHERE id=?", (streaming_id,)).fetchone()
        return (Scope(row[0], row[1]), load(Stream, row[2])) if row else None

    def select_streams(self, selection: Selection) -> list[tuple[Scope, Stream]]:
        sql, args = where(Selection(selection.account, selection.region, selection.instance_id), "instance_id")
        rows = self._db.execute(f"SELECT account, region, doc FROM streams WHERE {sql} ORDER BY rowid", args)
        found = [(Scope(r[0], r[1]), load(Stream, r[2])) for r in rows.fetchall()]
        wanted = selection.contact_id
        return [(s, st) for s, st in found if wanted is None or wanted in (st.contact_id, st.chain_id)]

    def streams_with_pending(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT streaming_id FROM stream_outbox WHERE state='pending'").fetchall()
        return [r[0] for r in rows]

    def outbox_next(self, streaming_id: str, limit: int, after: int = 0) -> list[OutboxEntry]:
        rows = self._db.execute(
            f"{ENTRY} WHERE streaming_id=? AND state='pending' AND seq>? ORDER BY seq LIMIT ?",
            (streaming_id, after, limit),
        ).fetchall()
        return [_entry(r) for r in rows]

    def outbox_entries(self, streaming_id: str, state: str, limit: int) -> list[OutboxEntry]:
        order = "DESC" if state == "delivered" else "ASC"
        rows = self._db.execute(
            f"{ENTRY} WHERE streaming_id=? AND state=? ORDER BY seq {order} LIMIT ?", (streaming_id, state, limit)
        ).fetchall()
        return [_entry(r) for r in rows]

    def outbox_done(self, entry: OutboxEntry, filtered: bool, at: float, history: int) -> None:
        sid = entry.streaming_id
        if filtered or history == 0:
            self._db.execute("DELETE FROM stream_outbox WHERE seq=?", (entry.seq,))
        else:
            self._db.execute(
                "UPDATE stream_outbox SET state='delivered', done_at=?, attempts=? WHERE seq=?",
                (at, entry.attempts, entry.seq),
            )
            if entry.seq % TRIM_EVERY == 0:  # the history is trimmed now and then, not on every delivery
                self._db.execute(
                    "DELETE FROM stream_outbox WHERE streaming_id=? AND state='delivered' AND seq <= (SELECT seq FROM"
                    " stream_outbox WHERE streaming_id=? AND state='delivered' ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (sid, sid, history),
                )
        if filtered:
            self._db.execute("UPDATE streams SET filtered=filtered+1 WHERE id=?", (sid,))
        else:
            self._db.execute("UPDATE streams SET delivered=delivered+1, last_delivered_at=? WHERE id=?", (at, sid))

    def outbox_failed(self, entry: OutboxEntry, dead: bool) -> bool:
        """False when the message is no longer pending (overflow moved it to the dead list meanwhile)."""
        updated = self._db.execute(
            "UPDATE stream_outbox SET state=?, attempts=?, first_at=?, last_error=? WHERE seq=? AND state='pending'",
            ("dead" if dead else "pending", entry.attempts, entry.first_at, entry.last_error, entry.seq),
        ).rowcount
        self._db.execute("UPDATE streams SET last_error=? WHERE id=?", (entry.last_error, entry.streaming_id))
        return bool(updated)

    def streams_over(self, max_pending: int) -> list[str]:
        rows = self._db.execute(
            "SELECT streaming_id FROM stream_outbox WHERE state='pending' GROUP BY streaming_id HAVING COUNT(*) > ?",
            (max_pending,),
        ).fetchall()
        return [r[0] for r in rows]

    def outbox_overflow(self, streaming_id: str, max_pending: int) -> int:
        """Past `max_pending`, the oldest pending messages go to the dead list (reason `overflow`)."""
        return int(
            self._db.execute(
                "UPDATE stream_outbox SET state='dead', last_error='overflow' WHERE streaming_id=? AND state='pending'"
                " AND seq <= (SELECT seq FROM stream_outbox WHERE streaming_id=? AND state='pending'"
                " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (streaming_id, streaming_id, max_pending),
            ).rowcount
        )

    def outbox_counts(self, streaming_id: str) -> StreamCounts:
        by_state = {
            state: (count, retrying)
            for state, count, retrying in self._db.execute(
                "SELECT state, COUNT(*), SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) FROM stream_outbox"
                " WHERE streaming_id=? GROUP BY state",
                (streaming_id,),
            ).fetchall()
        }
        row = self._db.execute(
            "SELECT delivered, filtered, last_error, last_delivered_at FROM streams WHERE id=?", (streaming_id,)
        ).fetchone() or (0, 0, None, None)
        pending = by_state.get("pending", (0, 0))
        return StreamCounts(
            delivered=row[0],
            pending=pending[0],
            retrying=int(pending[1] or 0),
            dead=by_state.get("dead", (0, 0))[0],
            filtered=row[1],
            last_error=row[2],
            last_delivered_at=row[3],
        )

    def outbox_redrive(self, streaming_id: str) -> int:
        return int(
            self._db.execute(
                "UPDATE stream_outbox SET state='pending', attempts=0, first_at=NULL WHERE streaming_id=? AND"
                " state='dead'",
                (streaming_id,),
            ).rowcount
        )

    def outbox_clear_dead(self, streaming_id: str) -> int:
        return int(
            self._db.execute(
                "DELETE FROM stream_outbox WHERE streaming_id=? AND state='dead'", (streaming_id,)
            ).rowcount
        )

    def outbox_totals(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, COUNT(*) FROM stream_outbox GROUP BY state").fetchall()
        return {state: int(count) for state, count in rows}

    def remove(self, selection: Selection) -> Removed:
        """A reset removes the selection's streams and their outbox too."""
        sql, args = where(selection, "instance_id")
        outbox = self._db.execute(
            f"DELETE FROM stream_outbox WHERE streaming_id IN (SELECT id FROM streams WHERE {sql})", args
        ).rowcount
        streams = self._db.execute(f"DELETE FROM streams WHERE {sql}", args).rowcount
        removed = super().remove(selection)
        removed.counts["streams"] = streams
        removed.counts["streamMessages"] = outbox
        return removed
