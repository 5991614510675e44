"""The `Leases` port in memory: which holder has a named piece of work until when, and the cluster's meta
values. A store in memory is nobody else's, so one node claims every lease it asks for unless it gave the
lease to another holder name; the rules are the SQL stores' (sql_leases.py) all the same, so a unit that
raises leaves its claims undone like everything else (the changes go through the journal)."""

from __future__ import annotations

from parley.store.memory.records import MemoryRecords


class MemoryLeases(MemoryRecords):
    def claim_lease(self, name: str, holder: str, now: float, ttl: float) -> bool:
        """Takes a free, lapsed or own lease for `ttl` seconds from `now`; True when `holder` holds it."""
        current = self.leases.get(name)
        if current is None or current[1] < now or current[0] == holder:
            self._put(self.leases, name, (holder, now + ttl))
            return True
        return False

    def release_lease(self, name: str, holder: str) -> None:
        current = self.leases.get(name)
        if current is not None and current[0] == holder:
            self._drop(self.leases, name)

    def release_leases(self, holder: str) -> int:
        mine = [name for name, (owner, _) in self.leases.items() if owner == holder]
        for name in mine:
            self._drop(self.leases, name)
        return len(mine)

    def held_leases(self, prefix: str, now: float) -> dict[str, str]:
        return {
            name: owner for name, (owner, expires) in self.leases.items() if name.startswith(prefix) and expires >= now
        }

    def list_leases(self) -> list[tuple[str, str, float]]:
        return sorted((name, owner, expires) for name, (owner, expires) in self.leases.items())

    def put_meta(self, key: str, value: str) -> None:
        self._put(self.meta, key, value)

    def get_meta(self, key: str) -> str | None:
        return self.meta.get(key)
