"""StartContactStreaming / StopContactStreaming (streaming.md §1), what is streamed (§2, §3), and Parley's own
targets (§4): the in-process callable, a webhook receiving SNS HTTP notifications, and `lambda:NAME` running a
real Python handler with the SNS event record. Real boto3 against an in-process Parley on a real socket."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import parley
from tests.conftest import client, make_instance
from tests.contract.chat_helpers import Socket, join, participant_client
from tests.contract.stream_helpers import (
    ACCOUNT,
    EVENT,
    TOPIC,
    Receiver,
    expected_attributes,
    messages_of,
    sns_attributes,
    wait_for,
)

OTHER = f"arn:aws:sns:us-east-1:{ACCOUNT}:second"


class Collected:
    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []
        self.threads: set[str] = set()

    def __call__(self, note: dict[str, Any]) -> None:
        self.threads.add(threading.current_thread().name)
        self.notes.append(note)


@pytest.fixture(scope="module")
def collected() -> Collected:
    return Collected()


@pytest.fixture(scope="module")
def server(collected: Collected) -> Iterator[parley.Server]:
    with parley.Server(sns={"chatStreaming": collected}, quota_active_chats=0, quota_instances=0) as running:
        yield running


def _chat(server: parley.Server, **extra: Any) -> tuple[Any, Any, Any, dict[str, Any]]:
    connect = client("connect", server.endpoint_url, key=ACCOUNT)
    setup = make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Jane"},
        **extra,
    )
    return connect, setup, participant_client(server.endpoint_url), started


def _streams(server: parley.Server, contact_id: str) -> list[dict[str, Any]]:
    status, payload = server.admin.request("GET", f"/_parley/streams?contact={contact_id}")
    assert status == 200
    found: list[dict[str, Any]] = payload["streams"]
    return found


def _of_contact(collected: Collected, contact_id: str) -> list[dict[str, Any]]:
    return [n for n in collected.notes if sns_attributes(n)["InitialContactId"] == contact_id]


def _code(error: pytest.ExceptionInfo[Exception]) -> str:
    return str(error.value.response["Error"]["Code"])  # type: ignore[attr-defined]


# -- §1: the operations -------------------------------------------------------------------------------
def test_start_chat_with_streaming_streams_every_item_from_the_first(server: Any, collected: Collected) -> None:
    _connect, setup, cp, started = _chat(
        server,
        ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
        InitialMessage={"ContentType": "text/plain", "Content": "hello"},
    )
    customer = join(cp, started["ParticipantToken"], started["ParticipantId"])
    socket = Socket(customer.websocket_url or "")
    cp.send_event(ConnectionToken=customer.connection_token, ContentType=EVENT + "typing")
    cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="help")
    pushed = [socket.item(), socket.item()]
    cp.disconnect_participant(ConnectionToken=customer.connection_token)
    pushed += [socket.item(), socket.item()]
    socket.close()
    contact = started["ContactId"]
    wait_for(lambda: len(_of_contact(collected, contact)) == 6, what="six notifications")
    notes = _of_contact(collected, contact)
    bodies = messages_of(notes)
    kinds = [b.get("ContentType") for b in bodies]
    assert kinds == [
        EVENT + "participant.joined",
        "text/plain",  # the InitialMessage
        EVENT + "typing",
        "text/plain",
        EVENT + "participant.left",
        EVENT + "chat.ended",
    ]
    assert bodies[2:] == pushed  # exactly as pushed on the WebSocket
    for note, body in zip(notes, bodies, strict=True):
        assert note["Type"] == "Notification" and note["TopicArn"] == TOPIC and note["SignatureVersion"] == "1"
        assert sns_attributes(note) == expected_attributes(body, setup.instance_id)
        assert note["SigningCertURL"] == f"{server.endpoint_url}/_parley/sns/cert.pem"
    assert "ParticipantRole" not in sns_attributes(notes[-1])
    assert all(name.startswith("parley-sns") for name in collected.threads)
    wait_for(lambda: _streams(server, contact)[0]["counts"]["delivered"] == 6)  # recorded every 50 ms
    [stream] = _streams(server, contact)
    assert stream["StreamingId"] == started["StreamingId"] and stream["state"] == "ended"
    assert stream["target"] == "python" and stream["counts"]["delivered"] == 6


def test_start_contact_streaming_rules(server: Any, collected: Collected) -> None:
    connect, setup, cp, started = _chat(server)
    contact = started["ContactId"]
    assert started.get("StreamingId") is None

    def start(arn: str, token: str) -> str:
        out = connect.start_contact_streaming(
            InstanceId=setup.instance_id,
            ContactId=contact,
            ChatStreamingConfiguration={"StreamingEndpointArn": arn},
            ClientToken=token,
        )
        return str(out["StreamingId"])

    first = start(TOPIC, "a")
    assert start(TOPIC, "a") == first  # ClientToken replay
    assert start(TOPIC, "b") == first  # an active stream's topic answers that stream (PARLEY_STREAM_DUPLICATE=same)
    second = start(f"arn:aws:sns:us-east-1:210987654321:{OTHER.rsplit(':', 1)[1]}", "c")  # another account is fine
    assert second != first
    with pytest.raises(Exception) as third:
        start(f"arn:aws:sns:us-east-1:{ACCOUNT}:third", "d")
    assert _code(third) == "LimitExceededException"
    for bad in ("not-an-arn", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q", f"arn:aws:sns:eu-west-1:{ACCOUNT}:chatStreaming"):
        with pytest.raises(Exception) as refused:
            start(bad, f"bad-{bad}")
        assert _code(refused) == "InvalidRequestException", bad
    with pytest.raises(Exception) as missing:
        connect.start_contact_streaming(
            InstanceId=setup.instance_id,
            ContactId="00000000-0000-0000-0000-000000000000",
            ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
            ClientToken="e",
        )
    assert _code(missing) == "ResourceNotFoundException"

    # Stop: nothing new is queued; stopping again is fine; an unknown StreamingId is not found
    connect.stop_contact_streaming(InstanceId=setup.instance_id, ContactId=contact, StreamingId=first)
    connect.stop_contact_streaming(InstanceId=setup.instance_id, ContactId=contact, StreamingId=first)
    with pytest.raises(Exception) as unknown:
        connect.stop_contact_streaming(
            InstanceId=setup.instance_id, ContactId=contact, StreamingId="00000000-0000-0000-0000-000000000000"
        )
    assert _code(unknown) == "ResourceNotFoundException"
    customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
    cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="after stop")
    restarted = start(TOPIC, "f")
    assert restarted not in (first, second)  # a restart gets a new StreamingId
    cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="after restart")
    wait_for(lambda: any(b.get("Content") == "after restart" for b in messages_of(_of_contact(collected, contact))))
    contents = [b.get("Content") for b in messages_of(_of_contact(collected, contact))]
    assert contents == ["after restart"]  # "after stop" went only to the other topic's stream (captured)
    captured = server.admin.request("GET", f"/_parley/sns/messages?topic=second&contact={contact}")[1]["messages"]
    assert [json.loads(n["Message"]).get("Content") for n in captured] == ["after stop", "after restart"]

    connect.stop_contact(InstanceId=setup.instance_id, ContactId=contact)
    connect.stop_contact_streaming(InstanceId=setup.instance_id, ContactId=contact, StreamingId=restarted)  # ended: 200
    with pytest.raises(Exception) as ended:
        start(f"arn:aws:sns:us-east-1:{ACCOUNT}:late", "g")
    assert _code(ended) == "InvalidRequestException"
    states = {s["StreamingId"]: s["state"] for s in _streams(server, contact)}
    assert states == {first: "stopped", second: "ended", restarted: "ended"}


def test_a_call_cannot_stream(server: Any) -> None:
    connect = client("connect", server.endpoint_url, key=ACCOUNT)
    setup = make_instance(connect)
    call = connect.start_web_rtc_contact(
        InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "Caller"}
    )
    with pytest.raises(Exception) as refused:
        connect.start_contact_streaming(
            InstanceId=setup.instance_id,
            ContactId=call["ContactId"],
            ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
            ClientToken="voice",
        )
    assert _code(refused) == "InvalidRequestException"


def test_unrouted_topics_can_be_refused() -> None:
    with parley.Server(sns_unrouted="reject") as strict:
        connect = client("connect", strict.endpoint_url, key=ACCOUNT)
        setup = make_instance(connect)
        with pytest.raises(Exception) as refused:
            connect.start_chat_contact(
                InstanceId=setup.instance_id,
                ContactFlowId=setup.flow_id,
                ParticipantDetails={"DisplayName": "Jane"},
                ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
            )
        assert _code(refused) == "InvalidRequestException"
        assert "--sns" in str(refused.value)


# -- §4.2: the webhook ----------------------------------------------------------------------------
def test_a_webhook_receives_signed_sns_http_notifications() -> None:
    receiver = Receiver().start()
    try:
        with parley.Server(sns={"chatStreaming": receiver.url}) as running:
            _connect, setup, _cp, started = _chat(
                running,
                ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
                InitialMessage={"ContentType": "text/plain", "Content": "hi"},
            )
            wait_for(lambda: len(receiver.accepted) == 2, what="two webhook posts")
            with urllib.request.urlopen(running.endpoint_url + "/_parley/sns/cert.pem", timeout=10) as response:
                cert = x509.load_pem_x509_certificate(response.read())
    finally:
        receiver.stop()
    for got in receiver.accepted:
        note = got.body
        assert got.path == "/sns"
        assert got.headers["x-amz-sns-message-type"] == "Notification"
        assert got.headers["x-amz-sns-message-id"] == note["MessageId"]
        assert got.headers["x-amz-sns-topic-arn"] == TOPIC
        assert got.headers["x-amz-sns-subscription-arn"] == f"{TOPIC}:parley-{started['StreamingId']}"
        assert got.headers["content-type"] == "text/plain; charset=UTF-8"
        assert set(note) == {
            "Type",
            "MessageId",
            "TopicArn",
            "Message",
            "Timestamp",
            "SignatureVersion",
            "Signature",
            "SigningCertURL",
            "UnsubscribeURL",
            "MessageAttributes",
        }
        assert note["Type"] == "Notification" and note["SignatureVersion"] == "1"
        assert len(note["Timestamp"]) == 24 and note["Timestamp"].endswith("Z")
        body = json.loads(note["Message"])
        assert sns_attributes(note) == expected_attributes(body, setup.instance_id)
        signed = "".join(f"{k}\n{note[k]}\n" for k in ("Message", "MessageId", "Timestamp", "TopicArn", "Type"))
        key = cert.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(base64.b64decode(note["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA1())
    assert json.loads(receiver.accepted[1].body["Message"])["Content"] == "hi"


# -- §4.3: lambda:NAME, the custom-bot loop ---------------------------------------------------------
class ChatBot:
    """An unchanged-style SNS-subscribed handler: answers each customer message with typing and an echo,
    leaves on "quit". It reaches Parley with boto3 like the AWS sample's function reaches Connect."""

    def __init__(self) -> None:
        self.url = ""
        self.tokens: dict[str, str] = {}
        self.events: list[dict[str, Any]] = []

    def handler(self, event: dict[str, Any], context: Any) -> None:
        self.events.append(event)
        record = event["Records"][0]
        assert record["EventSource"] == "aws:sns" and record["Sns"]["Subject"] is None
        message = json.loads(record["Sns"]["Message"])
        token = self.tokens[message["InitialContactId"]]
        cp = participant_client(self.url)
        if message["Content"] == "quit":
            cp.disconnect_participant(ConnectionToken=token)
            return
        cp.send_event(ConnectionToken=token, ContentType=EVENT + "typing")
        cp.send_message(ConnectionToken=token, ContentType="text/plain", Content=f"echo: {message['Content']}")


