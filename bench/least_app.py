"""The floor under CreateParticipant: the least any implementation must do per request, as a plain ASGI app on
Parley's own stack (`bare_app.serve`: uvicorn, httptools, uvloop, the connection guard, one write a response).

Per request, what Parley must do too, and nothing else: read the body; decode it into typed structs (msgspec,
the member types checked in C) and check the model's constraints on what it carries (lengths, the role's enum);
look the ClientToken up with a fingerprint of the request (a replay answers the stored response, another request
under the same token is refused); find the instance and the chat (an id not seen before is made on first sight,
as the benchmark's ids are made up); make the participant's id and a signed token (HMAC-SHA256); keep the
participant and arm its chat's deadline on a heap; encode the answer and keep it under the token; answer with a
request id. No request log, no access log, no layers. `bench/run.py --only bare,least,memory` puts it beside
Parley: the distance between the two is what Parley's layers cost.

With `--data-dir DIR` (the `least-durable` configuration) the new participant and the ClientToken's answer are
also written to SQLite (WAL, synchronous=FULL) by one writer thread that commits whatever is queued as one
transaction, and a request is answered once its batch has committed: the group commit of Parley's durable
store, with every read still from memory (the least a durable server can do; Parley reads SQLite too). With
`--journal` as well (`least-journal`), each request's rows go in as one encoded entry appended to a journal
table (an INTEGER PRIMARY KEY, so every insert lands on the last page) instead of rows in keyed tables: the
cheapest SQLite write there is, as a store kept in memory and journaled to SQLite would make it.

Run as a script it prints `least: listening on http://127.0.0.1:PORT` once it serves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import heapq
import hmac
import os
import queue
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import uvloop

from bare_app import serve

BOT_CONNECT_WINDOW = timedelta(seconds=15)
ROLES = frozenset({"CUSTOM_BOT", "CUSTOMER"})
MAC = hmac.new(os.urandom(32), digestmod=hashlib.sha256)
JSON = (b"content-type", b"application/json")
Answer = tuple[int, bytes]
Rows = tuple[tuple[str, str, str, str], tuple[str, str, bytes, bytes] | None]  # a participant, a ClientToken's


class Details(msgspec.Struct):
    ParticipantRole: str
    DisplayName: str


class Request(msgspec.Struct):
    InstanceId: str
    ContactId: str
    ParticipantDetails: Details
    ClientToken: str | None = None


class Credentials(msgspec.Struct):
    ParticipantToken: str
    Expiry: str


class Response(msgspec.Struct):
    ParticipantCredentials: Credentials
    ParticipantId: str


decode = msgspec.json.Decoder(Request).decode
encode = msgspec.json.Encoder().encode
instances: set[str] = set()
chats: dict[str, list[str]] = {}  # contact id -> its participants' ids
participants: dict[str, tuple[str, str, str]] = {}  # id -> (contact id, role, display name)
tokens: dict[tuple[str, str], tuple[bytes, bytes]] = {}  # (instance, ClientToken) -> (fingerprint, answer)
deadlines: list[tuple[float, str]] = []


class Journal:
    """One writer thread committing every queued write as one transaction (group commit), as Parley's store does."""

    def __init__(self, data_dir: str, appended: bool) -> None:
        os.makedirs(data_dir, exist_ok=True)
        self._appended = appended  # one journal entry a request, instead of rows in keyed tables
        self._conn = sqlite3.connect(
            os.path.join(data_dir, "least.sqlite3"), isolation_level=None, check_same_thread=False
        )
        for statement in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, contact_id TEXT, role TEXT, name TEXT)",
            "CREATE TABLE IF NOT EXISTS tokens (instance TEXT, token TEXT, fingerprint BLOB, answer BLOB,"
            " PRIMARY KEY (instance, token))",
            "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, entry BLOB)",
        ):
            self._conn.execute(statement)
        self._queue: queue.SimpleQueue[tuple[Rows, asyncio.Future[None]]] = queue.SimpleQueue()
        threading.Thread(target=self._write_loop, daemon=True).start()

    async def write(self, rows: Rows) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((rows, done))
        await done

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._conn.execute("BEGIN IMMEDIATE")
            if self._appended:
                self._conn.executemany("INSERT INTO journal (entry) VALUES (?)", [(encode(rows),) for rows, _ in batch])
            else:
                self._conn.executemany("INSERT INTO participants VALUES (?, ?, ?, ?)", [rows[0] for rows, _ in batch])
                tokens = [rows[1] for rows, _ in batch if rows[1] is not None]
                self._conn.executemany("INSERT INTO tokens VALUES (?, ?, ?, ?)", tokens)
            self._conn.execute("COMMIT")
            batch[0][1].get_loop().call_soon_threadsafe(self._deliver, [done for _, done in batch])

    @staticmethod
    def _deliver(futures: list[asyncio.Future[None]]) -> None:
        for done in futures:
            if not done.done():
                done.set_result(None)


