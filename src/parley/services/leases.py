"""This node's leases on shared work (several nodes, one store): who this node is, claiming a lease inside a
unit of work or on its own, keeping it while work is in flight, and giving it up.

A lease (`flow:<contact>`, `stream:<id>`) says which node drives a flow run or delivers a stream; it lapses
`ttl` seconds after its last claim, so the work of a node that died is taken over by another node's sweep
(`sweep_seconds`). Lease time is wall time, even under a virtual clock: a node dies in real time. On one node
every claim succeeds, so nothing changes there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable

from parley.chat.ports import UnitOfWork
from parley.services.base import Store

log = logging.getLogger("parley.leases")


def node_name() -> str:
    """This process's name in the leases: host, pid and a random tail (a restarted node is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def flow_lease(contact_id: str) -> str:
    return f"flow:{contact_id}"


def stream_lease(streaming_id: str) -> str:
    return f"stream:{streaming_id}"


class Renewal:
    """A lease kept while a piece of work runs; `lost` once another node took it over meanwhile."""

    def __init__(self) -> None:
        self.lost = False


class NodeLeases:
    def __init__(self, store: Store, node: str, ttl: float, wall: Callable[[], float] = time.time) -> None:
        self._store = store
        self.node = node
        self.ttl = ttl
        self._wall = wall

    @property
    def sweep_seconds(self) -> float:
        """How often a node looks for lapsed work: twice a lease's life, so a dead node's work moves on
        within one and a half lease lives."""
        return self.ttl / 2

    # -- inside a unit of work (atomic with the work it guards) -----------------------------------
    def claim_in(self, repo: UnitOfWork, name: str) -> bool:
        return repo.claim_lease(name, self.node, self._wall(), self.ttl)

    def release_in(self, repo: UnitOfWork, name: str) -> None:
        repo.release_lease(name, self.node)

    def held_in(self, repo: UnitOfWork, prefix: str, lapsed_for: float = 0.0) -> dict[str, str]:
        """The leases under `prefix` held now, or (with `lapsed_for`) lapsed no more than that many seconds ago."""
        return repo.held_leases(prefix, self._wall() - lapsed_for)

    # -- on their own ------------------------------------------------------------------------------
    async def claim(self, name: str) -> bool:
        return await self._store.run(lambda repo: self.claim_in(repo, name))

    async def release(self, name: str) -> None:
        await self._store.run(lambda repo: self.release_in(repo, name))

    async def release_all(self) -> int:
        """A node stopping gives its work up at once rather than at its leases' lapse."""
        return await self._store.run(lambda repo: repo.release_leases(self.node))

    async def held(self, prefix: str) -> dict[str, str]:
        return await self._store.read(lambda repo: self.held_in(repo, prefix))

    @contextlib.asynccontextmanager
    async def renewing(self, name: str) -> AsyncIterator[Renewal]:
        """Renews the (already held) lease every third of its life while the block runs."""
        renewal = Renewal()
        task = asyncio.get_running_loop().create_task(self._renew(name, renewal))
        try:
            yield renewal
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew(self, name: str, renewal: Renewal) -> None:
        while not renewal.lost:
            await asyncio.sleep(self.ttl / 3)
            try:
                renewal.lost = not await self.claim(name)
            except Exception:  # the store is briefly unreachable: try again at the next third
                log.exception("lease.renew %s failed", name)
                continue
            if renewal.lost:
                log.warning("lease.lost %s: another node took it over", name)