def test_lambda_target_runs_a_handler_with_the_sns_event_and_a_filter() -> None:
    bot = ChatBot()
    target = 'lambda:chatBot;filter={"ParticipantRole":["CUSTOMER"],"Type":["MESSAGE"]}'
    with parley.Server(sns={TOPIC: target}, lambdas={"chatBot": bot.handler}) as running:  # the flows' invoker
        bot.url = running.endpoint_url
        connect, setup, cp, started = _chat(running, ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC})
        contact = started["ContactId"]
        added = connect.create_participant(
            InstanceId=setup.instance_id,
            ContactId=contact,
            ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
        )
        bot_party = join(cp, added["ParticipantCredentials"]["ParticipantToken"], added["ParticipantId"], bot=True)
        bot.tokens[contact] = bot_party.connection_token
        customer = join(cp, started["ParticipantToken"], started["ParticipantId"])
        socket = Socket(customer.websocket_url or "")
        for text in ("hello", "order status"):
            cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=text)
            assert socket.until("text/plain")["Content"] == text
            assert socket.until(EVENT + "typing")["DisplayName"] == "Bot"
            assert socket.until("text/plain")["Content"] == f"echo: {text}"
        cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="quit")
        left = socket.until(EVENT + "participant.left")
        assert left["DisplayName"] == "Bot"
        socket.close()
        wait_for(lambda: _streams(running, contact)[0]["counts"]["pending"] == 0)
        [stream] = _streams(running, contact)
    assert stream["target"] == "lambda" and stream["counts"]["delivered"] == 3
    assert stream["counts"]["filtered"] >= 6  # joins, typing and the bot's own messages never reach it
    record = bot.events[0]["Records"][0]
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == f"{TOPIC}:parley-{started['StreamingId']}"
    assert {"SigningCertUrl", "UnsubscribeUrl", "MessageAttributes", "Timestamp"} <= set(record["Sns"])
    assert record["Sns"]["MessageAttributes"]["ParticipantRole"] == {"Type": "String", "Value": "CUSTOMER"}


