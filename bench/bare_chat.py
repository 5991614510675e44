"""The latency baseline: the least a chat server must do, as a plain ASGI app on Parley's stack.

uvicorn + httptools + uvloop + `websockets-sansio`, configured as `parley serve` configures them. It
speaks just enough of the wire for bench/latency.py: no Connect API, no validation, no storage.

- `POST /participant/connection` (X-Amz-Bearer: `CHAT:ROLE`, any string) answers a WebSocket URL and a
  ConnectionToken that both are that same bearer.
- `/ws/chat?auth=CHAT:ROLE` accepts the socket; `aws/subscribe` adds it to the chat and is acknowledged.
- `POST /participant/message` decodes the JSON body, builds the item (an id and a timestamp, as Parley's
  frames carry), serializes the frame once and queues it on every subscribed socket of the chat. Each
  socket has a queue drained by its own writer task, so a publisher never waits on a socket.

Run as a script it prints `bare-chat: listening on http://127.0.0.1:PORT` once it serves.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import uvloop

from bare_app import serve

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

SUBSCRIBE_ACK = json.dumps({"topic": "aws/subscribe", "content": {"status": "success", "topics": ["aws/chat"]}})
JSON_HEADERS = [(b"content-type", b"application/json")]
chats: dict[str, set[asyncio.Queue[str]]] = {}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def header(scope: dict[str, Any], name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


async def read_body(receive: Receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def connection(scope: dict[str, Any], bearer: str) -> dict[str, Any]:
    expiry = "2030-01-01T00:00:00.000Z"
    url = f"ws://{header(scope, b'host')}/ws/chat?auth={bearer}"
    return {
        "Websocket": {"Url": url, "ConnectionExpiry": expiry},
        "ConnectionCredentials": {"ConnectionToken": bearer, "Expiry": expiry},
    }


def publish(bearer: str, request: dict[str, Any]) -> dict[str, Any]:
    chat, _, role = bearer.partition(":")
    answer = {"Id": str(uuid.uuid4()), "AbsoluteTime": now_iso()}
    item = {
        **answer,
        "Content": request["Content"],
        "ContentType": request["ContentType"],
        "Type": "MESSAGE",
        "ParticipantId": bearer,
        "DisplayName": role,
        "ParticipantRole": role.upper(),
        "InitialContactId": chat,
        "ContactId": chat,
    }
    content = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
    frame = json.dumps({"topic": "aws/chat", "contentType": "application/json", "content": content})
    for outbox in chats.get(chat, ()):
        outbox.put_nowait(frame)
    return answer


async def http(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    bearer = header(scope, b"x-amz-bearer")
    if scope["method"] != "POST" or not bearer:
        await respond(send, 404, {"message": "not here"})
    elif scope["path"] == "/participant/connection":
        await respond(send, 200, connection(scope, bearer))
    elif scope["path"] == "/participant/message":
        await respond(send, 200, publish(bearer, json.loads(body)))
    else:
        await respond(send, 404, {"message": "not here"})


async def write_loop(outbox: asyncio.Queue[str], send: Send) -> None:
    while True:
        await send({"type": "websocket.send", "text": await outbox.get()})


async def websocket(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    chat = (parse_qs(scope["query_string"].decode()).get("auth") or [""])[0].partition(":")[0]
    await send({"type": "websocket.accept"})
    outbox: asyncio.Queue[str] = asyncio.Queue()
    writer = asyncio.get_running_loop().create_task(write_loop(outbox, send))
    try:
        while (message := await receive())["type"] != "websocket.disconnect":
            if json.loads(message.get("text") or "{}").get("topic") == "aws/subscribe":
                chats.setdefault(chat, set()).add(outbox)
                outbox.put_nowait(SUBSCRIBE_ACK)
    finally:
        chats.get(chat, set()).discard(outbox)
        writer.cancel()


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "websocket":
        await websocket(scope, receive, send)


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0, app, "websockets-sansio", "bare-chat"))
