"""Admin actions: the parts Parley has no desktop for (an agent joining or leaving a chat), and the
state itself (a dump of a selection, or its reset with the sockets and timers of its chats)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from parley.chat.errors import NotFound
from parley.chat.model import Item, Participant, Removed, Scope, Selection, View
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import UnitOfWork
from parley.chat.tokens import TokenSigner
from parley.clock import Clock
from parley.lazy import LazyModule
from parley.services import state
from parley.services.base import Store
from parley.services.effects import Timers
from parley.services.push import Pusher

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import authentication, conversation, injected, queues
else:
    authentication = LazyModule("parley.chat.authentication", globals())
    conversation = LazyModule("parley.chat.conversation", globals())
    injected = LazyModule("parley.chat.injected", globals())
    queues = LazyModule("parley.chat.queues", globals())

log = logging.getLogger("parley.admin")
ROLES = {"agent": "AGENT", "supervisor": "SUPERVISOR"}
RESET_CLOSE = 1000  # a removed chat's sockets close normally: there is nothing left to reconnect to
Accepted = Callable[[Scope, str], Awaitable[None]]  # after an agent accepted a queued contact (scope, contact id)


class Sockets(Protocol):
    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int: ...
    def subscribers(self, contact_id: str) -> int: ...


class AdminService:
    def __init__(
        self,
        store: Store,
        ids: IdSource,
        signer: TokenSigner,
        pusher: Pusher,
        clock: Clock,
        timers: Timers,
        sockets: Sockets,
        reseed: Callable[[int], None] | None = None,
        seed: int | None = None,
        on_accepted: Accepted | None = None,
    ) -> None:
        """`on_accepted` is awaited once an accept has committed and its items are pushed (the flow
        runner stops the queue flow and runs the whisper flows there)."""
        self.on_accepted = on_accepted
        self.on_reset: Callable[[Selection, list[tuple[Scope, str]]], None] | None = None  # tells other nodes
        self._reseed = reseed
        self._seed = seed  # --seed: a reset of everything restarts its sequence
        self._store = store
        self._ids = ids
        self._signer = signer
        self._pusher = pusher
        self._clock = clock
        self._timers = timers
        self._sockets = sockets

    async def reset(self, selection: Selection, seed: int | None = None) -> dict[str, Any]:
        """Removes the selection in one unit of work; then its chats' timers stop and sockets close.
        The secret stays, so the tokens of removed participants simply stop resolving. Ids restart from
        `seed`, or from `--seed` when everything is reset."""

        def unit(repo: UnitOfWork) -> Removed:
            return repo.remove(selection)

        removed = await self._store.run(unit)
        self.forget(removed.contacts)
        if self.on_reset is not None:
            self.on_reset(selection, removed.contacts)
        restart = seed if seed is not None else (self._seed if selection == Selection() else None)
        if restart is not None and self._reseed is not None:
            self._reseed(restart)
        return {"removed": removed.counts, **({"seed": restart} if restart is not None else {})}

    def forget(self, contacts: list[tuple[Scope, str]], close_sockets: bool = True) -> None:
        """Removed chats: their timers on this node stop and their sockets close (on every node: the bus carries
        a drop, so a node told of another's reset leaves the sockets alone)."""
        for scope, contact_id in contacts:
            self._timers.arm(scope, contact_id, None)
            if close_sockets:
                self._sockets.drop(contact_id, RESET_CLOSE)

    async def state(self, selection: Selection) -> dict[str, Any]:
        snap = await self._store.read(lambda repo: state.snapshot(repo, selection))
        return state.present(snap, self._sockets.subscribers)

    async def participant_ids(self, contact_id: str) -> frozenset[str]:
        """Every participant the contact ever had (the request log names Participant Service callers by id)."""
        found = await self._store.read(lambda repo: repo.select_participants(Selection(contact_id=contact_id)))
        return frozenset(participant.id for _, participant in found)

    async def join(self, contact_id: str, kind: str, display_name: str) -> dict[str, Any]:
        """An agent or supervisor joins the contact; a custom bot present is disconnected. An agent joining
        a contact that waits in a queue accepts it (flows.md §7.4)."""
        now = self._clock.now()
        pending: list[Item] = []
        accepted: list[Scope] = []

        def unit(repo: Any) -> Participant:
            pending.clear()  # a store may run a unit again after it lost a race
            accepted.clear()  # a store may run a unit again after it lost a race
            scope, contact = self._find(repo, contact_id)
            if kind == "agent" and contact.waiting_in_queue(now):
                taken = queues.accept(repo, scope, contact.id, display_name, None, now, self._ids)
                accepted.append(scope)
                pending.extend(taken.items)
                return taken.agent
            agent, items = conversation.join_agent(repo, scope, contact, display_name, ROLES[kind], now, self._ids)
            pending.extend(items)
            return agent

        agent = await self._store.run(unit)
        await self._after_accept(pending, accepted, contact_id)
        return {"ParticipantId": agent.id, "ParticipantToken": self._signer.participant_token(agent.id)}

    async def accept(self, contact_id: str, display_name: str, agent_id: str | None) -> dict[str, Any]:
        """An agent accepts a contact waiting in a queue; anything else is NotQueued (409)."""
        now = self._clock.now()
        pending: list[Item] = []
        accepted: list[Scope] = []

        def unit(repo: Any) -> Participant:
            pending.clear()  # a store may run a unit again after it lost a race
            accepted.clear()  # a store may run a unit again after it lost a race
            scope, contact = self._find(repo, contact_id)
            taken = queues.accept(repo, scope, contact.id, display_name, agent_id, now, self._ids)
            accepted.append(scope)
            pending.extend(taken.items)
            return taken.agent

        agent = await self._store.run(unit)
        await self._after_accept(pending, accepted, contact_id)
        return {"ParticipantId": agent.id, "ParticipantToken": self._signer.participant_token(agent.id)}

    async def _after_accept(self, pending: list[Item], accepted: list[Scope], contact_id: str) -> None:
        """Pushes the accept's items, then tells the runner. The accept has committed whatever the runner
        does, so a failure there is logged, not answered."""
        self._pusher.push(pending)
        if accepted and self.on_accepted is not None:
            try:
                await self.on_accepted(accepted[0], contact_id)
            except Exception:
                log.exception("on_accepted failed for contact %s", contact_id)

    async def list_queues(self, selection: Selection) -> dict[str, Any]:
        """Every selected queue with its waiting contacts, the longest-waiting first."""
        now = self._clock.now()
        snap = await self._store.read(lambda repo: state.queue_snapshot(repo, selection))
        return state.present_queues(snap, now)

    async def leave(self, contact_id: str, participant_id: str) -> dict[str, Any]:
        now = self._clock.now()
        pending: list[Item] = []

        def unit(repo: Any) -> None:
            pending.clear()  # a store may run a unit again after it lost a race
            scope, contact = self._find(repo, contact_id)
            found = repo.find_participant(participant_id)
            if found is None or found[1].contact_id != contact.id or not found[1].present:
                raise NotFound(f"No participant {participant_id} is present on contact {contact_id}")
            pending.extend(conversation.leave(repo, scope, contact, found[1], now, self._ids))

        await self._store.run(unit)
        self._pusher.push(pending)
        return {}

    async def inject_event(
        self, contact_id: str, suffix: str, participant_id: str | None, content: str | None, policy: Policy
    ) -> dict[str, Any]:
        """An event Connect's timers or flows would emit (idle, transfer, ...), pushed to the chat's sockets."""
        now = self._clock.now()
        pending: list[Item] = []

        def unit(repo: Any) -> None:
            pending.clear()  # a store may run a unit again after it lost a race
            scope, contact = self._find(repo, contact_id)
            pending.extend(
                injected.inject(repo, scope, contact, suffix, participant_id, content, now, self._ids, policy)
            )

        await self._store.run(unit)
        self._pusher.push(pending)
        return {"Ids": [item.id for item in pending]}

    async def open_authentication(self, contact_id: str) -> dict[str, Any]:
        """Plays a flow's Authenticate Customer block: a session and its `authentication.initiated` event."""
        now = self._clock.now()
        pending: list[Item] = []

        def unit(repo: Any) -> str:
            pending.clear()  # a store may run a unit again after it lost a race
            scope, contact = self._find(repo, contact_id)
            session_id, items = authentication.open_session(repo, scope, contact, now, self._ids)
            pending.extend(items)
            return session_id

        session_id = await self._store.run(unit)
        self._pusher.push(pending)
        return {"SessionId": session_id}

    async def fail_authentication(self, contact_id: str, session_id: str) -> dict[str, Any]:
        now = self._clock.now()
        pending: list[Item] = []

        def unit(repo: Any) -> None:
            pending.clear()  # a store may run a unit again after it lost a race
            scope, contact = self._find(repo, contact_id)
            pending.extend(
                authentication.finish(repo, scope, contact, session_id, authentication.FAILED, now, self._ids)
            )

        await self._store.run(unit)
        self._pusher.push(pending)
        return {}

    async def put_view(
        self, scope: Scope, view_id: str | None, name: str, version: int, content: dict[str, Any], instance_id: str
    ) -> dict[str, Any]:
        """Registers a view for DescribeView; its ViewToken is its Id."""
        ident = view_id or self._ids()
        arn = scope.arn(f"instance/{instance_id}/view/{ident}:{version}")
        view = View(id=ident, name=name, version=version, content=content, token=ident, arn=arn)
        await self._store.run(lambda repo: repo.put_view(scope, view))
        return {"ViewToken": view.token, "View": {"Id": view.id, "Arn": view.arn, "Name": view.name}}

    @staticmethod
    def _find(repo: Any, contact_id: str) -> tuple[Scope, Any]:
        found = repo.find_contact_any(contact_id)
        if found is None:
            raise NotFound(f"No contact {contact_id}")
        return found  # type: ignore[no-any-return]
