"""What the participant WebSocket edge asks of the domain: who holds a WebSocket credential, if that
participant is still in a live chat. The edge (transport/websocket.py) never runs a unit of work itself."""

from __future__ import annotations

from parley.chat.conversation import Caller, resolve
from parley.chat.errors import AccessDenied
from parley.clock import Clock
from parley.services.base import Store


class SocketCallers:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def caller(self, participant_id: str) -> Caller | None:
        """The participant and its chat, or None when it left, the chat ended, or it never was."""
        now = self._clock.now()
        try:
            return await self._store.read(lambda repo: resolve(repo, participant_id, now))
        except AccessDenied:
            return None
