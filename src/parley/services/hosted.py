"""What the endpoints Parley hosts in place of S3 and a sign-in page ask of the domain (transport/hosted.py
serves them): an attachment's upload and download, and an authentication session finished by signing in.
Domain errors are raised to the edge, which answers them its own way (S3's XML, a plain page)."""

from __future__ import annotations

from typing import Any

from parley.chat import attachments, authentication
from parley.chat.errors import Invalid
from parley.chat.model import Attachment, Item
from parley.chat.policy import IdSource
from parley.clock import Clock
from parley.services.base import Store
from parley.services.push import Pusher


class HostedFiles:
    def __init__(self, store: Store, clock: Clock, ids: IdSource, pusher: Pusher) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._pusher = pusher

    async def upload(self, attachment_id: str, data: bytes, content_type: str | None) -> None:
        now = self._clock.now()
        await self._store.run(lambda repo: attachments.accept_upload(repo, attachment_id, data, content_type, now))

    async def download(self, attachment_id: str) -> tuple[Attachment, bytes]:
        return await self._store.read(lambda repo: attachments.download(repo, attachment_id))

    async def signed_in(self, contact_id: str, session_id: str) -> None:
        """The customer signed in: the contact's session succeeds, and its events reach the chat."""
        now, pending = self._clock.now(), list[Item]()

        def unit(repo: Any) -> None:
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
