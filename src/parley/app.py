"""The ONLY place that wires concrete adapters together: `build_app(settings)` -> a running Parley."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from parley.chat.tokens import TokenSigner
from parley.clock import SystemClock
from parley.ids import IdGenerator
from parley.protocol.pagination import PageTokens
from parley.protocol.routing import Router
from parley.protocol.spec import error_shape, load_operations
from parley.services.connect import PARTICIPANT_SITUATIONS, ConnectService
from parley.settings import Settings, SettingsError
from parley.store.sqlite import SqliteStore
from parley.transport.access_log import AccessLog
from parley.transport.admin import Admin
from parley.transport.http import AwsHttp, Receive, Send

log = logging.getLogger("parley")


def _secret(settings: Settings, store: SqliteStore) -> bytes:
    if settings.secret:
        try:
            return bytes.fromhex(settings.secret)
        except ValueError:
            raise SettingsError("--secret / PARLEY_SECRET must be hexadecimal") from None
    if settings.seed is not None and not store.durable:
        return hashlib.sha256(f"parley-seed:{settings.seed}".encode()).digest()
    return store.secret()


def _check(settings: Settings) -> None:
    for situation, code in settings.create_participant_errors.items():
        if situation not in PARTICIPANT_SITUATIONS:
            raise SettingsError(f"PARLEY_CREATE_PARTICIPANT_ERRORS: unknown situation {situation!r}")
        if error_shape("connect", code) is None:
            raise SettingsError(f"PARLEY_CREATE_PARTICIPANT_ERRORS: {code!r} is not a Connect error")
    if settings.validation_error != "auto" and error_shape("connect", settings.validation_error) is None:
        raise SettingsError(f"PARLEY_VALIDATION_ERROR: {settings.validation_error!r} is not a Connect error")


@dataclass
class Parley:
    """The ASGI application plus what must be closed when it stops."""

    settings: Settings
    store: SqliteStore
    aws: AwsHttp
    admin: Admin

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith("/_parley/"):
                await self.admin(scope, receive, send)
            else:
                await self.aws(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.admin.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.admin.ready = False
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        self.store.close()


def build_app(settings: Settings, access_log: AccessLog | None = None) -> Parley:
    _check(settings)
    store = SqliteStore(settings.data_dir, settings.sqlite_synchronous)
    secret = _secret(settings, store)
    ids = IdGenerator(settings.seed)
    connect = ConnectService(store, settings, ids, TokenSigner(secret), PageTokens(secret))
    router = Router([*load_operations("connect").values(), *load_operations("connectparticipant").values()])
    handlers = {"connect": connect.handlers, "connectparticipant": {}}
    log_lines = access_log or AccessLog(enabled=settings.log_level in ("debug", "info"))
    aws = AwsHttp(router, handlers, settings, SystemClock(), log_lines)
    return Parley(settings, store, aws, Admin())
