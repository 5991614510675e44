"""The two waiting primitives of one server WebSocket, sized for tens of thousands of idle sockets.

asyncio.Queue makes four deques at birth (~3 KiB) and asyncio.Event one (~0.8 KiB); uvicorn gives every
socket a Queue (the messages the app receives) and an Event (the transport accepts writes). These hold
nothing while nobody waits: a deque only while messages are pending, a future only while a task waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class Inbox:
    """A FIFO with one consumer at a time (an ASGI app awaits `receive()` from one task); what uvicorn uses
    of asyncio.Queue: put_nowait(), get(), empty()."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class Gate:
    """An open/closed flag tasks can wait on; what uvicorn uses of asyncio.Event: set(), clear(), wait()."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        while not self._open:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True
