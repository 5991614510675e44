"""Deadlines on the event loop: a contact's end, a bot's and a customer's connect windows.

One timer per contact, at its next deadline; firing runs the service's check, which answers with
the contact's following deadline (or None). Deadlines are stored with the contacts, so a restarted
durable server re-arms them from the store. Under a virtual clock nothing fires by itself: moving
the clock runs every check that has come due (`fire_due`) before the move is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from parley.chat.model import Scope
from parley.clock import Clock

log = logging.getLogger("parley.timers")
Check = Callable[[Scope, str, datetime], Awaitable[datetime | None]]
MAX_FIRINGS = 100_000  # per clock move: a check that keeps answering "due now" cannot spin forever


Key = tuple[str, Scope, str]  # (channel, scope, contact id)
CONTACT = "contact"  # the contact's own deadlines (end, connect windows)
FLOW = "flow"  # a flow run's wait (flows.md §4 Wait, GetParticipantInput)


class Deadlines:
    """One timer per contact and channel; each channel has its own check."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._checks: dict[str, Check] = {}
        self._handles: dict[Key, asyncio.TimerHandle] = {}
        self._due: dict[Key, datetime] = {}  # virtual clock: what is armed, and when
        self._firing = asyncio.Lock()

    def bind(self, check: Check, channel: str = CONTACT) -> None:
        self._checks[channel] = check

    def channel(self, channel: str) -> Channel:
        return Channel(self, channel)

    def arm(self, scope: Scope, contact_id: str, when: datetime | None, channel: str = CONTACT) -> None:
        key = (channel, scope, contact_id)
        old = self._handles.pop(key, None)
        if old is not None:
            old.cancel()
        self._due.pop(key, None)
        if when is None:
            return
        if self._clock.virtual:
            self._due[key] = when
            return
        delay = max((when - self._clock.now()).total_seconds(), 0.0)
        loop = asyncio.get_running_loop()
        self._handles[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: Key) -> None:
        self._handles.pop(key, None)
        asyncio.get_running_loop().create_task(self._run(*key))

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
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        self._due.clear()


class Channel:
    """One channel of the deadlines, as the `Timers` the code arming it expects."""

    def __init__(self, deadlines: Deadlines, name: str) -> None:
        self._deadlines = deadlines
        self._name = name

    def arm(self, scope: Scope, contact_id: str, when: datetime | None) -> None:
        self._deadlines.arm(scope, contact_id, when, self._name)
