"""One node's sockets by contact: contact id -> the subscribed sockets, each with its own bounded queue.

A frame is serialized once and handed to every subscriber; a subscriber whose queue is full is
dropped (and its socket closed) rather than slowing the others. Both bus adapters deliver through this;
it knows nothing of other nodes.
"""

from __future__ import annotations

import logging

from parley.bus.port import ENDED_CODE, SLOW_CODE, Subscriber

log = logging.getLogger("parley.bus")


class LocalSockets:
    def __init__(self) -> None:
        self._topics: dict[str, set[Subscriber]] = {}

    def subscribe(self, contact_id: str, subscriber: Subscriber) -> None:
        self._topics.setdefault(contact_id, set()).add(subscriber)

    def unsubscribe(self, contact_id: str, subscriber: Subscriber) -> None:
        subscribers = self._topics.get(contact_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._topics[contact_id]

    def publish(self, contact_id: str, frame: str) -> None:
        for subscriber in tuple(self._topics.get(contact_id, ())):
            if not subscriber.offer(frame):
                log.warning("dropping a socket of contact %s: it does not keep up", contact_id)
                self.unsubscribe(contact_id, subscriber)
                subscriber.close_soon(0, SLOW_CODE)

    def end(self, contact_id: str, grace: float) -> None:
        for subscriber in self._topics.pop(contact_id, ()):
            subscriber.close_soon(grace, ENDED_CODE)

    def matching(self, contact_id: str, participant_id: str | None) -> list[Subscriber]:
        return [s for s in self._topics.get(contact_id, ()) if participant_id in (None, s.participant_id)]

    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int:
        dropped = self.matching(contact_id, participant_id)
        for subscriber in dropped:
            self.unsubscribe(contact_id, subscriber)
            subscriber.close_soon(0, code)
        return len(dropped)

    def drop_all(self, code: int) -> int:
        """Every socket of every contact closes with `code` (the bus lost frames it may have missed)."""
        return sum(self.drop(contact_id, code) for contact_id in tuple(self._topics))

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        for subscriber in self.matching(contact_id, participant_id):
            self.unsubscribe(contact_id, subscriber)
            subscriber.close_soon(grace, ENDED_CODE)

    def subscribers(self, contact_id: str) -> int:
        return len(self._topics.get(contact_id, ()))

    def contacts(self) -> tuple[str, ...]:
        return tuple(self._topics)
