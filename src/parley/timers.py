"""Deadlines on the event loop: a contact's end, a bot's and a customer's connect windows.

One deadline per contact and channel, at its next one; firing runs the service's check, which answers with
the contact's following deadline (or None). Deadlines are stored with the contacts, so a restarted
durable server re-arms them from the store. Under a virtual clock nothing fires by itself: moving
the clock runs every check that has come due (`fire_due`) before the move is answered.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime

from parley.chat.model import Scope
from parley.clock import Clock
from parley.collector import permanent

log = logging.getLogger("parley.timers")
Check = Callable[[Scope, str, datetime], Awaitable[datetime | None]]
MAX_FIRINGS = 100_000  # per clock move: a check that keeps answering "due now" cannot spin forever


Key = tuple[str, Scope, str]  # (channel, scope, contact id): the virtual clock's record of what is armed
CONTACT = "contact"  # the contact's own deadlines (end, connect windows)
FLOW = "flow"  # a flow run's wait (flows.md §4 Wait, GetParticipantInput)

# What the wall clock's heap keeps, all plain values (so the garbage collector stops tracking them): the loop
# time it is due, the arming's number, then the key: channel, account, region, contact id.
Armed = tuple[str, str, str, str]
Entry = tuple[float, int, str, str, str, str]
EARLY = 0.001  # seconds: a loop timer may wake up to this much before its time (uvloop counts milliseconds)
COMPACT_AT = 4096  # entries superseded by a later arming before the heap is rebuilt without them


class Deadlines:
    """One deadline per contact and channel; each channel has its own check.

    Under the wall clock every deadline waits in one heap behind one loop timer, set for the earliest. A
    handle per contact (`call_later`) kept five objects a chat the garbage collector walks at every full
    collection (handle, context, bound method, key, scope): at 30,000 chats those collections held the loop
    for half a second. Arming again or cancelling only changes which arming of the key is current
    (`_armed`); a superseded heap entry is skipped when it comes up, and dropped at the next compaction."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._checks: dict[str, Check] = {}
        self._armed: dict[Armed, int] = permanent({})  # key -> the number of its current arming
        self._heap: list[Entry] = []
        self._armings = 0
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = math.inf
        self._running: set[asyncio.Task[None]] = set()
        self._due: dict[Key, datetime] = {}  # virtual clock: what is armed, and when
        self._firing = asyncio.Lock()

    def bind(self, check: Check, channel: str = CONTACT) -> None:
        self._checks[channel] = check

    def channel(self, channel: str) -> Channel:
        return Channel(self, channel)

    def arm(self, scope: Scope, contact_id: str, when: datetime | None, channel: str = CONTACT) -> None:
        if self._clock.virtual:
            self._arm_virtual((channel, scope, contact_id), when)
            return
        key = (channel, scope.account, scope.region, contact_id)
        if when is None:
            self._armed.pop(key, None)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + max((when - self._clock.now()).total_seconds(), 0.0)
        self._armings += 1
        self._armed[key] = self._armings
        heapq.heappush(self._heap, (due, self._armings, *key))
        if len(self._heap) > 2 * len(self._armed) + COMPACT_AT:
            self._compact()
        if due < self._wake_at:
            self._wake_up_at(loop, due)

    def _arm_virtual(self, key: Key, when: datetime | None) -> None:
        if when is None:
            self._due.pop(key, None)
        else:
            self._due[key] = when

    def _current(self, entry: Entry) -> bool:
        return self._armed.get((entry[2], entry[3], entry[4], entry[5])) == entry[1]

    def _compact(self) -> None:
        self._heap[:] = [entry for entry in self._heap if self._current(entry)]  # the same list: it stays frozen
        heapq.heapify(self._heap)

    def _wake_up_at(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if self._wake is not None:
            self._wake.cancel()
        self._wake = loop.call_at(due, self._fire)
        self._wake_at = due

    def _fire(self) -> None:
        """The loop timer: every current arming now due has its check run, each in a task of its own."""
        self._wake, self._wake_at = None, math.inf
        loop = asyncio.get_running_loop()
        heap, late = self._heap, loop.time() + EARLY
        while heap and (heap[0][0] <= late or not self._current(heap[0])):
            entry = heapq.heappop(heap)
            if self._current(entry):
                _, _, channel, account, region, contact_id = entry
                del self._armed[(channel, account, region, contact_id)]
                check = loop.create_task(self._run(channel, Scope(account, region), contact_id))
                self._running.add(check)  # referenced until it is done: the loop keeps tasks only weakly
                check.add_done_callback(self._running.discard)
        if heap:
            self._wake_up_at(loop, heap[0][0])

    async def _run(self, channel: str, scope: Scope, contact_id: str) -> None:
        check = self._checks.get(channel)
        if check is None:
            return
        try:
            following = await check(scope, contact_id, self._clock.now())
        except Exception:
            log.exception("%s deadline check for contact %s failed", channel, contact_id)
            return
        self.arm(scope, contact_id, following, channel)

    async def fire_due(self) -> int:
        """Virtual clock: runs every check due by now, and those they make due, in deadline order. One call at a
        time: a call made while another runs (a clock move announced by another node) answers after the checks
        that one took, so a move is answered only once every check that came due has run."""
        async with self._firing:
            return await self._fire_due()

    async def _fire_due(self) -> int:
        fired = 0
        while fired < MAX_FIRINGS:
            now = self._clock.now()
            due = sorted((when, key[2], key) for key, when in self._due.items() if when <= now)
            if not due:
                return fired
            for _, _, key in due:
                if self._due.get(key) is None:
                    continue
                del self._due[key]
                await self._run(*key)
                fired += 1
        log.error("stopped after %d deadline checks for one clock move", fired)
        return fired

    def cancel(self, scope: Scope, contact_id: str) -> None:
        for channel in (CONTACT, *self._checks):
            self.arm(scope, contact_id, None, channel)

    def cancel_all(self) -> None:
        if self._wake is not None:
            self._wake.cancel()
        self._wake, self._wake_at = None, math.inf
        self._armed.clear()
        self._heap.clear()
        self._due.clear()


class Channel:
    """One channel of the deadlines, as the `Timers` the code arming it expects."""

    def __init__(self, deadlines: Deadlines, name: str) -> None:
        self._deadlines = deadlines
        self._name = name

    def arm(self, scope: Scope, contact_id: str, when: datetime | None) -> None:
        self._deadlines.arm(scope, contact_id, when, self._name)
