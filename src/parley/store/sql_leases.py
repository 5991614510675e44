"""The `Leases` port in SQL that runs unchanged on SQLite and PostgreSQL: which node holds a named piece of
work (a flow run, a stream's delivery) until when.

A claim is one upsert that takes a free, lapsed or already-own lease and leaves anyone else's alone, then
reads the row back: the caller holds the lease when the row names it. Under SQLite's single writer, and
under PostgreSQL's REPEATABLE READ units too, two nodes claiming at once get one holder: the upsert of a
row another unit changed after this unit's snapshot is refused (40001, whether or not its WHERE would
update) and the unit runs again, so the row read back is the latest. Expiry is wall time in epoch
seconds, passed in by the caller (this module reads no clock).
"""

from __future__ import annotations

from typing import Any

CLAIM = (
    "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
    "WHERE leases.expires < ? OR leases.holder = ?"
)


class SqlLeases:
    _db: Any  # the connection (or the dialect's cursor wrapper) the repository runs on

    def claim_lease(self, name: str, holder: str, now: float, ttl: float) -> bool:
        """Takes or renews the lease for `ttl` seconds from `now`; True when `holder` holds it afterwards."""
        self._db.execute(CLAIM, (name, holder, now + ttl, now, holder))
        row = self._db.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
        return row is not None and row[0] == holder

    def release_lease(self, name: str, holder: str) -> None:
        """Gives the lease up, if `holder` still holds it (a lease taken over meanwhile stays with its taker)."""
        self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def release_leases(self, holder: str) -> int:
        """Gives up every lease `holder` holds (a node stopping); answers how many."""
        return int(self._db.execute("DELETE FROM leases WHERE holder = ?", (holder,)).rowcount)

    def held_leases(self, prefix: str, now: float) -> dict[str, str]:
        """The unexpired leases whose names start with `prefix`: name -> holder."""
        rows = self._db.execute(
            "SELECT name, holder FROM leases WHERE substr(name, 1, ?) = ? AND expires >= ?",
            (len(prefix), prefix, now),
        ).fetchall()
        return {str(name): str(holder) for name, holder in rows}

    def list_leases(self) -> list[tuple[str, str, float]]:
        """Every lease, lapsed or not: (name, holder, expires)."""
        rows = self._db.execute("SELECT name, holder, expires FROM leases ORDER BY name").fetchall()
        return [(str(name), str(holder), float(expires)) for name, holder, expires in rows]

    def put_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
