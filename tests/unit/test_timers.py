"""The wall clock's deadlines: one heap behind one loop timer, each key's latest arming the only one that fires."""

from __future__ import annotations

import asyncio
import gc
from datetime import datetime, timedelta

from parley.chat.model import Scope
from parley.clock import SystemClock
from parley.timers import CONTACT, FLOW, Deadlines

SCOPE = Scope("111122223333", "us-west-2")


def recording(deadlines: Deadlines, channel: str = CONTACT) -> list[tuple[str, str]]:
    fired: list[tuple[str, str]] = []

    async def check(scope: Scope, contact_id: str, now: datetime) -> datetime | None:
        fired.append((channel, contact_id))
        return None

    deadlines.bind(check, channel)
    return fired


def soon(clock: SystemClock, ms: int) -> datetime:
    return clock.now() + timedelta(milliseconds=ms)


def test_deadlines_fire_in_order_and_only_the_latest_arming_of_a_key() -> None:
    async def scenario() -> list[tuple[str, str]]:
        clock = SystemClock()
        deadlines = Deadlines(clock)
        fired = recording(deadlines)
        deadlines.arm(SCOPE, "late", soon(clock, 60))
        deadlines.arm(SCOPE, "early", soon(clock, 10))
        deadlines.arm(SCOPE, "moved", soon(clock, 5))
        deadlines.arm(SCOPE, "moved", soon(clock, 40))  # re-armed later: fires once, at 40 ms
        deadlines.arm(SCOPE, "cancelled", soon(clock, 20))
        deadlines.arm(SCOPE, "cancelled", None)
        await asyncio.sleep(0.15)
        return fired

    assert asyncio.run(scenario()) == [(CONTACT, "early"), (CONTACT, "moved"), (CONTACT, "late")]


def test_channels_of_one_contact_are_armed_apart() -> None:
    async def scenario() -> list[tuple[str, str]]:
        clock = SystemClock()
        deadlines = Deadlines(clock)
        fired = recording(deadlines)
        flow_fired = recording(deadlines, FLOW)
        deadlines.arm(SCOPE, "c", soon(clock, 10))
        deadlines.channel(FLOW).arm(SCOPE, "c", soon(clock, 20))
        deadlines.arm(SCOPE, "c", None)
        await asyncio.sleep(0.08)
        return fired + flow_fired

    assert asyncio.run(scenario()) == [(FLOW, "c")]


def test_a_check_answering_a_following_deadline_is_armed_again() -> None:
    async def scenario() -> int:
        clock = SystemClock()
        deadlines = Deadlines(clock)
        calls = 0

        async def check(scope: Scope, contact_id: str, now: datetime) -> datetime | None:
            nonlocal calls
            calls += 1
            return soon(clock, 10) if calls < 3 else None

        deadlines.bind(check)
        deadlines.arm(SCOPE, "again", soon(clock, 5))
        await asyncio.sleep(0.15)
        return calls

    assert asyncio.run(scenario()) == 3


def test_superseded_armings_are_compacted_and_the_heap_holds_nothing_the_collector_walks() -> None:
    async def scenario() -> tuple[int, bool, list[tuple[str, str]]]:
        clock = SystemClock()
        deadlines = Deadlines(clock)
        fired = recording(deadlines)
        far = clock.now() + timedelta(hours=1)
        for n in range(20_000):
            deadlines.arm(SCOPE, "busy", far + timedelta(seconds=n))
        deadlines.arm(SCOPE, "last", soon(clock, 10))
        gc.collect()
        heap = deadlines._heap  # what the collector would walk
        tracked = any(gc.is_tracked(entry) for entry in heap)
        await asyncio.sleep(0.08)
        deadlines.cancel_all()
        return len(heap), tracked, fired

    size, tracked, fired = asyncio.run(scenario())
    assert size < 5_000
    assert not tracked
    assert fired == [(CONTACT, "last")]
