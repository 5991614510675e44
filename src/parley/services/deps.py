"""What both AWS services are built from, wired once by `app.build_app`."""

from __future__ import annotations

from dataclasses import dataclass

from parley.chat.policy import IdSource
from parley.chat.tokens import TokenSigner
from parley.protocol.pagination import PageTokens
from parley.services.base import Store
from parley.services.connections import ConnectionIssuer
from parley.services.effects import Aftermath
from parley.services.push import Pusher
from parley.settings import Settings
from parley.timers import Deadlines


@dataclass(frozen=True, slots=True)
class ServiceDeps:
    store: Store
    settings: Settings
    ids: IdSource
    signer: TokenSigner
    pages: PageTokens
    pusher: Pusher
    deadlines: Deadlines
    issuer: ConnectionIssuer
    after: Aftermath


class AwsService:
    """The collaborators every service handler uses, unpacked once."""

    def __init__(self, deps: ServiceDeps) -> None:
        self._settings = deps.settings
        self._policy = deps.settings.policy
        self._ids = deps.ids
        self._signer = deps.signer
        self._pages = deps.pages
        self._pusher = deps.pusher
        self._deadlines = deps.deadlines
        self._issuer = deps.issuer
        self._aftermath = deps.after
