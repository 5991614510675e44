"""Crash safety, repeatable: SIGKILL a durable Parley under concurrent writes, restart it, check every
acknowledged write and `PRAGMA integrity_check`; used by test_crash_safety.py (10 kills) and bench/crash.py.

A `Writer` is one kind of write: `write()` makes one over the API and answers what was acknowledged (the
response came back, so the write was committed), `missing()` lists the acknowledged writes a restarted
server no longer has. Writers run in threads, each looping until the kill; a write whose response never
came is not acknowledged and may or may not be there. To cover a new kind of durable state, write one
more `Writer` class and add it to `WRITERS`: the driver needs no change.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore import UNSIGNED

from tests.conftest import RunningParley, Setup, account_key, client, make_instance, start_parley
from tests.contract.test_attachments_views_auth import http

SERVER_ARGS = (
    "--quota-active-chats", "0", "--quota-instances", "0", "--attachments-per-chat", "0",
    "--bot-connect-timeout", "0", "--customer-connect-timeout", "0", "--log-level", "warning",
)  # fmt: skip
BOT = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}
DATA = b"%PDF-1.4\n" + bytes(range(256)) * 8


@dataclass
class World:
    """What every writer shares across restarts: the account, its instance, and the current server."""

    key: str
    setup: Setup
    url: str = ""
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)  # (service, url) -> boto3 client

    def connect(self) -> Any:
        return self._client("connect")

    def participant(self) -> Any:
        return self._client("connectparticipant", signature_version=UNSIGNED)

    def _client(self, service: str, **config: Any) -> Any:
        made = self.clients.get((service, self.url))
        if made is None:  # boto3 clients are thread-safe; making one costs more than a call
            made = self.clients[(service, self.url)] = client(service, self.url, self.key, **config)
        return made

    def chat(self) -> tuple[dict[str, Any], str]:
        """A new chat and its customer's ConnectionToken."""
        started = self.connect().start_chat_contact(
            InstanceId=self.setup.instance_id, ContactFlowId=self.setup.flow_id, ParticipantDetails={"DisplayName": "C"}
        )
        token = self.participant().create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        return started, token


class Writer(Protocol):
    name: str

    def begin(self, world: World) -> None:
        """Before a round's writes, on the new server (e.g. open the chat the round writes into)."""

    def write(self, world: World) -> None:
        """One write; records it as acknowledged once its response is back. Raises when the server is gone."""

    def missing(self, world: World) -> list[str]:
        """Every acknowledged write the server does not have."""

    def acknowledged(self) -> int:
        """How many writes were acknowledged so far."""


@dataclass
class ContactWriter:
    name: str = "contacts"
    acked: list[str] = field(default_factory=list)

    def begin(self, world: World) -> None:
        pass

    def write(self, world: World) -> None:
        started = world.connect().start_chat_contact(
            InstanceId=world.setup.instance_id,
            ContactFlowId=world.setup.flow_id,
            ParticipantDetails={"DisplayName": "C"},
        )
        self.acked.append(started["ContactId"])

    def acknowledged(self) -> int:
        return len(self.acked)

    def missing(self, world: World) -> list[str]:
        connect, lost = world.connect(), []
        for contact in self.acked:
            try:
                connect.describe_contact(InstanceId=world.setup.instance_id, ContactId=contact)
            except connect.exceptions.ResourceNotFoundException:
                lost.append(f"contact {contact}")
        return lost