# -- §6: the CLI --------------------------------------------------------------------------------------
def _cli(server: Any, *words: str) -> Any:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "parley", *words, "--endpoint-url", server.endpoint_url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_parley_streams_and_parley_sns_subcommands(server: Any, collected: Collected) -> None:
    _, _, _, started = _chat(
        server,
        ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
        InitialMessage={"ContentType": "text/plain", "Content": "from the cli"},
    )
    contact, streaming_id = started["ContactId"], started["StreamingId"]
    wait_for(lambda: _streams(server, contact)[0]["counts"]["delivered"] == 2)
    listed = _cli(server, "streams", "--contact", contact)
    assert [s["StreamingId"] for s in listed["streams"]] == [streaming_id]
    shown = _cli(server, "streams", "show", streaming_id)
    assert [m["message"].get("Content") for m in shown["recent"]] == ["from the cli", None]  # newest first
    assert _cli(server, "streams", "redrive", streaming_id) == {"requeued": 0}
    assert _cli(server, "streams", "clear-dead", streaming_id) == {"removed": 0}
    captured = _cli(server, "sns", "messages", "--topic", TOPIC, "--contact", contact)["messages"]
    assert [json.loads(n["Message"]).get("Content") for n in captured] == [None, "from the cli"]


def test_connect_participant_strict_needs_streaming_for_a_customer() -> None:
    streamed = {"ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC}}
    with parley.Server(connect_participant_strict=True, quota_instances=0) as strict:
        for streaming, refused in (({}, True), (streamed, False)):
            _, _, cp, started = _chat(strict, **streaming)
            token = started["ParticipantToken"]
            if refused:
                with pytest.raises(Exception) as error:
                    cp.create_participant_connection(
                        ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
                    )
                assert _code(error) == "ValidationException"
            else:
                out = cp.create_participant_connection(
                    ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
                )
                assert out["ConnectionCredentials"]["ConnectionToken"]
