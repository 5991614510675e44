"""The units of work behind what Parley hosts in place of AWS's own services (transport/hosted.py): an
attachment's bytes uploaded and downloaded through a signed URL, and an authentication session finished
from its sign-in page. Domain errors pass through; the transport answers them the way S3 would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.chat.errors import Invalid
from parley.chat.model import Attachment, Item
from parley.chat.policy import IdSource
from parley.chat.ports import UnitOfWork
from parley.clock import Clock
from parley.lazy import LazyModule
from parley.services.base import Store
from parley.services.push import Pusher

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import attachments, authentication
else:
    attachments = LazyModule("parley.chat.attachments", globals())
    authentication = LazyModule("parley.chat.authentication", globals())


class HostedService:
    def __init__(self, store: Store, clock: Clock, ids: IdSource, pusher: Pusher) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._pusher = pusher

    async def accept_upload(self, attachment_id: str, data: bytes, content_type: str | None) -> None:
        now = self._clock.now()
        await self._store.run(lambda repo: attachments.accept_upload(repo, attachment_id, data, content_type, now))

    async def download(self, attachment_id: str) -> tuple[Attachment, bytes]:
        return await self._store.read(lambda repo: attachments.download(repo, attachment_id))

    async def finish_sign_in(self, contact_id: str, session_id: str) -> None:
        """The customer signed in: the session succeeds, and its items reach the chat's sockets."""
        now, pending = self._clock.now(), list[Item]()

        def unit(repo: UnitOfWork) -> None:
            pending.clear()  # a store may run a unit again after it lost a race
            found = repo.find_contact_any(contact_id)
            if found is None:
                raise Invalid(f"No contact {contact_id}")
            scope, contact = found
            pending.extend(
                authentication.finish(repo, scope, contact, session_id, authentication.SUCCEEDED, now, self._ids)
            )

        await self._store.run(unit)
        self._pusher.push(pending)