@dataclass
class ParticipantWriter:
    """A custom bot added to a new chat; it is there when its ParticipantToken still opens a connection."""

    name: str = "participants"
    acked: list[tuple[str, str]] = field(default_factory=list)

    def begin(self, world: World) -> None:
        pass

    def write(self, world: World) -> None:
        contact = world.connect().start_chat_contact(
            InstanceId=world.setup.instance_id,
            ContactFlowId=world.setup.flow_id,
            ParticipantDetails={"DisplayName": "C"},
        )["ContactId"]
        bot = world.connect().create_participant(
            InstanceId=world.setup.instance_id, ContactId=contact, ParticipantDetails=BOT
        )
        self.acked.append((bot["ParticipantId"], bot["ParticipantCredentials"]["ParticipantToken"]))

    def acknowledged(self) -> int:
        return len(self.acked)

    def missing(self, world: World) -> list[str]:
        participant, lost = world.participant(), []
        for participant_id, token in self.acked:
            try:
                participant.create_participant_connection(ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"])
            except participant.exceptions.AccessDeniedException:
                lost.append(f"participant {participant_id}")
        return lost


@dataclass
class MessageWriter:
    """Messages into one chat per round; each acknowledged message id must be in that chat's transcript."""

    name: str = "messages"
    acked: dict[str, list[str]] = field(default_factory=dict)  # connection token -> message ids

    def begin(self, world: World) -> None:
        self.token = world.chat()[1]
        self.acked[self.token] = []

    def write(self, world: World) -> None:
        sent = world.participant().send_message(ConnectionToken=self.token, ContentType="text/plain", Content="m")
        self.acked[self.token].append(sent["Id"])

    def acknowledged(self) -> int:
        return sum(len(ids) for ids in self.acked.values())

    def missing(self, world: World) -> list[str]:
        participant, lost = world.participant(), list[str]()
        for token, ids in self.acked.items():
            seen: set[str] = set()
            page: dict[str, Any] = {"ConnectionToken": token, "MaxResults": 100, "ScanDirection": "FORWARD"}
            while True:
                try:
                    out = participant.get_transcript(**page)
                except participant.exceptions.AccessDeniedException:  # the chat itself is gone
                    break
                seen.update(item["Id"] for item in out["Transcript"])
                if not out.get("NextToken"):
                    break
                page["NextToken"] = out["NextToken"]
            lost.extend(f"message {m}" for m in ids if m not in seen)
        return lost


@dataclass
class AttachmentWriter:
    """Attachments uploaded and completed in one chat per round; each must download byte for byte."""

    name: str = "attachments"
    acked: list[tuple[str, str]] = field(default_factory=list)  # (connection token, attachment id)

    def begin(self, world: World) -> None:
        self.token = world.chat()[1]

    def write(self, world: World) -> None:
        participant = world.participant()
        started = participant.start_attachment_upload(
            ContentType="application/pdf",
            AttachmentSizeInBytes=len(DATA),
            AttachmentName="a.pdf",
            ConnectionToken=self.token,
        )
        meta = started["UploadMetadata"]
        status, _, _ = http("PUT", meta["Url"], DATA, meta["HeadersToInclude"])
        assert status == 200
        participant.complete_attachment_upload(AttachmentIds=[started["AttachmentId"]], ConnectionToken=self.token)
        self.acked.append((self.token, started["AttachmentId"]))

    def acknowledged(self) -> int:
        return len(self.acked)

    def missing(self, world: World) -> list[str]:
        participant, lost = world.participant(), []
        for token, attachment in self.acked:
            try:
                url = participant.get_attachment(AttachmentId=attachment, ConnectionToken=token)["Url"]
            except (participant.exceptions.ResourceNotFoundException, participant.exceptions.AccessDeniedException):
                lost.append(f"attachment {attachment}")
                continue
            if http("GET", url)[2] != DATA:
                lost.append(f"attachment {attachment} (other bytes)")
        return lost


@dataclass
class FlowRunWriter:
    """A chat whose customer connects, so its flow runs (the default inbound flow queues it); acknowledged
    once GET /_parley/contacts/{id}/flow?wait=idle says the run settled. It is there when the restarted
    server shows the same run state with at least the acknowledged trail."""

    name: str = "flow runs"
    acked: list[tuple[str, str, int]] = field(default_factory=list)  # (contact, state, trail steps)

    def begin(self, world: World) -> None:
        pass

    def write(self, world: World) -> None:
        started = world.connect().start_chat_contact(
            InstanceId=world.setup.instance_id,
            ContactFlowId=world.setup.flow_id,
            ParticipantDetails={"DisplayName": "C"},
        )
        world.participant().create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )
        run = _flow(world, started["ContactId"], "?wait=idle&timeout=10")
        assert run is not None, started["ContactId"]
        self.acked.append((started["ContactId"], run["state"], len(run["trail"])))

    def acknowledged(self) -> int:
        return len(self.acked)

    def missing(self, world: World) -> list[str]:
        lost = []
        for contact, state, steps in self.acked:
            run = _flow(world, contact)
            if run is None or run["state"] != state or len(run["trail"]) < steps:
                lost.append(f"flow run of {contact}: acknowledged {state} after {steps} steps, now {run}")
        return lost


