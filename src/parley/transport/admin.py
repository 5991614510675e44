"""The admin namespace `/_parley/` (conventions.md §4): health, readiness, state (dump and reset), the
recent-request log, fault rules, the virtual clock, agent actions (join, leave, accepting a queued chat),
the queues with their waiting contacts, socket drops, views and authentication sessions.

JSON in and out; errors are `{"error": "<Code>", "message": "…"}` with a 4xx status. Handlers are thin:
they read the input (`admin_input`) and call the admin service, the fault rules or the request log.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from parley import __version__
from parley.bus.port import Bus
from parley.chat.errors import DomainError, NotFound
from parley.chat.model import Scope, Selection
from parley.chat.policy import Policy
from parley.clock import Clock, VirtualClock, parse_duration, parse_instant
from parley.lazy import LazyModule
from parley.outbound.lambdas import Invocation, LambdaInvoker
from parley.protocol.restjson import iso_ms
from parley.services.admin import ROLES, AdminService
from parley.services.cluster import Cluster, Message
from parley.services.snapshots import SnapshotError, SnapshotService
from parley.timers import Deadlines
from parley.transport.admin_input import BadInput, choose, known_keys, number, optional_text, whole
from parley.transport.admin_streams import NoSuchStream, StreamAdmin, is_raw
from parley.transport.faults import DROP_CODE, Faults
from parley.transport.http import Receive, Send, read_body, respond
from parley.transport.request_log import RequestFilter, RequestLog

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import injected
else:
    injected = LazyModule("parley.chat.injected", globals())

log = logging.getLogger("parley.admin")
MAX_ADMIN_BODY = 1024 * 1024
MAX_SNAPSHOT_BODY = 1024 * 1024 * 1024  # a snapshot carries attachments' bytes (20 MB each, in base64)
SNAPSHOT_IMPORT = "/_parley/state/import"
STATUS_FILTER = re.compile(r"^(?:[1-5]\d\d|[1-5]xx)$")
EVENT_PREFIX = "application/vnd.amazonaws.connect.event."
VIEW_ID = re.compile(r"^[a-zA-Z0-9_\-:/$]{1,500}$")
Answer = tuple[int, dict[str, Any]]


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class AdminRequest:
    labels: tuple[str, ...]  # the path's captured segments
    query: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise BadInput("The body is not JSON") from None
        if not isinstance(value, dict):
            raise BadInput("The body must be a JSON object")
        return value

    def fields(self) -> dict[str, Any]:
        """Query parameters and body fields together; naming one twice with two values is refused."""
        merged: dict[str, Any] = dict(self.query)
        for key, value in self.json().items():
            if key in merged and merged[key] != value:
                raise BadInput(f"{key} is given twice, as {merged[key]!r} and as {value!r}")
            merged[key] = value
        return merged


Handler = Callable[[AdminRequest], Awaitable[Answer]]


def _query(raw: bytes) -> dict[str, str]:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    query: dict[str, str] = {}
    for key, value in pairs:
        if key in query:
            raise BadInput(f"query parameter {key} is given more than once")
        query[key] = value
    return query


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_ms(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, default=_encode, ensure_ascii=False).encode("utf-8", "backslashreplace")


def selection(fields: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> Selection:
    known_keys(fields, allowed, what)
    return Selection(
        optional_text(fields, "account"),
        optional_text(fields, "region"),
        optional_text(fields, "instance"),
        optional_text(fields, "contact"),
    )


class FlowView(Protocol):
    async def describe(self, contact_id: str) -> dict[str, Any] | None: ...
    async def idle(self, contact_id: str, timeout: float) -> bool: ...


class Admin:
    def __init__(
        self,
        actions: AdminService,
        bus: Bus,
        faults: Faults,
        requests: RequestLog,
        default_scope: Scope,
        clock: Clock,
        deadlines: Deadlines,
        policy: Policy,
        flows: FlowView | None = None,
        lambdas: LambdaInvoker | None = None,
        streams: StreamAdmin | None = None,
        *,
        snapshots: SnapshotService,
        config: Mapping[str, Any],
    ) -> None:
        self.cluster: Cluster | None = None  # several nodes: the shared clock (app.py sets it)
        self._snapshots = snapshots
        self._config = config
        self._started = time.monotonic()
        self._flows = flows
        self._lambdas = lambdas
        self._policy = policy
        self._default_scope = default_scope
        self._clock = clock
        self._deadlines = deadlines
        self._actions = actions
        self._bus = bus
        self._faults = faults
        self._requests = requests
        self._streams = streams
        self.ready = False
        self._routes: tuple[tuple[str, re.Pattern[str], Handler], ...] = tuple(
            (method, re.compile(f"^/_parley/{pattern}$"), handler)
            for method, pattern, handler in (
                ("GET", "health", self._health),
                ("GET", "ready", self._ready),
                ("POST", "reset", self._reset),
                ("GET", "state", self._state),
                ("GET", "state/export", self._export),
                ("POST", "state/import", self._import),
                ("GET", "config", self._read_config),
                ("GET", "queues", self._queues),
                ("GET", "requests", self._list_requests),
                ("DELETE", "requests", self._clear_requests),
                ("GET", "faults", self._list_faults),
                ("POST", "faults", self._add_fault),
                ("DELETE", "faults", self._clear_faults),
                ("DELETE", "faults/([^/]+)", self._remove_fault),
                ("POST", "contacts/([^/]+)/(agent|supervisor)", self._participant_action),
                ("POST", "contacts/([^/]+)/sockets", self._sockets_action),
                ("POST", "contacts/([^/]+)/authentication", self._authentication_action),
                ("POST", "contacts/([^/]+)/events", self._event_action),
                ("GET", "contacts/([^/]+)/flow", self._flow),
                ("GET", "clock", self._read_clock),
                ("POST", "clock", self._move_clock),
                ("POST", "views", self._register_view),
                ("GET", "lambda/invocations", self._lambda_invocations),
                ("DELETE", "lambda/invocations", self._clear_lambda_invocations),
                ("POST", "lambda/invoke", self._lambda_invoke),
                *(streams.routes() if streams else ()),
            )
        )

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if self._streams is not None and is_raw(scope["path"]):
            await self._streams.raw(scope, receive, send)
            return
        body = await read_body(receive, MAX_SNAPSHOT_BODY if scope["path"] == SNAPSHOT_IMPORT else MAX_ADMIN_BODY)
        try:
            status, payload = await self._dispatch(scope, body)
        except AdminError as error:
            status, payload = error.status, {"error": error.code, "message": error.message}
        except BadInput as error:
            status, payload = 400, {"error": "InvalidRequest", "message": error.message}
        except SnapshotError as error:
            status, payload = 400, {"error": "InvalidSnapshot", "message": str(error)}
        except (NotFound, NoSuchStream) as error:
            status, payload = 404, {"error": "NotFound", "message": error.message}
        except DomainError as error:
            status, payload = 409, {"error": type(error).__name__, "message": error.message}
        except Exception:  # a bug, not bad input: still a JSON answer
            log.exception("admin %s %s failed", scope["method"], scope["path"])
            status, payload = 500, {"error": "InternalError", "message": "The admin action failed; see the log"}
        await respond(send, status, [], encode(payload))

    async def _dispatch(self, scope: dict[str, Any], body: bytes | None) -> Answer:
        method, path = scope["method"], scope["path"]
        allowed = []
        for route_method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match and route_method == method:
                if body is None:
                    limit = MAX_SNAPSHOT_BODY if path == SNAPSHOT_IMPORT else MAX_ADMIN_BODY
                    raise BadInput(f"The body is larger than {limit} bytes")
                return await handler(AdminRequest(match.groups(), _query(scope.get("query_string", b"")), body))
            if match:
                allowed.append(route_method)
        if allowed:
            raise AdminError(405, "MethodNotAllowed", f"{path} answers {', '.join(allowed)}, not {method}")
        raise AdminError(404, "NotFound", f"No admin endpoint at {method} {path}")

    # -- health ------------------------------------------------------------------------------------
    async def _health(self, request: AdminRequest) -> Answer:
        answer: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "uptime": round(time.monotonic() - self._started, 3),
        }
        if self.cluster is not None:
            answer["node"] = self.cluster.node  # the name this node holds leases under
        if self._streams is not None:
            answer["streams"] = await self._streams.health()
        return 200, answer

    async def _ready(self, request: AdminRequest) -> Answer:
        ready = self.ready and self._bus.connected  # conventions.md §4: storage and bus ready
        return (200 if ready else 503), {"ready": ready}

    # -- state ---------------------------------------------------------------------------------------
    async def _reset(self, request: AdminRequest) -> Answer:
        """`seed` restarts the id sequence from that seed (a reset of everything restarts `--seed`'s)."""
        fields = request.fields()
        seed = whole(fields, "seed", 0)
        wanted = selection({k: v for k, v in fields.items() if k != "seed"}, ("account", "region", "instance"), "reset")
        if self._lambdas is not None and wanted == Selection():
            self._lambdas.clear_records()
        answer = await self._actions.reset(wanted, seed)
        if self._streams is not None:
            answer["removed"]["snsMessages"] = self._streams.reset(wanted)
        return 200, answer

    def forget_reset(self, message: Message) -> None:
        """Another node reset a selection: this node drops what it holds in memory for it (timers, stream workers
        and captures, Lambda invocation records; the sockets were closed through the bus)."""
        wanted = Selection(message.get("account"), message.get("region"), message.get("instance"))
        contacts = [(Scope(account, region), contact) for account, region, contact in message["contacts"]]
        self._actions.forget(contacts, close_sockets=False)
        if self._lambdas is not None and wanted == Selection():
            self._lambdas.clear_records()
        if self._streams is not None:
            self._streams.reset(wanted)

    async def _state(self, request: AdminRequest) -> Answer:
        wanted = selection(request.query, ("account", "region", "instance", "contact"), "state")
        return 200, await self._actions.state(wanted)

    async def _export(self, request: AdminRequest) -> Answer:
        known_keys(request.query, (), "state export")
        return 200, await self._snapshots.export()

    async def _import(self, request: AdminRequest) -> Answer:
        """The body is a snapshot as `GET /_parley/state/export` (`parley export`) writes it;
        `?replace=true` makes it the whole state instead of adding to it."""
        known_keys(request.query, ("replace",), "state import")
        replace = request.query.get("replace", "false").lower()
        if replace not in ("true", "false", "1", "0"):
            raise BadInput(f"replace must be true or false, got {replace!r}")
        return 200, await self._snapshots.import_document(request.body, replace in ("true", "1"))

    async def _read_config(self, request: AdminRequest) -> Answer:
        """The effective settings, each with its source (`flag`, `env`, `default`); secrets masked."""
        return 200, {"settings": dict(self._config)}

    async def _queues(self, request: AdminRequest) -> Answer:
        """Every queue with its waiting contacts, the longest-waiting first (flows.md §7.4)."""
        wanted = selection(request.query, ("account", "region", "instance"), "queues")
        return 200, await self._actions.list_queues(wanted)

    # -- the request log -----------------------------------------------------------------------------
    async def _list_requests(self, request: AdminRequest) -> Answer:
        query = request.query
        known_keys(query, ("operation", "status", "contact", "limit"), "requests")
        status = optional_text(query, "status")
        if status is not None and not STATUS_FILTER.match(status):
            raise BadInput(f"status must be an HTTP status such as 429 or a class such as 4xx, got {status!r}")
        contact = optional_text(query, "contact")
        participants = await self._actions.participant_ids(contact) if contact else frozenset[str]()
        wanted = RequestFilter(
            optional_text(query, "operation"), status, contact, whole(query, "limit", 0), participants
        )
        return 200, {"size": self._requests.size, "requests": self._requests.select(wanted)}

    async def _clear_requests(self, request: AdminRequest) -> Answer:
        return 200, {"cleared": self._requests.clear()}

    # -- faults --------------------------------------------------------------------------------------
    async def _list_faults(self, request: AdminRequest) -> Answer:
        return 200, {"faults": self._faults.describe()}

    async def _add_fault(self, request: AdminRequest) -> Answer:
        return 200, self._faults.add(request.json())

    async def _clear_faults(self, request: AdminRequest) -> Answer:
        return 200, {"removed": self._faults.clear()}

    async def _remove_fault(self, request: AdminRequest) -> Answer:
        rule_id = request.labels[0]
        if not self._faults.remove(rule_id):
            raise AdminError(404, "NotFound", f"No fault rule {rule_id}")
        return 200, {"removed": 1}

    # -- playing the parts Parley has no desktop for ---------------------------------------------------
    async def _participant_action(self, request: AdminRequest) -> Answer:
        contact_id, kind = request.labels
        fields = request.json()
        action = choose(fields, "action", ("join", "leave", "accept") if kind == "agent" else ("join", "leave"))
        if action == "accept":
            known_keys(fields, ("action", "displayName", "agentId"), "agent accept")
            agent_id = optional_text(fields, "agentId")
            if agent_id is not None and not 1 <= len(agent_id) <= 256:
                raise BadInput("agentId must be a string of 1 to 256 characters")
            return 200, await self._actions.accept(contact_id, _display_name(fields, kind), agent_id)
        if action == "join":
            known_keys(fields, ("action", "displayName"), f"{kind} join")
            return 200, await self._actions.join(contact_id, kind, _display_name(fields, kind))
        known_keys(fields, ("action", "participantId"), f"{kind} leave")
        participant_id = optional_text(fields, "participantId")
        if participant_id is None:
            raise BadInput(f"leave needs participantId (the {ROLES[kind].lower()}'s ParticipantId)")
        return 200, await self._actions.leave(contact_id, participant_id)

    async def _sockets_action(self, request: AdminRequest) -> Answer:
        """`drop`: close the subscribed sockets of the contact (or of one participant) at once, as a
        network drop would."""
        fields = request.json()
        known_keys(fields, ("action", "participantId"), "sockets")
        choose(fields, "action", ("drop",))
        participant_id = optional_text(fields, "participantId")
        return 200, {"dropped": self._bus.drop(request.labels[0], DROP_CODE, participant_id)}

    async def _event_action(self, request: AdminRequest) -> Answer:
        """`{"event":"participant.idle","participantId":…,"content"?}`: what Connect's timers and flows emit."""
        fields = request.json()
        known_keys(fields, ("event", "participantId", "content"), "events")
        suffix = optional_text(fields, "event")
        if suffix is None:
            raise BadInput("event is required, e.g. participant.idle or transfer.succeeded")
        content = optional_text(fields, "content")
        if content is not None and len(content.encode()) > 16384:
            raise BadInput("content is longer than 16384 bytes")
        participant_id = optional_text(fields, "participantId")
        suffix = suffix.removeprefix(EVENT_PREFIX)
        if suffix not in injected.INJECTABLE:
            raise BadInput(f"event must be one of {', '.join(sorted(injected.INJECTABLE))}, got {suffix!r}")
        if suffix in injected.ABOUT_A_PARTICIPANT and participant_id is None:
            raise BadInput(f"{suffix} is about a participant: give participantId")
        return 200, await self._actions.inject_event(request.labels[0], suffix, participant_id, content, self._policy)

    async def _authentication_action(self, request: AdminRequest) -> Answer:
        """`initiate` opens a session as a flow's Authenticate Customer block would; `fail` fails it."""
        fields = request.json()
        action = choose(fields, "action", ("initiate", "fail"))
        contact_id = request.labels[0]
        if action == "initiate":
            known_keys(fields, ("action",), "authentication initiate")
            return 200, await self._actions.open_authentication(contact_id)
        known_keys(fields, ("action", "sessionId"), "authentication fail")
        session_id = optional_text(fields, "sessionId")
        if session_id is None:
            raise BadInput("fail needs sessionId")
        return 200, await self._actions.fail_authentication(contact_id, session_id)

    # -- flows -----------------------------------------------------------------------------------------
    async def _flow(self, request: AdminRequest) -> Answer:
        """A chat's flow: the run, what it waits for, and its trail (flows.md §9); `?wait=idle&timeout=5`
        answers once the run waits, queues or ends."""
        query = request.query
        known_keys(query, ("wait", "timeout"), "flow")
        if self._flows is None:
            raise AdminError(404, "NotFound", "Flows do not run on this server (--flows off)")
        contact_id = request.labels[0]
        if optional_text(query, "wait") is not None:
            choose(query, "wait", ("idle",))
            timeout = _seconds(query.get("timeout", "5"))
            if not await self._flows.idle(contact_id, timeout):
                raise AdminError(408, "Timeout", f"The flow of contact {contact_id} did not settle in {timeout} s")
        described = await self._flows.describe(contact_id)
        if described is None:
            raise AdminError(404, "NotFound", f"Contact {contact_id} has no flow run (not connected yet, or unknown)")
        return 200, described

    # -- the virtual clock ---------------------------------------------------------------------------
    def _clock_state(self) -> dict[str, Any]:
        return {"now": iso_ms(self._clock.now()), "virtual": self._clock.virtual}

    async def _read_clock(self, request: AdminRequest) -> Answer:
        if self.cluster is not None:
            await self.cluster.sync_clock()
        return 200, self._clock_state()

    async def _move_clock(self, request: AdminRequest) -> Answer:
        """`{"advance":"PT90S"}` (or seconds) or `{"set":"2026-01-01T00:00:00.000Z"}`; due timers fire first."""
        if not isinstance(self._clock, VirtualClock):
            raise BadInput("The clock is real: start Parley with --clock virtual to move it")
        fields = request.json()
        known_keys(fields, ("advance", "set"), "clock")
        advance, moment = fields.get("advance"), fields.get("set")
        if (advance is None) == (moment is None):
            raise BadInput('Give one of {"advance":"PT90S"} or {"set":"<ISO-8601 instant>"}')
        try:
            if moment is not None:
                delta, instant = None, parse_instant(str(moment))
            elif isinstance(advance, int | float) and not isinstance(advance, bool):
                delta, instant = timedelta(seconds=advance), None
            else:
                delta, instant = parse_duration(str(advance)), None
            if self.cluster is not None:
                await self.cluster.move_clock(delta, instant)  # from the cluster's position, told to every node
            elif instant is not None:
                self._clock.set(instant)
            else:
                self._clock.advance(delta or timedelta(0))
        except (ValueError, OverflowError) as error:
            raise BadInput(str(error)) from None
        fired = await self._deadlines.fire_due()
        return 200, {**self._clock_state(), "fired": fired}

    # -- Lambda functions (flows.md §6.5) ------------------------------------------------------------------
    def _invoker(self) -> LambdaInvoker:
        if self._lambdas is None:
            raise AdminError(404, "NotFound", "This Parley runs no Lambda functions")
        return self._lambdas

    async def _lambda_invocations(self, request: AdminRequest) -> Answer:
        """`?contact=&function=&limit=`: recent invocations, oldest first."""
        query = request.query
        known_keys(query, ("contact", "function", "limit"), "lambda invocations")
        invoker = self._invoker()
        chosen = invoker.records(
            optional_text(query, "contact"), optional_text(query, "function"), whole(query, "limit", 0)
        )
        return 200, {"size": invoker.record_size, "invocations": chosen}

    async def _clear_lambda_invocations(self, request: AdminRequest) -> Answer:
        return 200, {"cleared": self._invoker().clear_records()}

    async def _lambda_invoke(self, request: AdminRequest) -> Answer:
        """`{"function", "event"?, "contact"?, "timeoutSeconds"?, "asynchronous"?, "account"?, "region"?}`: one
        invocation as a flow would make it, to try a mapping without a flow; answers its result."""
        fields = request.json()
        allowed = ("function", "event", "contact", "timeoutSeconds", "asynchronous", "account", "region")
        known_keys(fields, allowed, "lambda invoke")
        function = optional_text(fields, "function")
        if function is None:
            raise BadInput("function is required: a function name or ARN")
        event, asynchronous = fields.get("event", {}), fields.get("asynchronous", False)
        if not isinstance(event, dict):
            raise BadInput("event must be a JSON object")
        if not isinstance(asynchronous, bool):
            raise BadInput("asynchronous must be true or false")
        seconds = number(fields, "timeoutSeconds", 8.0)
        if not 0 < seconds <= 900:
            raise BadInput(f"timeoutSeconds must be above 0 and at most 900, got {seconds:g}")
        scope = Scope(
            optional_text(fields, "account") or self._default_scope.account,
            optional_text(fields, "region") or self._default_scope.region,
        )
        contact = optional_text(fields, "contact") or "none"
        result = await self._invoker().invoke(Invocation(function, event, seconds, asynchronous, contact, scope))
        return 200, {
            "outcome": result.outcome,
            "target": result.target,
            "payload": result.payload,
            "error": result.error,
            "durationMs": round(result.duration_ms, 3),
            "id": result.record_id,
        }

    # -- views -----------------------------------------------------------------------------------------
    async def _register_view(self, request: AdminRequest) -> Answer:
        """A view for DescribeView: {Name, Content{InputSchema, Template, Actions}, Id?, Version?, InstanceId?,
        AccountId?, Region?}."""
        fields = request.json()
        allowed = ("Name", "Content", "Id", "Version", "InstanceId", "AccountId", "Region")
        known_keys(fields, allowed, "view")
        name, content = fields.get("Name"), fields.get("Content", {})
        view_id, version = fields.get("Id"), fields.get("Version", 1)
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise BadInput("Name must be a string of 1 to 255 characters")
        if view_id is not None and not (isinstance(view_id, str) and VIEW_ID.match(view_id)):
            raise BadInput("Id must be 1 to 500 of a-z A-Z 0-9 _ - : / $")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise BadInput("Version must be a whole number >= 1")
        if not _view_content(content):
            raise BadInput("Content must be {InputSchema: string, Template: string, Actions: [string]}")
        scope = Scope(
            optional_text(fields, "AccountId") or self._default_scope.account,
            optional_text(fields, "Region") or self._default_scope.region,
        )
        instance = optional_text(fields, "InstanceId") or "parley"
        return 200, await self._actions.put_view(scope, view_id, name, version, content, instance)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"timeout must be a number of seconds, got {text!r}") from None
    if not 0 <= value <= 300:
        raise BadInput("timeout must be from 0 to 300 seconds")
    return value


def _display_name(fields: Mapping[str, Any], kind: str) -> str:
    name = fields.get("displayName") or kind.title()
    if not isinstance(name, str) or not 1 <= len(name) <= 256:
        raise BadInput("displayName must be a string of 1 to 256 characters")
    return name


def _view_content(content: Any) -> bool:
    if not isinstance(content, dict) or set(content) - {"InputSchema", "Template", "Actions"}:
        return False
    strings = all(isinstance(content.get(k, ""), str) for k in ("InputSchema", "Template"))
    actions = content.get("Actions", [])
    return strings and isinstance(actions, list) and all(isinstance(a, str) for a in actions)
