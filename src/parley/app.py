"""The ONLY place that wires concrete adapters together: `build_app(settings)` -> a running Parley."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from parley.bus.memory import MemoryBus
from parley.chat.model import Scope
from parley.chat.tokens import TokenSigner
from parley.clock import Clock, SystemClock, VirtualClock
from parley.ids import IdGenerator
from parley.protocol.pagination import PageTokens
from parley.protocol.routing import Router
from parley.protocol.sigv4 import SigV4Verifier
from parley.protocol.spec import error_shape, load_operations
from parley.services.admin import AdminService
from parley.services.connect import PARTICIPANT_SITUATIONS, ConnectService
from parley.services.connections import ConnectionIssuer
from parley.services.deps import ServiceDeps
from parley.services.participant import ParticipantService
from parley.services.push import Pusher
from parley.services.signed_urls import SignedUrls
from parley.settings import Settings, SettingsError
from parley.store.sqlite import SqliteStore
from parley.timers import Deadlines
from parley.transport.access_log import AccessLog
from parley.transport.admin import Admin
from parley.transport.cors import Cors, OriginPolicy
from parley.transport.faults import Faults, FaultyBus
from parley.transport.hosted import Hosted
from parley.transport.http import ASGIApp, AwsHttp, Receive, Send
from parley.transport.request_log import RequestLog
from parley.transport.websocket import ChatSockets

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


def _clock(settings: Settings) -> Clock:
    if settings.clock == "virtual":
        return VirtualClock(settings.clock_start)
    if settings.clock_start:
        raise SettingsError("--clock-start / PARLEY_CLOCK_START needs --clock virtual")
    return SystemClock()


@dataclass
class Parley:
    """The ASGI application plus what must be closed when it stops."""

    settings: Settings
    store: SqliteStore
    aws: AwsHttp
    admin: Admin
    hosted: Hosted
    sockets: ChatSockets
    deadlines: Deadlines
    clock: Clock
    http: ASGIApp  # every HTTP path, behind CORS: the admin namespace or the AWS services

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "websocket":
            await self.sockets(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._rearm()
                if self.clock.virtual:
                    await self.deadlines.fire_due()
                self.admin.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.admin.ready = False
                self.deadlines.cancel_all()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _rearm(self) -> None:
        """A durable store's live contacts get their timers back (chat end, connect windows)."""
        for scope, contact in await self.store.read(lambda repo: repo.live_contacts()):
            self.deadlines.arm(scope, contact.id, contact.initiated_at)  # due at once: the check re-arms it

    def close(self) -> None:
        self.store.close()


def _by_path(admin: Admin, hosted: Hosted, aws: AwsHttp) -> ASGIApp:
    async def http(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path = scope["path"]
        if hosted.handles(path):
            await hosted(scope, receive, send)
        elif path.startswith("/_parley/"):
            await admin(scope, receive, send)
        else:
            await aws(scope, receive, send)

    return http


def build_app(settings: Settings, access_log: AccessLog | None = None) -> Parley:
    _check(settings)
    store = SqliteStore(settings.data_dir, settings.sqlite_synchronous)
    secret = _secret(settings, store)
    ids = IdGenerator(settings.seed)
    clock = _clock(settings)
    signer, pages = TokenSigner(secret), PageTokens(secret)
    bus = MemoryBus()
    operations = {service: load_operations(service) for service in ("connect", "connectparticipant")}
    faults = Faults(operations, bus)
    pusher = Pusher(FaultyBus(bus, faults))
    deadlines = Deadlines(clock)
    issuer = ConnectionIssuer(signer, settings.policy)
    deps = ServiceDeps(store, settings, ids, signer, pages, pusher, deadlines, issuer)
    connect = ConnectService(deps)
    urls = SignedUrls(signer)
    participant = ParticipantService(deps, urls)
    deadlines.bind(participant.check_deadlines)
    router = Router([op for ops in operations.values() for op in ops.values()])
    handlers = {"connect": connect.handlers, "connectparticipant": participant.handlers}
    log_lines = access_log or AccessLog(
        enabled=settings.log_level in ("debug", "info"), debug=settings.log_level == "debug"
    )
    request_ids = IdGenerator(None if settings.seed is None else settings.seed + 1)
    requests = RequestLog(settings.request_log_size)
    verifier = SigV4Verifier(settings.credentials) if settings.strict_auth else None
    aws = AwsHttp(router, handlers, settings, clock, log_lines, faults, requests, request_ids, verifier)
    sockets = ChatSockets(signer, store, bus, clock, log_lines, settings.ws_outbox)

    def reseed(seed: int) -> None:
        ids.reseed(seed)
        request_ids.reseed(seed + 1)

    actions = AdminService(store, ids, signer, pusher, clock, deadlines, bus, reseed, settings.seed)
    default_scope = Scope(settings.account_id, settings.region)
    admin = Admin(actions, bus, faults, requests, default_scope, clock, deadlines, settings.policy)
    hosted = Hosted(store, urls, clock, ids, pusher, settings.policy.attachment_max_bytes)
    http = Cors(_by_path(admin, hosted, aws), OriginPolicy(settings.cors_origins), log_lines)
    return Parley(settings, store, aws, admin, hosted, sockets, deadlines, clock, http)
