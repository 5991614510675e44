"""The ONLY place that wires concrete adapters together: `build_app(settings)` -> a running Parley."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parley.bus.memory import MemoryBus
from parley.bus.port import Bus
from parley.chat.model import Scope, Selection
from parley.chat.tokens import TokenSigner
from parley.clock import Clock, SystemClock, VirtualClock
from parley.ids import IdGenerator
from parley.outbound.lambdas import LambdaInvoker
from parley.outbound.sns import LambdaCall
from parley.protocol.pagination import PageTokens
from parley.protocol.routing import Router
from parley.protocol.spec import Operations, error_shape, load_operations
from parley.services.admin import AdminService
from parley.services.cluster import Cluster
from parley.services.connect import PARTICIPANT_SITUATIONS, ConnectService
from parley.services.connections import ConnectionIssuer
from parley.services.console import ConsoleService
from parley.services.deps import ServiceDeps
from parley.services.effects import Aftermath
from parley.services.flows import FlowRunner, InvokerFunctions
from parley.services.hosted import HostedService
from parley.services.leases import NodeLeases, node_name
from parley.services.participant import ParticipantService
from parley.services.push import Pusher
from parley.services.signed_urls import SignedUrls
from parley.services.snapshots import SnapshotService
from parley.services.sockets import SocketAdmission
from parley.services.stream_routes import Captures, InvokerLambdaCall, Routes, SnsCallable, Targets
from parley.services.stream_views import StreamViews
from parley.services.streams import Streamer
from parley.services.upgrade import upgrade_stored_instances
from parley.settings import Settings, SettingsError, effective, is_loopback_host
from parley.store.memory.store import MemoryStore
from parley.store.port import Store
from parley.timers import FLOW, Deadlines
from parley.transport.access_log import AccessLog
from parley.transport.admin import Admin
from parley.transport.admin_gate import AdminGate
from parley.transport.admin_streams import StreamAdmin
from parley.transport.console import Console, ConsoleFeed, FeedBus
from parley.transport.cors import Cors, OriginPolicy
from parley.transport.faults import Faults, FaultyBus
from parley.transport.hosted import Hosted
from parley.transport.http import ASGIApp, AwsHttp, ClientGone, Receive, Send
from parley.transport.request_log import RequestLog
from parley.transport.websocket import ChatSockets

log = logging.getLogger("parley")


def _store(settings: Settings) -> Store:
    """The store adapter the settings name: PostgreSQL (`--store`), else SQLite on disk (`--data-dir`), else
    the in-memory store."""
    if settings.store is None:
        if settings.data_dir is None:
            return MemoryStore()
        from parley.store.sqlite import SqliteStore  # sqlite3 and the SQL layer: imported only when used

        return SqliteStore(settings.data_dir, settings.sqlite_synchronous)
    if settings.data_dir is not None:
        raise SettingsError(
            f"{settings.origin('store')} and {settings.origin('data_dir')} exclude each other: the state lives"
            " either in PostgreSQL or in the data directory"
        )
    if settings.redis_url is None:
        log.warning(
            "--store is set without --redis-url: Parley assumes a single node. Several nodes on one database"
            " need --redis-url, or items written on one node never reach the sockets held by another"
        )
    from parley.store.postgres import PostgresStore, StoreUnavailable  # psycopg: imported only when used

    try:
        return PostgresStore(settings.store)
    except StoreUnavailable as error:
        raise SettingsError(f"{settings.origin('store')}: cannot open the database: {error}") from None


def _secret(settings: Settings, store: Store) -> bytes:
    if settings.secret:
        try:
            return bytes.fromhex(settings.secret)
        except ValueError:
            raise SettingsError(f"{settings.origin('secret')} must be hexadecimal") from None
    if settings.seed is not None and not store.durable:
        return hashlib.sha256(f"parley-seed:{settings.seed}".encode()).digest()
    return store.secret()


def _check(settings: Settings) -> None:
    """What settings.py cannot know: the error codes named must be Connect's (messages name the flag or
    the variable, whichever was used)."""
    for situation, code in settings.create_participant_errors.items():
        where = settings.origin("create_participant_errors")
        if situation not in PARTICIPANT_SITUATIONS:
            raise SettingsError(f"{where}: unknown situation {situation!r}")
        if error_shape("connect", code) is None:
            raise SettingsError(f"{where}: {code!r} is not a Connect error")
    if settings.validation_error != "auto" and error_shape("connect", settings.validation_error) is None:
        where = settings.origin("validation_error")
        raise SettingsError(f"{where}: {settings.validation_error!r} is not a Connect error")
    for name, code in settings.idempotency_mismatch_errors.items():
        op = load_operations("connect").get(name)
        if op is None or op.idempotency_member is None:
            where = settings.origin("idempotency_mismatch_errors")
            raise SettingsError(f"{where}: {name!r} is not a Connect operation with a ClientToken")
        if code not in op.error_codes:
            raise SettingsError(f"{settings.origin('idempotency_mismatch_errors')}: {name} does not declare {code!r}")
    _check_sns_endpoint(settings)


def _check_sns_endpoint(settings: Settings) -> None:
    """An SNS endpoint that is Parley itself would publish into a loop."""
    endpoint = settings.sns_endpoint
    if not endpoint or endpoint == "aws":
        return
    own = {settings.public_url.rstrip("/")} if settings.public_url else set()
    hosts = (
        {settings.host, "127.0.0.1", "localhost"}
        if settings.host in ("0.0.0.0", "::", "127.0.0.1")
        else {settings.host}
    )
    own |= {f"http://{host}:{settings.port}" for host in hosts}
    if settings.port and endpoint.rstrip("/") in own:
        raise SettingsError(f"--sns-endpoint {endpoint} is this Parley's own address; messages would loop")


def _bus(settings: Settings, store: Store) -> Bus:
    """Redis when --redis-url names one, else this process alone. The channels' prefix is the store's cluster
    id: the same on every node of one database, different between clusters sharing a Redis."""
    if not settings.redis_url:
        return MemoryBus()
    from parley.bus.redis import RedisBus  # redis-py: imported only when used

    return RedisBus(settings.redis_url, f"parley:{store.cluster_id()}:")


def _clock(settings: Settings) -> Clock:
    if settings.clock == "virtual":
        return VirtualClock(settings.clock_start)
    if settings.clock_start:
        raise SettingsError(f"{settings.origin('clock_start')} needs --clock virtual")
    return SystemClock()


@dataclass
class Parley:
    """The ASGI application plus what must be closed when it stops."""

    settings: Settings
    store: Store
    aws: AwsHttp
    admin: Admin
    hosted: Hosted
    sockets: ChatSockets
    deadlines: Deadlines
    clock: Clock
    http: ASGIApp  # every HTTP path, behind CORS: the admin namespace or the AWS services
    flows: FlowRunner
    lambdas: LambdaInvoker  # runs the functions flows invoke (flows.md §6); closed at shutdown
    ids: IdGenerator
    streamer: Streamer  # delivers chat message streams (streaming.md §5)
    snapshots: SnapshotService
    bus: Bus  # started before the server is ready, closed at shutdown
    cluster: Cluster  # several nodes on one store: the sweep, the shared clock, announcements

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
                if "queues" in self.store.created_tables:  # a database from before queues (or a new one)
                    await upgrade_stored_instances(self.store, self.clock.now(), self.ids)
                await self._rearm()
                await self.flows.resume_all()
                if self.clock.virtual:
                    await self.deadlines.fire_due()
                await self.streamer.start()
                await self.bus.start()
                await self.cluster.start()
                self.admin.ready = not self.preparing  # else startup.prepare says when, after --import/--init
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.admin.ready = False
                await self.cluster.stop()
                self.deadlines.cancel_all()
                await self.streamer.stop()
                await self.flows.aclose()
                await self.cluster.leave()
                await self.lambdas.aclose()
                await self.bus.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @property
    def preparing(self) -> bool:
        """--import or --init have work to do once the server listens; it is not ready before."""
        return bool(self.settings.import_file or self.settings.init_dir)

    async def _rearm(self) -> None:
        """A durable store's live contacts get their timers back (chat end, connect windows)."""
        for scope, contact in await self.store.read(lambda repo: repo.live_contacts()):
            self.deadlines.arm(scope, contact.id, contact.initiated_at)  # due at once: the check re-arms it

    def close(self) -> None:
        self.lambdas.close()
        self.store.close()


