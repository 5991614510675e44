"""Admin actions that play the parts Parley has no desktop for: an agent joining or leaving a chat."""

from __future__ import annotations

from typing import Any

from parley.chat import conversation
from parley.chat.errors import NotFound
from parley.chat.model import Item, Participant, Scope
from parley.chat.policy import IdSource
from parley.chat.tokens import TokenSigner
from parley.clock import Clock
from parley.services.base import Store
from parley.services.push import Pusher

ROLES = {"agent": "AGENT", "supervisor": "SUPERVISOR"}


class AdminService:
    def __init__(self, store: Store, ids: IdSource, signer: TokenSigner, pusher: Pusher, clock: Clock) -> None:
        self._store = store
        self._ids = ids
        self._signer = signer
        self._pusher = pusher
        self._clock = clock

    async def join(self, contact_id: str, kind: str, display_name: str) -> dict[str, Any]:
        """An agent or supervisor accepts the contact; a custom bot present is disconnected."""
        now = self._clock.now()
        pending: list[Item] = []

        def unit(repo: Any) -> Participant:
            scope, contact = self._find(repo, contact_id)
            agent, items = conversation.join_agent(repo, scope, contact, display_name, ROLES[kind], now, self._ids)
            pending.extend(items)
            return agent

        agent = await self._store.run(unit)
        self._pusher.push(pending)
        return {"ParticipantId": agent.id, "ParticipantToken": self._signer.participant_token(agent.id)}

    async def leave(self, contact_id: str, participant_id: str) -> dict[str, Any]:
        now = self._clock.now()
        pending: list[Item] = []

        def unit(repo: Any) -> None:
            scope, contact = self._find(repo, contact_id)
            found = repo.find_participant(participant_id)
            if found is None or found[1].contact_id != contact.id or not found[1].present:
                raise NotFound(f"No participant {participant_id} is present on contact {contact_id}")
            pending.extend(conversation.leave(repo, scope, contact, found[1], now, self._ids))

        await self._store.run(unit)
        self._pusher.push(pending)
        return {}

    @staticmethod
    def _find(repo: Any, contact_id: str) -> tuple[Scope, Any]:
        found = repo.find_contact_any(contact_id)
        if found is None:
            raise NotFound(f"No contact {contact_id}")
        return found  # type: ignore[no-any-return]