@dataclass
class StreamWriter:
    """Messages into a chat that streams to an SNS topic (captured: no route): each acknowledged message
    committed its outbox row with it, so the restarted server's stream counts (delivered, pending,
    retrying, dead, filtered) add up to at least the messages acknowledged."""

    name: str = "streamed messages"
    acked: dict[str, int] = field(default_factory=dict)  # StreamingId -> messages acknowledged

    def begin(self, world: World) -> None:
        started, self.token = world.chat()
        self.stream = world.connect().start_contact_streaming(
            InstanceId=world.setup.instance_id,
            ContactId=started["ContactId"],
            ChatStreamingConfiguration={"StreamingEndpointArn": f"arn:aws:sns:us-east-1:{world.key}:crash"},
            ClientToken=uuid.uuid4().hex,
        )["StreamingId"]
        self.acked[self.stream] = 0

    def write(self, world: World) -> None:
        world.participant().send_message(ConnectionToken=self.token, ContentType="text/plain", Content="s")
        self.acked[self.stream] += 1

    def acknowledged(self) -> int:
        return sum(self.acked.values())

    def missing(self, world: World) -> list[str]:
        lost = []
        for stream, count in self.acked.items():
            status, _, body = http("GET", f"{world.url}/_parley/streams/{stream}")
            counts = json.loads(body).get("counts", {}) if status == 200 else {}
            if sum(counts.values()) < count:
                lost.append(f"stream {stream}: {count} messages acknowledged, the outbox accounts for {counts}")
        return lost


def _flow(world: World, contact: str, query: str = "") -> dict[str, Any] | None:
    status, _, body = http("GET", f"{world.url}/_parley/contacts/{contact}/flow{query}")
    if status == 404:
        return None
    assert status == 200, (status, body[:300])
    run: dict[str, Any] = json.loads(body)
    return run


# Each kind of durable write; a new one joins here with its own Writer.
WRITERS: tuple[Callable[[], Writer], ...] = (
    ContactWriter,
    ParticipantWriter,
    MessageWriter,
    AttachmentWriter,
    FlowRunWriter,
    StreamWriter,
)


def integrity(data_dir: Path) -> str:
    """`PRAGMA integrity_check` of the store a killed server left (this also replays its WAL, as a restart does)."""
    database = sqlite3.connect(data_dir / "parley.sqlite3")
    try:
        return "; ".join(row[0] for row in database.execute("PRAGMA integrity_check"))
    finally:
        database.close()


def _loop(writer: Writer, world: World, killed: threading.Event, errors: list[str]) -> None:
    while True:
        try:
            writer.write(world)
        except Exception as error:  # the server was killed mid-request: this write is not acknowledged
            if not killed.is_set():  # ...unless it was not killed yet: then the write failed
                errors.append(f"{writer.name}: {type(error).__name__}: {error}")
            return


@dataclass
class Report:
    kills: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # writes that failed while the server was up
    seconds: float = 0.0


def crash_rounds(data_dir: Path, kills: int, seed: int, threads_per_writer: int = 1) -> Report:
    """`kills` rounds of: start (or restart) on `data_dir`, check every acknowledged write so far, write
    concurrently, SIGKILL at a random moment, check the database's integrity. Then a last restart and check."""
    rng, report, started = random.Random(seed), Report(), time.monotonic()
    writers = [make() for make in WRITERS]
    world: World | None = None
    for _ in range(kills):
        server = start_parley("--data-dir", str(data_dir), *SERVER_ARGS)
        world = _check(server, world, writers, report)
        for writer in writers:
            writer.begin(world)
        killed = threading.Event()
        threads = [
            threading.Thread(target=_loop, args=(w, world, killed, report.errors), daemon=True)
            for w in writers
            for _ in range(threads_per_writer)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.2))
        killed.set()
        server.process.kill()  # SIGKILL: no shutdown, no final commit
        server.stop()
        for thread in threads:
            thread.join(timeout=30)
        report.kills += 1
        result = integrity(data_dir)
        if result != "ok":
            report.integrity.append(result)
    server = start_parley("--data-dir", str(data_dir), *SERVER_ARGS)
    _check(server, world, writers, report)
    server.stop()
    report.acknowledged = {writer.name: writer.acknowledged() for writer in writers}
    report.seconds = time.monotonic() - started
    return report


def _check(server: RunningParley, world: World | None, writers: list[Writer], report: Report) -> World:
    if world is None:
        key = account_key()
        world = World(key, make_instance(client("connect", server.url, key)), server.url)
    world.url = server.url
    for writer in writers:
        report.lost.extend(writer.missing(world))
    return world