journal: Journal | None = None


def refused(status: int, code: str, message: str) -> Answer:
    return status, encode({"__type": code, "message": message})


def valid(request: Request) -> bool:
    details, token = request.ParticipantDetails, request.ClientToken
    return (
        0 < len(request.InstanceId) <= 100
        and 0 < len(request.ContactId) <= 256
        and 0 < len(details.DisplayName) <= 256
        and details.ParticipantRole in ROLES
        and (token is None or len(token) <= 500)
    )


def signed_token(participant_id: str, expiry: datetime) -> str:
    payload = f"{participant_id}.{int(expiry.timestamp())}".encode()
    mac = MAC.copy()
    mac.update(payload)
    return base64.urlsafe_b64encode(payload + mac.digest()).decode()


def create_participant(body: bytes) -> tuple[Answer, Rows | None]:
    try:
        request = decode(body)
    except msgspec.DecodeError as error:  # ValidationError is one: a member of the wrong type or missing
        return refused(400, "InvalidRequestException", str(error)), None
    if not valid(request):
        return refused(400, "InvalidRequestException", "a member breaks the model's constraints"), None
    details = request.ParticipantDetails
    fingerprint = hashlib.sha256(
        encode((request.InstanceId, request.ContactId, details.ParticipantRole, details.DisplayName))
    ).digest()
    key = (request.InstanceId, request.ClientToken) if request.ClientToken is not None else None
    stored = tokens.get(key) if key is not None else None
    if stored is not None:
        if stored[0] != fingerprint:
            return refused(400, "IdempotencyException", "the ClientToken was used for another request"), None
        return (200, stored[1]), None
    instances.add(request.InstanceId)
    chat = chats.setdefault(request.ContactId, [])
    participant_id = str(uuid.UUID(bytes=os.urandom(16), version=4))
    expiry = datetime.now(UTC) + BOT_CONNECT_WINDOW
    participant = participants[participant_id] = (request.ContactId, details.ParticipantRole, details.DisplayName)
    chat.append(participant_id)
    heapq.heappush(deadlines, (time.monotonic() + BOT_CONNECT_WINDOW.total_seconds(), participant_id))
    credentials = Credentials(signed_token(participant_id, expiry), expiry.isoformat(timespec="milliseconds"))
    answer = encode(Response(credentials, participant_id))
    if key is not None:
        tokens[key] = (fingerprint, answer)
    token_row = (*key, fingerprint, answer) if key is not None else None
    return (200, answer), ((participant_id, *participant), token_row)


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    if scope["method"] == "POST" and scope["path"] == "/contact/create-participant":
        (status, body), rows = create_participant(b"".join(chunks))
        if rows is not None and journal is not None:
            await journal.write(rows)
    else:
        status, body = refused(404, "UnknownOperationException", "no such operation")
    request_id = str(uuid.UUID(bytes=os.urandom(16), version=4)).encode()
    headers = [JSON, (b"x-amzn-requestid", request_id), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    if "--data-dir" in sys.argv:
        journal = Journal(sys.argv[sys.argv.index("--data-dir") + 1], appended="--journal" in sys.argv)
    uvloop.run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0, app, name="least"))
