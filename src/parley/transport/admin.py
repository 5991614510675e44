"""The admin namespace `/_parley/`: health and readiness for now (conventions.md §4)."""

from __future__ import annotations

import time
from typing import Any

from parley import __version__
from parley.protocol.restjson import json_bytes
from parley.transport.http import Receive, Send, read_body, respond


class Admin:
    def __init__(self) -> None:
        self._started = time.monotonic()
        self.ready = False

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await read_body(receive)
        path: str = scope["path"]
        if path == "/_parley/health" and scope["method"] == "GET":
            uptime = round(time.monotonic() - self._started, 3)
            await respond(send, 200, [], json_bytes({"status": "ok", "version": __version__, "uptime": uptime}))
        elif path == "/_parley/ready" and scope["method"] == "GET":
            status = 200 if self.ready else 503
            await respond(send, status, [], json_bytes({"ready": self.ready}))
        else:
            body = {"error": "NotFound", "message": f"No admin endpoint at {scope['method']} {path}"}
            await respond(send, 404, [], json_bytes(body))
