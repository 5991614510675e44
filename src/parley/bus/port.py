"""The bus port: what the rest of Parley needs from live fan-out, whatever carries it (one process's
memory, or Redis between nodes). app.py alone picks the adapter; everything else names this Protocol.

A bus owns no state that matters after a restart: a socket that may have missed a frame is closed with
`DROP_CODE`, as a network drop would, and its client reconnects and refetches the transcript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

DROP_CODE = 4000  # application-defined close code: the socket was dropped (admin API, fault rule, lost bus)
SLOW_CODE = 1008  # the subscriber did not keep up
ENDED_CODE = 1000  # the chat ended or the participant left

Listener = Callable[[dict[str, Any]], Awaitable[None]]


class BusUnavailable(Exception):
    """The bus cannot carry a cluster-wide message now (Redis unreachable)."""


class Subscriber(Protocol):
    participant_id: str

    def offer(self, frame: str) -> bool:
        """Queue a frame; False when the subscriber cannot keep up."""
        ...

    def close_soon(self, grace: float, code: int) -> None: ...


class Bus(Protocol):
    """Contact id -> subscribed sockets, on every node. Every method but `subscribe`, `announce`, `start`
    and `aclose` is synchronous: the request that committed an item never waits for its fan-out.

    Frames, ends, leaves and drops of one contact are applied in one order on every node (a drop or an
    end never overtakes the frames published before it)."""

    @property
    def connected(self) -> bool:
        """Whether fan-out works now (part of `/_parley/ready`)."""
        ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    async def subscribe(self, contact_id: str, subscriber: Subscriber, greeting: str | None = None) -> None:
        """The subscriber receives `greeting` (if any), then every frame published from then on; this returns
        once that holds. A bus that cannot deliver closes the subscriber with DROP_CODE instead."""
        ...

    def unsubscribe(self, contact_id: str, subscriber: Subscriber) -> None: ...

    def publish(self, contact_id: str, frame: str) -> None: ...

    def end(self, contact_id: str, grace: float) -> None:
        """The chat ended: every socket of the contact closes (1000) after `grace` seconds."""
        ...

    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int:
        """Every subscribed socket of the contact (or of one participant) closes with `code` after the
        frames already published to it. Returns how many of this node's sockets that closes."""
        ...

    def leave(self, contact_id: str, participant_id: str, grace: float) -> None:
        """A participant left: its sockets stop receiving now and close (1000) after `grace` seconds."""
        ...

    def subscribers(self, contact_id: str) -> int:
        """This node's subscribed sockets of the contact."""
        ...

    async def announce(self, message: dict[str, Any]) -> None:
        """A cluster-wide control message: every node's listeners (this one's included) get it once, in the
        order announced. Returns after this node's listeners have run; BusUnavailable when it cannot be sent."""
        ...

    def listen(self, callback: Listener) -> None:
        """`callback` is awaited with every announced message, one at a time (so it must not await
        `announce` itself: that waits for the callbacks)."""
        ...
