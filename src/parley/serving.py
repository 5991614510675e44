"""Binding and running uvicorn: the one server stack shared by `parley serve` and the in-process ParleyServer.

Owns the listening socket (bound before anything else, so a taken port fails at once) and the single
uvicorn configuration. It knows nothing about flags, threads or signals: callers decide how to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from parley.limits import Limits
from parley.transport.guard import protocols

ASGIApp = Any  # the Parley application; uvicorn types it loosely too


class BindError(OSError):
    """The address is taken or not ours; the message names it."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises BindError at once when the address is taken or not ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BindError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL clients use; a wildcard bind is reached on 127.0.0.1."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


class UvicornServer(uvicorn.Server):
    """uvicorn re-raises a captured SIGTERM after shutting down, which would skip closing the store;
    the CLI handles the signals itself and exits 0 after a graceful stop, and a server in a thread
    must not touch signals at all."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(app: ASGIApp, limits: Limits | None = None, **overrides: Any) -> UvicornServer:
    """The one uvicorn configuration: httptools and sans-io websockets behind the connection guard
    (transport/guard.py, bounded by `limits`), lifespan on, no uvicorn logging.
    `overrides` (uvicorn.Config keywords) serve the benchmarks' bare baselines, which have no lifespan."""
    settings: dict[str, Any] = {
        "lifespan": "on",
        "log_config": None,
        "access_log": False,
        **protocols(limits or Limits()),
        "ws_ping_interval": None,
        "server_header": False,
        "date_header": True,
        "backlog": 2048,
        "timeout_graceful_shutdown": 5,
    }
    return UvicornServer(uvicorn.Config(app, **{**settings, **overrides}))


async def run(server: UvicornServer, sock: socket.socket, on_started: Callable[[], object]) -> None:
    """Serves on `sock` until `server.should_exit`; `on_started` runs once requests are accepted (it may
    be a coroutine function, awaited while the server serves; if it raises, the server stops and the
    error propagates).

    A startup failure (the lifespan refusing) ends the call without `on_started`."""
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        try:
            outcome = on_started()
            if inspect.isawaitable(outcome):
                await outcome
        except BaseException:
            server.should_exit = True
            await task
            raise
    await task