def _by_path(admin: ASGIApp, hosted: Hosted, aws: AwsHttp) -> ASGIApp:
    async def http(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path = scope["path"]
        try:
            if hosted.handles(path):
                await hosted(scope, receive, send)
            elif path.startswith("/_parley/"):
                await admin(scope, receive, send)
            else:
                await aws(scope, receive, send)
        except ClientGone:  # cut off mid-body: there is nobody to answer
            return

    return http


def _admin_and_console(settings: Settings, admin: Admin, console: Console | None) -> ASGIApp:
    """The admin API, the console beside it (unless --no-ui), both behind the admin token's gate."""

    async def namespace(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if console is not None and console.handles(scope["path"]):
            await console(scope, receive, send)
        else:
            await admin(scope, receive, send)

    return AdminGate(namespace, settings.admin_token, not is_loopback_host(settings.host))


def build_app(
    settings: Settings,
    access_log: AccessLog | None = None,
    lambdas: Mapping[str, Callable[..., Any]] | None = None,
    sns_callables: Mapping[str, SnsCallable] | None = None,
    stream_lambda: LambdaCall | None = None,
) -> Parley:
    """`lambdas`: Python callables by function name or ARN (`parley.Server(lambdas=…)`), next to the settings'.
    `sns_callables`: `parley.Server(sns={topic: fn})`; `stream_lambda` runs `lambda:NAME` stream targets
    (default: the same Lambda invoker as flows)."""
    _check(settings)
    clock = _clock(settings)
    lambda_ids = IdGenerator(None if settings.seed is None else settings.seed + 2)
    invoker = LambdaInvoker(settings, lambdas, clock=clock, ids=lambda_ids)  # before the store: imports may fail
    store = _store(settings)
    secret = _secret(settings, store)
    ids = IdGenerator(settings.seed)
    signer, pages = TokenSigner(secret), PageTokens(secret)
    bus = _bus(settings, store)
    operations = Operations()  # each service's model is read on first use (the router's first request)
    faults = Faults(operations, bus)
    feed = ConsoleFeed()
    callables = dict(sns_callables or {})
    stream_call = stream_lambda or InvokerLambdaCall(invoker)
    leases = NodeLeases(store, node_name(), settings.lease_ttl)
    targets = Targets(settings, callables, stream_call)
    streamer = Streamer(store, settings, targets, Captures(settings.sns_capture), leases)
    pusher = Pusher(FeedBus(FaultyBus(bus, faults), feed))
    pusher.observe(streamer.notify)  # committed items wake their chains' streams
    deadlines = Deadlines(clock)
    issuer = ConnectionIssuer(signer, settings.policy)
    after = Aftermath(pusher, deadlines)
    deps = ServiceDeps(store, settings, ids, signer, pages, pusher, deadlines, issuer, after)
    functions = InvokerFunctions(invoker, store, settings.lambda_require_association)
    flows = FlowRunner(store, settings, ids, clock, pusher, deadlines.channel(FLOW), leases, functions)
    after.bind_flows(flows)
    pusher.observe(flows.observe)
    deadlines.bind(flows.check, FLOW)
    connect = ConnectService(deps, Routes(settings, callables), streamer)
    urls = SignedUrls(signer)
    participant = ParticipantService(deps, urls)
    deadlines.bind(participant.check_deadlines)
    router = Router(lambda: [op for ops in operations.values() for op in ops.values()])
    handlers = {"connect": connect.handlers, "connectparticipant": participant.handlers}
    log_lines = access_log or AccessLog(
        enabled=settings.log_level in ("debug", "info"),
        debug=settings.log_level == "debug",
        json=settings.log_format == "json",
    )
    request_ids = IdGenerator(None if settings.seed is None else settings.seed + 1)
    requests = RequestLog(settings.request_log_size)
    requests.watch(feed.request)
    verifier = None
    if settings.strict_auth:
        from parley.protocol.sigv4 import SigV4Verifier  # --strict-auth only

        verifier = SigV4Verifier(settings.credentials)
    aws = AwsHttp(
        router, handlers, settings, clock, log_lines, faults, requests, request_ids, signer.bearer_owner, verifier
    )
    admission = SocketAdmission(signer, store, clock)
    sockets = ChatSockets(admission, bus, log_lines, settings.ws_outbox, settings.limits)

    def reseed(seed: int) -> None:
        ids.reseed(seed)
        request_ids.reseed(seed + 1)
        lambda_ids.reseed(seed + 2)

    actions = AdminService(store, ids, signer, pusher, clock, deadlines, bus, reseed, settings.seed, flows.accepted)
    default_scope = Scope(settings.account_id, settings.region)
    streams = StreamAdmin(StreamViews(store, streamer), streamer, settings.stream_history)
    snapshots = SnapshotService(store, clock, deadlines, bus, deadlines.fire_due, flows.resume_all)
    admin = Admin(
        actions,
        bus,
        faults,
        requests,
        default_scope,
        clock,
        deadlines,
        settings.policy,
        flows,
        invoker,
        streams,
        snapshots=snapshots,
        config=effective(settings),
    )
    cluster = _cluster(store, bus, leases, clock, deadlines, flows, settings, actions, admin, streamer)
    admin.cluster = cluster
    hosted_service = HostedService(store, clock, ids, pusher)
    hosted = Hosted(hosted_service, urls, clock, settings.policy.attachment_max_bytes)
    console = Console(ConsoleService(store, clock), feed) if settings.ui else None
    namespace = _admin_and_console(settings, admin, console)
    http = Cors(_by_path(namespace, hosted, aws), OriginPolicy(settings.cors_origins), log_lines)
    return Parley(
        settings,
        store,
        aws,
        admin,
        hosted,
        sockets,
        deadlines,
        clock,
        http,
        flows,
        invoker,
        ids,
        streamer,
        snapshots,
        bus,
        cluster,
    )


def _cluster(
    store: Store,
    bus: Bus,
    leases: NodeLeases,
    clock: Clock,
    deadlines: Deadlines,
    flows: FlowRunner,
    settings: Settings,
    actions: AdminService,
    admin: Admin,
    streamer: Streamer,
) -> Cluster:
    """What this node shares with the others on the same store: a durable store may be opened by several."""
    cluster = Cluster(store, leases, clock, deadlines, flows, settings.policy, bus, store.durable)
    flows.shared = store.durable
    cluster.on("reset", admin.forget_reset)
    cluster.on("stream-opened", lambda message: streamer.learn(message["chain"], message["stream"]))

    def reset(selection: Selection, contacts: list[tuple[Scope, str]]) -> None:
        listed = [[scope.account, scope.region, contact_id] for scope, contact_id in contacts]
        where = {"account": selection.account, "region": selection.region, "instance": selection.instance_id}
        cluster.announce("reset", contacts=listed, **where)

    actions.on_reset = reset
    streamer.on_opened = lambda chain, stream: cluster.announce("stream-opened", chain=chain, stream=stream)
    return cluster
