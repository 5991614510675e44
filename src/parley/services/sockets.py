"""Who may open a participant WebSocket (stream.md §1): the URL's credential, fresh, naming a participant
still in a live chat. The transport asks here; it never reads the store itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parley.chat.errors import AccessDenied
from parley.chat.tokens import WEBSOCKET, TokenSigner
from parley.clock import Clock
from parley.lazy import LazyModule
from parley.services.base import Store
from parley.services.connections import WEBSOCKET_URL_SECONDS

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import conversation
    from parley.chat.conversation import Caller
else:
    conversation = LazyModule("parley.chat.conversation", globals())


class SocketAdmission:
    def __init__(self, signer: TokenSigner, store: Store, clock: Clock) -> None:
        self._signer = signer
        self._store = store
        self._clock = clock

    async def caller(self, credential: str) -> Caller | None:
        """The participant and chat a `/ws/chat?auth=` credential opens, or None when it opens nothing.
        The URL's age is real elapsed time; the chat's liveness is judged on Parley's clock."""
        stamped = self._signer.read_stamped(WEBSOCKET, credential)
        if stamped is None:
            return None
        if (datetime.now(UTC) - stamped.moment).total_seconds() > WEBSOCKET_URL_SECONDS:
            return None
        now = self._clock.now()
        try:
            return await self._store.read(lambda repo: conversation.resolve(repo, stamped.participant_id, now))
        except AccessDenied:
            return None
