"""Streaming through a real SNS: moto's server, a topic with two SQS subscriptions (one filtered on
ParticipantRole=CUSTOMER, Type=MESSAGE), a scripted chat with boto3; the queues hold exactly the items
pushed on the WebSocket, in order, with streaming.md §3's attributes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.conftest import RunningParley, client, make_instance, start_parley
from tests.contract.chat_helpers import Socket, add_bot, join, participant_client
from tests.contract.stream_helpers import (
    ACCOUNT,
    EVENT,
    TOPIC,
    Moto,
    expected_attributes,
    sns_attributes,
    start_moto,
)

FILTER = {"ParticipantRole": ["CUSTOMER"], "Type": ["MESSAGE"]}


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def parley_sns(moto: Moto) -> Iterator[RunningParley]:
    running = start_parley("--sns-endpoint", moto.url, "--log-level", "debug")
    yield running
    running.stop()


def aws(service: str, moto: Moto) -> Any:
    return boto3.client(
        service, endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def queue_for(sqs: Any, sns: Any, name: str, policy: dict[str, Any] | None) -> str:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_scripted_chat_reaches_both_sqs_subscriptions_in_order(moto: Moto, parley_sns: RunningParley) -> None:
    sns, sqs = aws("sns", moto), aws("sqs", moto)
    assert sns.create_topic(Name="chatStreaming")["TopicArn"] == TOPIC
    everything = queue_for(sqs, sns, "everything", None)
    customer_messages = queue_for(sqs, sns, "customer-messages", FILTER)

    connect = client("connect", parley_sns.url, key=ACCOUNT)
    setup = make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Jane"},
        ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
        SupportedMessagingContentTypes=["text/plain", "text/markdown"],
    )
    assert started["StreamingId"]
    cp = participant_client(parley_sns.url)
    customer = join(cp, started["ParticipantToken"], started["ParticipantId"])
    socket = Socket(customer.websocket_url or "")
    chat: Any = type("Chat", (), {"connect": connect, "cp": cp, "setup": setup, "contact_id": started["ContactId"]})
    _, bot = add_bot(chat)
    assert bot is not None
    cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="help")
    cp.send_event(ConnectionToken=bot.connection_token, ContentType=EVENT + "typing")
    cp.send_message(ConnectionToken=bot.connection_token, ContentType="text/plain", Content="How can I help?")
    cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/markdown", Content="**quit**")
    first = cp.get_transcript(ConnectionToken=customer.connection_token, SortOrder="ASCENDING")["Transcript"][0]
    cp.disconnect_participant(ConnectionToken=customer.connection_token)

    pushed: list[dict[str, Any]] = []
    while not pushed or pushed[-1].get("ContentType") != EVENT + "chat.ended":
        pushed.append(socket.item())
    socket.close()

    def all_delivered() -> bool:
        status = json.loads(_get(parley_sns.url, f"/_parley/streams?contact={started['ContactId']}"))
        counts = status["streams"][0]["counts"]
        return bool(counts["pending"] == 0 and counts["delivered"] == len(pushed) + 1)

    _until(all_delivered)
    notes = drain(sqs, everything)
    bodies = [json.loads(note["Message"]) for note in notes]
    # the customer's participant.joined was committed before its socket existed; everything after is identical
    assert bodies[0]["Id"] == first["Id"] and bodies[0]["ContentType"] == EVENT + "participant.joined"
    assert bodies[1:] == pushed
    for note, body in zip(notes, bodies, strict=True):
        assert note["TopicArn"] == TOPIC and note["Type"] == "Notification"
        assert sns_attributes(note) == expected_attributes(body, setup.instance_id)
        order = ["AbsoluteTime", "Content", "ContentType", "Id", "Type", "ParticipantId", "DisplayName"]
        assert list(body)[:4] == [name for name in order if name in body][:4]  # the documented member order
    ended = bodies[-1]
    assert ended["ContentType"] == EVENT + "chat.ended" and "ParticipantRole" not in sns_attributes(notes[-1])

    filtered = [json.loads(note["Message"]) for note in drain(sqs, customer_messages)]
    wanted = [b for b in bodies if b["Type"] == "MESSAGE" and b.get("ParticipantRole") == "CUSTOMER"]
    assert [b["Content"] for b in filtered] == ["help", "**quit**"]
    assert filtered == wanted


def test_a_topic_that_does_not_exist_is_retried_then_delivered(moto: Moto, parley_sns: RunningParley) -> None:
    """SNS answers NotFound until the topic is created: Parley retries, then delivers in order."""
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:createdLater"
    connect = client("connect", parley_sns.url, key=ACCOUNT)
    setup = make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Jane"},
        ChatStreamingConfiguration={"StreamingEndpointArn": topic},
        InitialMessage={"ContentType": "text/plain", "Content": "first"},
    )

    def status() -> dict[str, Any]:
        found: dict[str, Any] = json.loads(_get(parley_sns.url, f"/_parley/streams/{started['StreamingId']}"))
        return found

    _until(lambda: status()["pending"][0]["attempts"] >= 4)  # the next retry is up to 1.6 s away
    assert "NotFound" in (status()["lastError"] or "") and status()["counts"]["retrying"] == 1
    sns, sqs = aws("sns", moto), aws("sqs", moto)
    sns.create_topic(Name="createdLater")
    url = sqs.create_queue(QueueName="later")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    _until(lambda: status()["counts"]["delivered"] == 2, timeout=30)
    contents = [json.loads(n["Message"]).get("Content") for n in drain(sqs, url)]
    # participant.joined, then the InitialMessage (both delivered: the counts say so); a retry landing between
    # CreateTopic and Subscribe (a few milliseconds) reaches the topic before the queue's subscription, and the
    # second can follow it there at once: the queue then holds the later one, or neither, but never out of order
    assert contents in ([None, "first"], ["first"], [])


def _get(base: str, path: str) -> str:
    import urllib.request

    with urllib.request.urlopen(base + path, timeout=10) as response:
        return str(response.read().decode())


def _until(check: Any, timeout: float = 20.0) -> None:
    from tests.contract.stream_helpers import wait_for

    wait_for(check, timeout)
