"""One node's fan-out: contact id -> the subscribed sockets, each with its own bounded queue.

A frame is serialized once and handed to every subscriber; a subscriber whose queue is full is
dropped (and its socket closed) rather than slowing the others.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("parley.bus")


class Subscriber(Protocol):
    participant_id: str

    def offer(self, frame: str) -> bool:
        """Queue a frame; False when the subscriber cannot keep up."""
        ...

    def close_soon(self, grace: float, code: int) -> None: ...


class MemoryBus:
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
                subscriber.close_soon(0, 1008)

    def end(self, contact_id: str, grace: float) -> None:
        """The chat ended: every socket of the contact closes (1000) after `grace` seconds."""
        for subscriber in self._topics.pop(contact_id, ()):
            subscriber.close_soon(grace, 1000)

    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int:
        """Fault injection: every subscribed socket of the contact (or of one participant in it) closes
        now with `code`, after the frames already queued for it, as if the network had dropped.
        Returns how many were closed."""
        dropped = [s for s in tuple(self._topics.get(contact_id, ())) if participant_id in (None, s.participant_id)]
        for subscriber in dropped:
            self.unsubscribe(contact_id, subscriber)
            subscriber.close_soon(0, code)
        return len(dropped)

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        """A participant left: its sockets stop receiving now and close (1000) after `grace` seconds."""
        for subscriber in tuple(self._topics.get(contact_id, ())):
            if subscriber.participant_id == participant_id:
                self.unsubscribe(contact_id, subscriber)
                subscriber.close_soon(grace, 1000)

    def subscribers(self, contact_id: str) -> int:
        return len(self._topics.get(contact_id, ()))
