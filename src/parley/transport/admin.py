"""The admin namespace `/_parley/` (conventions.md §4): health, readiness, agent actions, socket faults.

JSON in and out; errors are `{"error": "<Code>", "message": "…"}` with a 4xx status.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from parley import __version__
from parley.bus.memory import MemoryBus
from parley.chat.errors import DomainError, NotFound
from parley.chat.model import Scope
from parley.protocol.restjson import json_bytes
from parley.services.admin import ROLES, AdminService
from parley.transport.http import Receive, Send, read_body, respond

PARTICIPANT_ACTION = re.compile(r"^/_parley/contacts/([^/]+)/(agent|supervisor)$")
SOCKETS_ACTION = re.compile(r"^/_parley/contacts/([^/]+)/sockets$")
AUTH_ACTION = re.compile(r"^/_parley/contacts/([^/]+)/authentication$")
DROP_CODE = 4000  # application-defined close code: the admin API dropped the socket


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Admin:
    def __init__(self, actions: AdminService, bus: MemoryBus, default_scope: Scope) -> None:
        self._started = time.monotonic()
        self._default_scope = default_scope
        self._actions = actions
        self._bus = bus
        self.ready = False

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = await read_body(receive, 1024 * 1024)
        try:
            status, payload = await self._route(scope["method"], scope["path"], body or b"")
        except AdminError as error:
            status, payload = error.status, {"error": error.code, "message": error.message}
        except NotFound as error:
            status, payload = 404, {"error": "NotFound", "message": error.message}
        except DomainError as error:
            status, payload = 409, {"error": type(error).__name__, "message": error.message}
        await respond(send, status, [], json_bytes(payload))

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if path == "/_parley/health" and method == "GET":
            return 200, {"status": "ok", "version": __version__, "uptime": round(time.monotonic() - self._started, 3)}
        if path == "/_parley/ready" and method == "GET":
            return (200 if self.ready else 503), {"ready": self.ready}
        match = PARTICIPANT_ACTION.match(path)
        if match and method == "POST":
            return 200, await self._participant_action(match.group(1), match.group(2), _json_object(body))
        match = SOCKETS_ACTION.match(path)
        if match and method == "POST":
            return 200, self._sockets_action(match.group(1), _json_object(body))
        match = AUTH_ACTION.match(path)
        if match and method == "POST":
            return 200, await self._authentication_action(match.group(1), _json_object(body))
        if path == "/_parley/views" and method == "POST":
            return 200, await self._register_view(_json_object(body))
        raise AdminError(404, "NotFound", f"No admin endpoint at {method} {path}")

    async def _participant_action(self, contact_id: str, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        action = request.get("action")
        if action == "join":
            name = request.get("displayName") or kind.title()
            if not isinstance(name, str) or not 1 <= len(name) <= 256:
                raise AdminError(400, "InvalidRequest", "displayName must be a string of 1 to 256 characters")
            return await self._actions.join(contact_id, kind, name)
        if action == "leave":
            participant_id = request.get("participantId")
            if not isinstance(participant_id, str):
                raise AdminError(400, "InvalidRequest", "leave needs participantId")
            return await self._actions.leave(contact_id, participant_id)
        raise AdminError(400, "InvalidRequest", f"action must be join or leave for an {kind} ({sorted(ROLES)})")

    async def _authentication_action(self, contact_id: str, request: dict[str, Any]) -> dict[str, Any]:
        """`initiate` opens a session as a flow would; `fail` ends it as a failed sign-in."""
        action = request.get("action")
        if action == "initiate":
            return await self._actions.open_authentication(contact_id)
        if action == "fail":
            session_id = request.get("sessionId")
            if not isinstance(session_id, str):
                raise AdminError(400, "InvalidRequest", "fail needs sessionId")
            return await self._actions.fail_authentication(contact_id, session_id)
        raise AdminError(400, "InvalidRequest", "action must be initiate or fail")

    async def _register_view(self, request: dict[str, Any]) -> dict[str, Any]:
        """A view for DescribeView: {Name, Content{InputSchema, Template, Actions}, Id?, Version?, InstanceId?,
        AccountId?, Region?}."""
        name, content = request.get("Name"), request.get("Content", {})
        view_id, version = request.get("Id"), request.get("Version", 1)
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise AdminError(400, "InvalidRequest", "Name must be a string of 1 to 255 characters")
        if view_id is not None and not (isinstance(view_id, str) and VIEW_ID.match(view_id)):
            raise AdminError(400, "InvalidRequest", "Id must be 1 to 500 of a-z A-Z 0-9 _ - : / $")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise AdminError(400, "InvalidRequest", "Version must be a whole number >= 1")
        if not _view_content(content):
            raise AdminError(
                400, "InvalidRequest", "Content must be {InputSchema: string, Template: string, Actions: [string]}"
            )
        scope = Scope(
            str(request.get("AccountId") or self._default_scope.account),
            str(request.get("Region") or self._default_scope.region),
        )
        instance = str(request.get("InstanceId") or "parley")
        return await self._actions.put_view(scope, view_id, name, version, content, instance)

    def _sockets_action(self, contact_id: str, request: dict[str, Any]) -> dict[str, Any]:
        """`drop`: close every subscribed socket of the contact at once, as a network drop would."""
        if request.get("action") != "drop":
            raise AdminError(400, "InvalidRequest", "action must be drop")
        return {"dropped": self._bus.drop(contact_id, DROP_CODE)}


VIEW_ID = re.compile(r"^[a-zA-Z0-9_\-:/$]{1,500}$")


def _view_content(content: Any) -> bool:
    if not isinstance(content, dict) or set(content) - {"InputSchema", "Template", "Actions"}:
        return False
    strings = all(isinstance(content.get(k, ""), str) for k in ("InputSchema", "Template"))
    actions = content.get("Actions", [])
    return strings and isinstance(actions, list) and all(isinstance(a, str) for a in actions)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise AdminError(400, "InvalidRequest", "The body is not JSON") from None
    if not isinstance(value, dict):
        raise AdminError(400, "InvalidRequest", "The body must be a JSON object")
    return value
