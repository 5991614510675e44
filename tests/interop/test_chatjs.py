"""amazon-connect-chatjs 5.0.0 under Node as the customer of a real Parley chat (stream.md §7).

The customer is `chatjs/harness.js` (one process, JSON lines in and out); a CUSTOM_BOT is added with
boto3's CreateParticipant and talks through boto3's `connectparticipant` client and its own WebSocket;
an agent joins through the admin API. Nothing is mocked: real processes, real HTTP, real sockets.
"""

from __future__ import annotations

import base64
import collections
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.conftest import RunningParley, client, make_instance, start_chat, start_parley
from tests.interop.node import node_or_skip as interop_node

CHATJS = Path(__file__).resolve().parent / "chatjs"
EVENT = "application/vnd.amazonaws.connect.event."
JOINED, LEFT, ENDED, TYPING = (
    EVENT + "participant.joined",
    EVENT + "participant.left",
    EVENT + "chat.ended",
    EVENT + "typing",
)
CREATE_CONNECTION = " connectparticipant.CreateParticipantConnection "
WAIT = 10.0


def node_or_skip() -> str:
    return interop_node(
        CHATJS / "node_modules" / "amazon-connect-chatjs",
        "chatjs",
        "amazon-connect-chatjs is not installed: run `npm ci --prefix tests/interop/chatjs` (make test does)",
    )


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Polls `condition` (e.g. over the server's log lines) until it is truthy; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


class Stream:
    """Records from a reader thread, with bounded waits on them."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Condition()

    def add(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.records.append(record)
            self.lock.notify_all()

    def __str__(self) -> str:
        return ""

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.records)

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], what: str, since: int = 0, timeout: float = WAIT
    ) -> dict[str, Any]:
        """The first record at index >= `since` that matches."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for record in self.records[since:]:
                    if match(record):
                        return record
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = "\n".join(json.dumps(r)[:400] for r in self.records[-25:])
                    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last records:\n{tail}\n{self}")
                self.lock.wait(left)


class Harness(Stream):
    """`node harness.js` as a chatjs CUSTOMER: its JSON lines, and commands written to its stdin."""

    def __init__(self, server: RunningParley, started: dict[str, Any], log: Path) -> None:
        super().__init__()
        config = {
            "endpoint": server.url,
            "contactId": started["ContactId"],
            "participantId": started["ParticipantId"],
            "participantToken": started["ParticipantToken"],
            "throttleTime": 200,
        }
        self.log = log
        self._stderr = log.open("w")
        self.process = subprocess.Popen(
            [node_or_skip(), str(CHATJS / "harness.js"), json.dumps(config)],
            cwd=CHATJS,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._ids = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                record = {"event": "stdout", "line": line.rstrip("\n")}
            self.add(record)
        self.add({"event": "exited"})

    def __str__(self) -> str:
        self._stderr.flush()
        lines = self.log.read_text(errors="replace").splitlines()
        return "harness stderr (tail):\n" + "\n".join(line[:300] for line in lines[-15:])

    def command(self, op: str, timeout: float = WAIT, **fields: Any) -> dict[str, Any]:
        """Runs one command and returns its result's `data`; fails if chatjs rejected it."""
        self._ids += 1
        ident = self._ids
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, "id": ident, **fields}) + "\n")
        self.process.stdin.flush()
        result = self.wait_for(
            lambda r: r["event"] == "result" and r.get("id") == ident, f"the {op} result", 0, timeout
        )
        assert result["ok"], f"{op} failed in chatjs: {result.get('error')}"
        data: dict[str, Any] = result["data"]
        return data

    def hook(self, name: str, content_type: str | None = None, since: int = 0, **item: Any) -> dict[str, Any]:
        """Waits for the chatjs hook `name`, optionally carrying an item with that ContentType and members."""

        def match(record: dict[str, Any]) -> bool:
            got = record.get("item") or {}
            if record["event"] != name or (content_type and got.get("ContentType") != content_type):
                return False
            return all(got.get(key) == value for key, value in item.items())

        return self.wait_for(match, f"{name} {content_type or ''} {item or ''}", since)

    def pushed(self, item_id: str) -> int:
        """How many times chatjs delivered the item with this Id through onMessage."""
        return sum(
            1 for r in self.snapshot() if r["event"] == "onMessage" and (r.get("item") or {}).get("Id") == item_id
        )

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps({"op": "exit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


class ItemSocket(Stream):
    """A participant's own WebSocket (the Python `websockets` client): subscribes, then records every item."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.ws = ws_connect(url, open_timeout=5)
        self.subscribed = threading.Event()
        self.close_code: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.ws.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
        assert self.subscribed.wait(5), "no subscribe ack"

    def _read(self) -> None:
        try:
            for text in self.ws:
                frame = json.loads(text)
                if frame.get("topic") == "aws/subscribe":
                    assert frame["content"] == {"status": "success", "topics": ["aws/chat"]}
                    self.subscribed.set()
                elif frame.get("topic") == "aws/chat":
                    assert frame["contentType"] == "application/json" and isinstance(frame["content"], str)
                    self.add(json.loads(frame["content"]))
        except ConnectionClosed:
            pass
        self.close_code = self.ws.close_code

    def item(self, content_type: str, since: int = 0, **members: Any) -> dict[str, Any]:
        def match(item: dict[str, Any]) -> bool:
            return item.get("ContentType") == content_type and all(item.get(k) == v for k, v in members.items())

        return self.wait_for(match, f"an item {content_type} {members}", since)

    def receipt(self, message_id: str, stamp: str, reader: str) -> dict[str, Any]:
        def match(item: dict[str, Any]) -> bool:
            metadata = item.get("MessageMetadata") or {}
            receipts = metadata.get("Receipts") or [{}]
            return (
                item.get("Type") == "MESSAGEMETADATA"
                and metadata.get("MessageId") == message_id
                and receipts[0].get("RecipientParticipantId") == reader
                and bool(receipts[0].get(stamp))
            )

        return self.wait_for(match, f"a {stamp} receipt for {message_id}")

    def close(self) -> None:
        self.ws.close()
        self._reader.join(timeout=5)


def admin(server: RunningParley, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.url}/_parley/{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def log_count(server: RunningParley, needle: str) -> int:
    return sum(1 for line in list(server.lines) if needle in line)


def denied(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError as error:
        response = error.response
        return bool(
            response["Error"]["Code"] == "AccessDeniedException"
            and response["ResponseMetadata"]["HTTPStatusCode"] == 403
        )
    return False


class Session:
    """A started chat with chatjs connected as its customer, plus boto3 clients for the other parties."""

    def __init__(self, server: RunningParley, tmp: Path) -> None:
        self.server = server
        self.connect = client("connect", server.url)
        self.setup = make_instance(self.connect)
        self.started = start_chat(self.connect, self.setup, SupportedMessagingContentTypes=["text/plain"])
        self.contact_id: str = self.started["ContactId"]
        self.customer_id: str = self.started["ParticipantId"]
        self.cp = client("connectparticipant", server.url, signature_version=UNSIGNED)
        self.sockets: list[ItemSocket] = []
        self.harness = Harness(server, self.started, tmp / "harness.stderr")
        try:
            first = self.harness.wait_for(lambda r: r["event"] in ("ready", "connectFailed", "exited"), "a connection")
            assert first["event"] == "ready", f"chatjs did not connect: {first}\n{self.harness}"
            self.wait_subscribed(1)
        except BaseException:
            self.harness.close()
            raise

    def wait_subscribed(self, count: int) -> None:
        """chatjs reports a connection when its socket opens; pushes start once it has subscribed."""
        needle = f"ws.subscribe contact={self.contact_id}"
        wait_until(lambda: log_count(self.server, needle) >= count, WAIT, f"{count} subscribe(s) of the contact")

    def add_bot(self, websocket: bool) -> tuple[str, str, ItemSocket | None]:
        """CreateParticipant(CUSTOM_BOT), then CreateParticipantConnection with ConnectParticipant."""
        bot = self.connect.create_participant(
            InstanceId=self.setup.instance_id,
            ContactId=self.contact_id,
            ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
        )
        types = ["CONNECTION_CREDENTIALS", *(["WEBSOCKET"] if websocket else [])]
        out = self.cp.create_participant_connection(
            ParticipantToken=bot["ParticipantCredentials"]["ParticipantToken"], Type=types, ConnectParticipant=True
        )
        socket = ItemSocket(out["Websocket"]["Url"]) if websocket else None
        if socket is not None:
            self.sockets.append(socket)
        return bot["ParticipantId"], out["ConnectionCredentials"]["ConnectionToken"], socket

    def say(self, token: str, text: str) -> str:
        message_id: str = self.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content=text)["Id"]
        return message_id

    def transcript(self, token: str) -> list[dict[str, Any]]:
        out = self.cp.get_transcript(
            ConnectionToken=token, ContactId=self.contact_id, MaxResults=100, SortOrder="ASCENDING"
        )
        assert "NextToken" not in out
        items: list[dict[str, Any]] = out["Transcript"]
        return items

    def close(self) -> None:
        self.harness.close()
        for socket in self.sockets:
            socket.close()


@pytest.fixture(autouse=True)
def _node() -> None:
    node_or_skip()  # before any server starts


@pytest.fixture
def server() -> Iterator[RunningParley]:
    running = start_parley()
    yield running
    running.stop()


def messages(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(i["ParticipantRole"], i["Content"], i["Id"]) for i in items if i["Type"] == "MESSAGE"]


def test_chatjs_customer_with_a_custom_bot_then_an_agent(server: RunningParley, tmp_path: Path) -> None:
    chat = Session(server, tmp_path)
    harness = chat.harness
    try:
        sent: list[tuple[str, str, str]] = []

        # A custom bot joins through boto3 and connects its own socket.
        bot_id, bot_token, bot_socket = chat.add_bot(websocket=True)
        assert bot_socket is not None
        harness.hook("onMessage", JOINED, ParticipantId=bot_id, ParticipantRole="CUSTOM_BOT")

        # Bot -> customer, and customer -> bot: every message reaches every socket, the sender's included.
        for text in ("Hi, I am the bot. What do you need?", "I can also answer in two messages."):
            message_id = chat.say(bot_token, text)
            sent.append(("CUSTOM_BOT", text, message_id))
            got = harness.hook("onMessage", "text/plain", Id=message_id)["item"]
            assert (got["Type"], got["Content"], got["ParticipantRole"]) == ("MESSAGE", text, "CUSTOM_BOT")
            assert got["ParticipantId"] == bot_id and got["ContactId"] == chat.contact_id
            bot_socket.item("text/plain", Id=message_id)
        (_, _, bot_first), (_, _, bot_second) = sent
        reply = harness.command("send", content="My parcel is late.")
        sent.append(("CUSTOMER", "My parcel is late.", reply["Id"]))
        got = bot_socket.item("text/plain", Id=reply["Id"])
        assert (got["Content"], got["ParticipantRole"], got["ParticipantId"]) == (
            "My parcel is late.",
            "CUSTOMER",
            chat.customer_id,
        )
        harness.hook("onMessage", "text/plain", Id=reply["Id"], ParticipantRole="CUSTOMER")  # own message comes back

        # Typing, both ways.
        harness.command("typing")
        typing = bot_socket.item(TYPING, ParticipantId=chat.customer_id)
        assert typing["ParticipantRole"] == "CUSTOMER" and typing["Type"] == "EVENT"
        chat.cp.send_event(ConnectionToken=bot_token, ContentType=TYPING)
        harness.hook("onTyping", TYPING, ParticipantId=bot_id, ParticipantRole="CUSTOM_BOT")

        # Receipts from chatjs (constant ClientTokens INCOMING_*_RECEIPT) reach the bot as MESSAGEMETADATA.
        harness.command("read", messageId=bot_first)
        bot_socket.receipt(bot_first, "ReadTimestamp", chat.customer_id)
        harness.command("delivered", messageId=bot_second)
        bot_socket.receipt(bot_second, "DeliveredTimestamp", chat.customer_id)
        harness.command("read", messageId=bot_second)
        bot_socket.receipt(bot_second, "ReadTimestamp", chat.customer_id)
        # ... and the bot's receipts reach chatjs's onDeliveredReceipt / onReadReceipt.
        for kind, hook in (("delivered", "onDeliveredReceipt"), ("read", "onReadReceipt")):
            chat.cp.send_event(
                ConnectionToken=bot_token,
                ContentType=EVENT + f"message.{kind}",
                Content=json.dumps({"messageId": reply["Id"]}),
            )

            def is_receipt(r: dict[str, Any], hook: str = hook) -> bool:
                return bool(r["event"] == hook and r["item"]["MessageMetadata"]["MessageId"] == reply["Id"])

            receipt = harness.wait_for(is_receipt, f"{hook} for the customer's message")["item"]
            assert receipt["Type"] == "MESSAGEMETADATA"
            assert receipt["MessageMetadata"]["Receipts"][0]["RecipientParticipantId"] == bot_id
        own = [r for r in harness.snapshot() if r["event"] in ("onReadReceipt", "onDeliveredReceipt")]
        assert all(r["item"]["MessageMetadata"]["MessageId"] == reply["Id"] for r in own), (
            "chatjs showed its own receipt"
        )

        # An agent joins through the admin API: the bot is disconnected and its tokens stop working.
        agent = admin(server, f"contacts/{chat.contact_id}/agent", {"action": "join", "displayName": "Agent"})
        bot_socket.item(LEFT, ParticipantId=bot_id, ParticipantRole="CUSTOM_BOT")
        harness.hook("onMessage", LEFT, ParticipantId=bot_id)
        harness.hook("onMessage", JOINED, ParticipantId=agent["ParticipantId"], ParticipantRole="AGENT")
        assert denied(lambda: chat.say(bot_token, "still here?"))
        agent_out = chat.cp.create_participant_connection(
            ParticipantToken=agent["ParticipantToken"],
            Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"],
            ConnectParticipant=True,
        )
        agent_token = agent_out["ConnectionCredentials"]["ConnectionToken"]
        agent_socket = ItemSocket(agent_out["Websocket"]["Url"])
        chat.sockets.append(agent_socket)

        # Agent <-> customer.
        hello = chat.say(agent_token, "Hello, this is Agent. Let me check.")
        sent.append(("AGENT", "Hello, this is Agent. Let me check.", hello))
        got = harness.hook("onMessage", "text/plain", Id=hello)["item"]
        assert (got["ParticipantRole"], got["ParticipantId"], got["DisplayName"]) == (
            "AGENT",
            agent["ParticipantId"],
            "Agent",
        )
        thanks = harness.command("send", content="Thank you!")
        sent.append(("CUSTOMER", "Thank you!", thanks["Id"]))
        assert agent_socket.item("text/plain", Id=thanks["Id"])["ParticipantRole"] == "CUSTOMER"

        # The transcript, from the agent and from chatjs: what was sent, in order, once each.
        from_agent = chat.transcript(agent_token)
        from_chatjs = harness.command("transcript")["Transcript"]
        assert messages(from_agent) == sent
        assert messages(from_chatjs) == sent
        assert [i["Id"] for i in from_chatjs] == [i["Id"] for i in from_agent]
        assert len({i["Id"] for i in from_agent}) == len(from_agent), "duplicate items in the transcript"
        assert not [i for i in from_agent if i.get("ContentType") == TYPING], "typing is transient"
        events = [(i["ContentType"], i.get("ParticipantRole")) for i in from_agent if i["Type"] == "EVENT"]
        assert events == [
            (JOINED, "CUSTOMER"),
            (JOINED, "CUSTOM_BOT"),
            (LEFT, "CUSTOM_BOT"),
            (JOINED, "AGENT"),
        ]
        pushed = collections.Counter(
            r["item"]["Id"] for r in harness.snapshot() if r["event"] == "onMessage" and r["item"]["Type"] == "MESSAGE"
        )
        assert pushed == collections.Counter(message_id for _, _, message_id in sent), "lost or duplicated pushes"

        # The customer leaves through chatjs: everyone still there sees participant.left then chat.ended.
        mark = len(harness.snapshot())
        harness.command("disconnect")
        left = harness.hook("onMessage", LEFT, since=mark, ParticipantId=chat.customer_id, ParticipantRole="CUSTOMER")
        ended = harness.hook("onMessage", ENDED, since=mark)
        harness.hook("onEnded", since=mark)
        assert harness.snapshot().index(left) < harness.snapshot().index(ended)
        left = agent_socket.item(LEFT, ParticipantId=chat.customer_id, ParticipantRole="CUSTOMER")
        ended = agent_socket.item(ENDED)
        assert agent_socket.snapshot().index(left) < agent_socket.snapshot().index(ended)
        assert "ParticipantId" not in ended and ended["ContactId"] == chat.contact_id
        assert denied(lambda: chat.say(agent_token, "anyone?"))
        # chatjs closes its own socket (1000) once chat.ended arrives.
        wait_until(lambda: log_count(server, f"ws.close 1000 contact={chat.contact_id}") >= 1, WAIT, "chatjs to close")
        assert not [r for r in harness.snapshot() if r["event"] in ("onConnectionLost", "onConnectionBroken")]
    finally:
        chat.close()


def test_chatjs_reconnects_after_a_dropped_socket(server: RunningParley, tmp_path: Path) -> None:
    chat = Session(server, tmp_path)
    harness = chat.harness
    try:
        _, bot_token, _ = chat.add_bot(websocket=False)
        before = chat.say(bot_token, "before the drop")
        harness.hook("onMessage", "text/plain", Id=before)
        calls = log_count(server, CREATE_CONNECTION)
        mark = len(harness.snapshot())

        dropped_at = time.monotonic()
        assert admin(server, f"contacts/{chat.contact_id}/sockets", {"action": "drop"}) == {"dropped": 1}
        gap = chat.say(bot_token, "while the socket is down")  # never replayed: chatjs reads it from the transcript
        lost = harness.hook("onConnectionLost", since=mark)
        back = harness.wait_for(
            lambda r: r["event"] == "onConnectionEstablished" and r.get("source") == "socket",
            "chatjs to reconnect",
            since=harness.snapshot().index(lost),
        )
        chat.wait_subscribed(2)
        harness.hook("onDeepHeartbeatSuccess", since=harness.snapshot().index(back))  # aws/ping on the new socket
        print(f"reconnected {back['t'] - lost['t']} ms after onConnectionLost")

        after = chat.say(bot_token, "after the reconnect")
        harness.hook("onMessage", "text/plain", since=mark, Id=after)
        transcript = harness.command("transcript")["Transcript"]
        assert [m[2] for m in messages(transcript)] == [before, gap, after]
        assert len({i["Id"] for i in transcript}) == len(transcript)

        # A quiet period: no late duplicate, and no retry loop (one CreateParticipantConnection per reconnect).
        time.sleep(max(0.0, 10.0 - (time.monotonic() - dropped_at)))
        assert (harness.pushed(before), harness.pushed(after)) == (1, 1)
        assert harness.pushed(gap) <= 1
        print(f"the item sent during the gap was pushed {harness.pushed(gap)} time(s)")
        new_calls = log_count(server, CREATE_CONNECTION) - calls
        print(f"CreateParticipantConnection calls in the 10 s after the drop: {new_calls}")
        assert 1 <= new_calls <= 5, f"{new_calls} CreateParticipantConnection calls in 10 s"
        assert log_count(server, f"ws.open contact={chat.contact_id}") <= 3
        assert not [r for r in harness.snapshot() if r["event"] in ("onConnectionBroken", "onEnded")]
    finally:
        chat.close()


def test_chatjs_sends_and_downloads_an_attachment(server: RunningParley, tmp_path: Path) -> None:
    """chatjs's sendAttachment: StartAttachmentUpload, a fetch PUT to Parley's upload URL, Complete;
    the bot sees the ATTACHMENT item; an agent downloads it with boto3 and chatjs downloads it back."""
    chat = Session(server, tmp_path)
    harness = chat.harness
    data = bytes(range(256)) * 64
    try:
        _, _, bot_socket = chat.add_bot(websocket=True)
        assert bot_socket is not None
        harness.command(
            "attach", name="report.pdf", contentType="application/pdf", base64=base64.b64encode(data).decode()
        )
        pushed = bot_socket.wait_for(lambda i: i.get("Type") == "ATTACHMENT", "the ATTACHMENT item on the bot's socket")
        (attachment,) = pushed["Attachments"]
        assert (attachment["AttachmentName"], attachment["ContentType"], attachment["Status"]) == (
            "report.pdf",
            "application/pdf",
            "APPROVED",
        )
        assert pushed["ParticipantId"] == chat.customer_id
        harness.hook("onMessage", None, Id=pushed["Id"])  # the customer sees its own attachment

        agent = admin(server, f"contacts/{chat.contact_id}/agent", {"action": "join", "displayName": "Agent"})
        agent_token = chat.cp.create_participant_connection(
            ParticipantToken=agent["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        url = chat.cp.get_attachment(AttachmentId=attachment["AttachmentId"], ConnectionToken=agent_token)["Url"]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == data
        back = harness.command("download", attachmentId=attachment["AttachmentId"])
        assert (base64.b64decode(back["base64"]), back["type"]) == (data, "application/pdf")
    finally:
        chat.close()


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_chatjs_refreshes_an_expiring_connection_token(tmp_path: Path) -> None:
    server = start_parley(env={"PARLEY_CONNECTION_TOKEN_SECONDS": "125"})
    chat: Session | None = None
    try:
        chat = Session(server, tmp_path)
        harness = chat.harness
        connected = time.monotonic()
        _, bot_token, _ = chat.add_bot(websocket=False)
        probe = chat.cp.create_participant_connection(
            ParticipantToken=chat.started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )
        expiry = datetime.strptime(probe["ConnectionCredentials"]["Expiry"], "%Y-%m-%dT%H:%M:%S.%fZ")
        left = (expiry.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
        assert 120 < left <= 126, f"ConnectionCredentials.Expiry is {left:.1f} s ahead"
        before = chat.say(bot_token, "before the refresh")
        harness.hook("onMessage", "text/plain", Id=before)
        calls = log_count(server, CREATE_CONNECTION)

        # chatjs refreshes 60 s before Expiry, i.e. about 65 s after it connected.
        wait_until(lambda: log_count(server, CREATE_CONNECTION) > calls, 80, "chatjs to refresh its ConnectionToken")
        refreshed = time.monotonic() - connected
        print(f"chatjs refreshed its ConnectionToken {refreshed:.1f} s after connecting")
        assert 55 < refreshed < 75

        after = chat.say(bot_token, "after the refresh")
        harness.hook("onMessage", "text/plain", Id=after)
        reply = harness.command("send", content="still here")  # with the refreshed ConnectionToken
        transcript = harness.command("transcript")["Transcript"]
        assert [m[2] for m in messages(transcript)] == [before, after, reply["Id"]]
        time.sleep(1.0)  # a quiet second: no late duplicate, no second refresh
        assert (harness.pushed(before), harness.pushed(after), harness.pushed(reply["Id"])) == (1, 1, 1)
        new_calls = log_count(server, CREATE_CONNECTION) - calls
        assert new_calls == 1, f"{new_calls} CreateParticipantConnection calls for one refresh"
        assert log_count(server, f"ws.open contact={chat.contact_id}") == 1, "the refresh must keep the socket"
        events = collections.Counter(r["event"] for r in harness.snapshot())
        assert events["onConnectionLost"] == events["onConnectionBroken"] == events["onDeepHeartbeatFailure"] == 0
        assert events["onDeepHeartbeatSuccess"] >= 6, "chatjs pings every 10 s and Parley answers each"
    finally:
        if chat is not None:
            chat.close()
        server.stop()
