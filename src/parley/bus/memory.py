"""One node's bus: fan-out within this process, for a Parley that runs alone (no --redis-url).

Everything is applied at once to this node's sockets (`LocalSockets`); an announcement goes to this
process's listeners only, since there is no other node to tell.
"""

from __future__ import annotations

import logging
from typing import Any

from parley.bus.local import LocalSockets
from parley.bus.port import Listener, Subscriber

log = logging.getLogger("parley.bus")


class MemoryBus:
    def __init__(self) -> None:
        self._local = LocalSockets()
        self._listeners: list[Listener] = []

    @property
    def connected(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def subscribe(self, contact_id: str, subscriber: Subscriber, greeting: str | None = None) -> None:
        self._local.subscribe(contact_id, subscriber)
        if greeting is not None:
            subscriber.offer(greeting)

    def unsubscribe(self, contact_id: str, subscriber: Subscriber) -> None:
        self._local.unsubscribe(contact_id, subscriber)

    def publish(self, contact_id: str, frame: str) -> None:
        self._local.publish(contact_id, frame)

    def end(self, contact_id: str, grace: float) -> None:
        self._local.end(contact_id, grace)

    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int:
        return self._local.drop(contact_id, code, participant_id)

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        self._local.leave(contact_id, participant_id, grace)

    def subscribers(self, contact_id: str) -> int:
        return self._local.subscribers(contact_id)

    async def announce(self, message: dict[str, Any]) -> None:
        for listener in tuple(self._listeners):
            try:
                await listener(message)
            except Exception:  # one listener's failure must not keep the message from the others
                log.exception("a bus listener failed on %r", message)

    def listen(self, callback: Listener) -> None:
        self._listeners.append(callback)
