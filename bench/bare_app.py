"""The baseline: a plain ASGI callable on the same stack as `parley serve` (uvicorn, httptools, uvloop), or with
`stock` after the port on stock uvicorn (httptools, uvloop) without Parley's connection guard.

It reads the request body fully and answers a small JSON body. Run as a script it prints
`bare: listening on http://127.0.0.1:PORT` once it serves, like `parley serve` does.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
import uvloop

from parley.serving import uvicorn_server

BODY = b'{"ParticipantCredentials":{"ParticipantToken":"bare","Expiry":"2030-01-01T00:00:00.000Z"},"ParticipantId":"x"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def serve(port: int, asgi: Any = app, ws: str = "none", name: str = "bare") -> None:
    """Serve `asgi` on `parley serve`'s own uvicorn configuration, without lifespan; `ws` as there when it
    takes WebSockets."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn_server(asgi, lifespan="off", ws=ws)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        print(f"{name}: listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await task


async def serve_stock(port: int) -> None:
    """The same app on stock uvicorn (httptools, uvloop), without `parley serve`'s connection guard and
    single-write responses: what any Python service gets out of the box."""
    config = uvicorn.Config(app, port=port, http="httptools", loop="none", lifespan="off", log_config=None)
    config.access_log, config.backlog = False, 2048
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        print(f"bare-stock: listening on http://127.0.0.1:{port}", flush=True)
    await task


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    uvloop.run(serve_stock(port) if sys.argv[2:] == ["stock"] else serve(port))
