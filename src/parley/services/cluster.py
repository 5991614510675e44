"""Several nodes sharing one store (and one bus): what each node does so that together they act as one Parley.

- The sweep, every `NodeLeases.sweep_seconds` on every node that shares the store with another (a lone
  durable node only keeps its `node:` lease and the clock): the virtual clock is read back from the store,
  the deadlines of live contacts overdue by more than a lease's life are checked here (their node died with
  the timer), and the flow runs that are due and held by no node are resumed. Every check is a level-
  triggered unit of work, so a check that another node also ran finds nothing to do and emits nothing.
- The virtual clock's position is kept in the store (`meta`), and a move is announced on the bus's control
  channel, so a move on any node moves every node's clock and fires what came due there.
- A reset is announced, so every node drops the timers, sockets and stream workers of what was removed.

With a store no other process can open (in memory) there is nobody to share with: no sweep runs and nothing
is announced, so one node behaves exactly as before. Without a shared bus (the memory bus, several processes
on one SQLite data directory) announcements reach no other node, and the sweep alone carries the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from parley.chat.model import Scope
from parley.chat.policy import Policy
from parley.chat.ports import UnitOfWork
from parley.clock import Clock, VirtualClock, parse_instant
from parley.lazy import LazyModule
from parley.services.base import Store
from parley.services.leases import NodeLeases

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import conversation
else:
    conversation = LazyModule("parley.chat.conversation", globals())

log = logging.getLogger("parley.cluster")
Message = dict[str, Any]
CLOCK_KEY = "clock"  # meta: the virtual clock's position, ISO-8601
NODE_LEASE = "node:"  # a lease per node, renewed at its sweeps: the others know it shares the store


class Control(Protocol):
    """The bus's cluster-wide control channel: a message announced on one node reaches every node's listeners
    (this node's too), in order."""

    async def announce(self, message: Message) -> None: ...
    def listen(self, callback: Callable[[Message], Awaitable[None]]) -> None: ...


class Deadlines(Protocol):
    def arm(self, scope: Scope, contact_id: str, when: datetime | None) -> None: ...
    async def fire_due(self) -> int: ...


class FlowSweep(Protocol):
    async def sweep(self) -> int: ...
    async def resume_all(self) -> None: ...


class Cluster:
    def __init__(
        self,
        store: Store,
        leases: NodeLeases,
        clock: Clock,
        deadlines: Deadlines,
        flows: FlowSweep,
        policy: Policy,
        control: Control,
        shared: bool,
    ) -> None:
        self._store = store
        self._leases = leases
        self._clock = clock
        self._deadlines = deadlines
        self._flows = flows
        self._policy = policy
        self._control = control
        self.shared = shared
        self._handlers: dict[str, Callable[[Message], None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def node(self) -> str:
        return self._leases.node

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if not self.shared:
            return
        self._loop = asyncio.get_running_loop()
        self._control.listen(self._heard)
        self.on("clock", lambda message: self._spawn(self.sync_clock()))
        await self.sync_clock()
        await self._others()  # nodes already running see this one at their next sweep
        self._task = asyncio.get_running_loop().create_task(self._sweeping(), name="cluster-sweep")

    async def stop(self) -> None:
        for task in (self._task, *self._tasks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def leave(self) -> None:
        """After this node's streams and runs stopped: their leases go now, so another node goes on at its next
        sweep rather than a lease's life later."""
        if self.shared:
            released = await self._leases.release_all()
            if released:
                log.info("cluster.leave node=%s released %d leases", self.node, released)

    # -- announcements -----------------------------------------------------------------------------
    def on(self, kind: str, handler: Callable[[Message], None]) -> None:
        """What this node does when another node announces `kind`."""
        self._handlers[kind] = handler

    def announce(self, kind: str, **fields: Any) -> None:
        """Tells the other nodes, without waiting for the bus (a lost announcement is made up by the sweep).
        Callable from any thread (a unit of work runs on the store's)."""
        loop = self._loop
        if not self.shared or loop is None:
            return
        message = {"kind": kind, "node": self.node, **fields}
        loop.call_soon_threadsafe(lambda: self._spawn(self._send(message)))

    async def _send(self, message: Message) -> None:
        try:
            await self._control.announce(message)
        except Exception as error:  # the bus is down: the other nodes' sweeps read the store meanwhile
            log.warning("cluster.announce %s not sent: %s", message["kind"], error)

    async def _heard(self, message: Message) -> None:
        if message.get("node") == self.node:
            return
        handler = self._handlers.get(str(message.get("kind")))
        if handler is None:
            return
        try:
            handler(message)
        except Exception:
            log.exception("cluster message %s failed", message.get("kind"))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the virtual clock -------------------------------------------------------------------------
    async def move_clock(self, delta: timedelta | None, moment: datetime | None) -> None:
        """Moves the virtual clock by `delta` or to `moment` from the cluster's position, in one unit of work
        (two moves on two nodes at once both count), then tells the other nodes. ValueError: backwards."""
        clock = self._clock
        assert isinstance(clock, VirtualClock)
        if not self.shared:
            if delta is not None:
                clock.advance(delta)
            elif moment is not None:
                clock.set(moment)
            return

        def unit(repo: UnitOfWork) -> datetime:
            kept = repo.get_meta(CLOCK_KEY)
            base = max(parse_instant(kept), clock.now()) if kept is not None else clock.now()
            target = base + delta if delta is not None else (moment or base)
            if delta is not None and delta < timedelta(0):
                raise ValueError("the clock cannot go backwards")
            if target < base:
                raise ValueError(f"the clock cannot go backwards (it is {base.isoformat()})")
            repo.put_meta(CLOCK_KEY, target.isoformat())
            return target

        target = await self._store.run(unit)
        if target > clock.now():
            clock.set(target)
        await self._send({"kind": "clock", "node": self.node, "now": target.isoformat()})

    async def sync_clock(self) -> bool:
        """Catches this node's virtual clock up with the store's (and fires what came due); True if it moved."""
        if not self.shared or not isinstance(self._clock, VirtualClock):
            return False
        kept = await self._store.read(lambda repo: repo.get_meta(CLOCK_KEY))
        if kept is None or parse_instant(kept) <= self._clock.now():
            return False
        self._clock.set(parse_instant(kept))
        await self._deadlines.fire_due()
        return True

    # -- the sweep ---------------------------------------------------------------------------------
    async def _sweeping(self) -> None:
        while True:
            await asyncio.sleep(self._leases.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                log.exception("cluster sweep failed; trying again at the next sweep")

    async def sweep(self) -> None:
        await self.sync_clock()
        if not await self._others():
            return
        await self.overdue()
        await self._flows.sweep()

    async def _others(self) -> bool:
        """Whether another node shares the store, or did and died (its `node:` row outlives it; a node that
        stops cleanly gives it up). This node's own row is renewed at every sweep, so the others see it. A
        lone node has no one whose timers or runs could need taking over (at start it re-arms its own), so it
        skips the scans, which read every live chat. A node dead for a lease's life beyond its row's lapse is
        adopted (`_adopt`), and its row goes: a survivor left alone stops sweeping."""
        own, ttl = NODE_LEASE + self.node, self._leases.ttl

        def unit(repo: UnitOfWork) -> tuple[bool, dict[str, str]]:
            self._leases.claim_in(repo, own)
            rows = {name: holder for name, holder in repo.held_leases(NODE_LEASE, 0.0).items() if name != own}
            recent = self._leases.held_in(repo, NODE_LEASE, lapsed_for=ttl)
            return bool(rows), {name: holder for name, holder in rows.items() if name not in recent}

        others, dead = await self._store.run(unit)
        if dead:
            await self._adopt(dead)
        return others

    async def _adopt(self, dead: dict[str, str]) -> None:
        """Nodes whose `node:` row lapsed more than a lease's life ago: every lease they held has lapsed too
        (each was renewed within a third of a lease's life, while its row was renewed every half), so their
        runs and streams are anybody's. What lived only in their memory comes here, as at a restart: every
        live contact's next deadline is armed, and every live run is looked at again (waits re-arm their
        timers). Then their rows go. Done by every survivor that sees it: the checks are level-triggered."""
        armed = await self._arm_deadlines(before=None)
        await self._flows.resume_all()

        def forget(repo: UnitOfWork) -> None:
            for name, holder in dead.items():
                repo.release_lease(name, holder)

        await self._store.run(forget)
        for name in dead:
            log.warning("cluster.adopt node=%s: dead; its timers (%d live contacts) and runs are here", name, armed)

    async def overdue(self) -> int:
        """Checks the live contacts whose next deadline passed more than a lease's life ago (the node that
        armed it died); answers how many."""
        return await self._arm_deadlines(before=self._clock.now() - timedelta(seconds=self._leases.ttl))

    async def _arm_deadlines(self, before: datetime | None) -> int:
        """Arms here the next deadline of every live contact (due before `before`, when given); how many."""
        now, policy = self._clock.now(), self._policy

        def unit(repo: UnitOfWork) -> list[tuple[Scope, str, datetime]]:
            found = []
            for scope, contact in repo.live_contacts():
                when = conversation.next_deadline(repo, scope, contact, now, policy)
                if when is not None and (before is None or when < before):
                    found.append((scope, contact.id, when))
            return found

        found = await self._store.read(unit)
        for scope, contact_id, when in found:
            if before is not None:
                log.info("deadline.takeover contact=%s: due at %s and not checked", contact_id, when.isoformat())
            self._deadlines.arm(scope, contact_id, when)
        if found and self._clock.virtual:
            await self._deadlines.fire_due()
        return len(found)
