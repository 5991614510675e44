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


class Deadlines:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._check: Check | None = None
        self._handles: dict[tuple[Scope, str], asyncio.TimerHandle] = {}
        self._due: dict[tuple[Scope, str], datetime] = {}  # virtual clock: what is armed, and when

    def bind(self, check: Check) -> None:
        self._check = check

    def arm(self, scope: Scope, contact_id: str, when: datetime | None) -> None:
        key = (scope, contact_id)
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
        self._handles[key] = loop.call_later(delay, self._fire, scope, contact_id)

    def _fire(self, scope: Scope, contact_id: str) -> None:
        self._handles.pop((scope, contact_id), None)
        asyncio.get_running_loop().create_task(self._run(scope, contact_id))

    async def _run(self, scope: Scope, contact_id: str) -> None:
        if self._check is None:
            return
        try:
            following = await self._check(scope, contact_id, self._clock.now())
        except Exception:
            log.exception("deadline check for contact %s failed", contact_id)
            return
        self.arm(scope, contact_id, following)

    async def fire_due(self) -> int:
        """Virtual clock: runs every check due by now, and those they make due, in deadline order."""
        fired = 0
        while fired < MAX_FIRINGS:
            now = self._clock.now()
            due = sorted((when, key[1], key) for key, when in self._due.items() if when <= now)
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
        self.arm(scope, contact_id, None)

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        self._due.clear()
