"""Delivery semantics (streaming.md §5): order and completeness under concurrent senders, a target that fails
for a while, the dead list and redrive, and a SIGKILLed durable Parley that delivers after its restart every
item it acknowledged before the kill."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import parley
from tests.conftest import client, make_instance, start_parley
from tests.contract.chat_helpers import join, participant_client
from tests.contract.stream_helpers import (
    ACCOUNT,
    TOPIC,
    Receiver,
    free_port,
    iter_unique,
    sns_attributes,
    wait_for,
)

DEAD_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:deadTarget"


class PerChat:
    """The in-process target: item ids per chain, in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: dict[str, list[str]] = {}

    def __call__(self, note: dict[str, Any]) -> None:
        chain = sns_attributes(note)["InitialContactId"]
        with self.lock:
            self.ids.setdefault(chain, []).append(json.loads(note["Message"])["Id"])


def _transcript_ids(admin_url: str, contact_id: str) -> list[str]:
    with urllib.request.urlopen(f"{admin_url}/_parley/state?contact={contact_id}", timeout=10) as response:
        state = json.loads(response.read())
    return [item["id"] for item in state["contacts"][0]["transcript"]]


def _stream(admin_url: str, streaming_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{admin_url}/_parley/streams/{streaming_id}", timeout=10) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def _post(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def _streamed_chat(url: str, topics: list[str], setup: Any = None) -> tuple[Any, Any, dict[str, Any], list[str]]:
    connect = client("connect", url, key=ACCOUNT)
    setup = setup or make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Jane"},
        ChatStreamingConfiguration={"StreamingEndpointArn": topics[0]},
    )
    ids = [started["StreamingId"]]
    for n, topic in enumerate(topics[1:]):
        ids.append(
            connect.start_contact_streaming(
                InstanceId=setup.instance_id,
                ContactId=started["ContactId"],
                ChatStreamingConfiguration={"StreamingEndpointArn": topic},
                ClientToken=f"t{n}",
            )["StreamingId"]
        )
    return connect, setup, started, ids


def test_twenty_chats_with_concurrent_senders_stream_every_item_once_in_order() -> None:
    target = PerChat()
    with parley.Server(sns={"chatStreaming": target}, quota_active_chats=0, quota_instances=0) as running:
        url = running.endpoint_url
        cp = participant_client(url)
        chats: list[Any] = []
        for n in range(20):
            connect, setup, started, _ = _streamed_chat(url, [TOPIC], None if n == 0 else chats[0][1])
            customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
            bot = connect.create_participant(
                InstanceId=setup.instance_id,
                ContactId=started["ContactId"],
                ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
            )
            bot_party = join(cp, bot["ParticipantCredentials"]["ParticipantToken"], bot["ParticipantId"], False, True)
            chats.append((connect, setup, started, customer, bot_party))

        def talk(token: str, who: str) -> None:
            sender = participant_client(url)
            for i in range(10):
                sender.send_message(ConnectionToken=token, ContentType="text/plain", Content=f"{who} {i}")

        with ThreadPoolExecutor(max_workers=40) as pool:
            jobs = [pool.submit(talk, c[3].connection_token, "customer") for c in chats]
            jobs += [pool.submit(talk, c[4].connection_token, "bot") for c in chats]
            for job in jobs:
                job.result()
        expected = {c[2]["ContactId"]: _transcript_ids(url, c[2]["ContactId"]) for c in chats}
        for contact_id, ids in expected.items():
            assert len(ids) == 2 + 20, contact_id  # two joins, twenty messages
        wait_for(
            lambda: all(len(target.ids.get(cid, [])) >= len(ids) for cid, ids in expected.items()),
            timeout=60,
            what="every item on every stream",
        )
        time.sleep(0.3)  # anything extra (a duplicate) would have arrived by now
    for contact_id, ids in expected.items():
        assert target.ids[contact_id] == ids


def test_a_target_failing_for_a_while_gets_everything_in_order_once_it_recovers() -> None:
    first_failure: list[float] = []

    def answer(_: Any) -> int:
        now = time.monotonic()
        if not first_failure:
            first_failure.append(now)
        return 500 if now < first_failure[0] + 1.0 else 200

    receiver = Receiver(answer=answer).start()
    try:
        with parley.Server(sns={"chatStreaming": receiver.url}, quota_instances=0) as running:
            url = running.endpoint_url
            _, _, started, (streaming_id,) = _streamed_chat(url, [TOPIC])
            cp = participant_client(url)
            customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
            for i in range(15):
                cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"m{i}")
            expected = _transcript_ids(url, started["ContactId"])
            wait_for(lambda: _stream(url, streaming_id)["counts"]["delivered"] == len(expected), timeout=30)
            status = _stream(url, streaming_id)
    finally:
        receiver.stop()
    accepted = [json.loads(r.body["Message"])["Id"] for r in receiver.accepted]
    assert accepted == expected  # in order, each once
    assert status["lastError"] == "HTTP 500" and status["counts"]["dead"] == 0
    assert len(receiver.received) > len(expected)  # there were failed attempts
    message_ids: dict[str, set[str]] = {}
    for got in receiver.received:  # a retried message keeps its MessageId
        message_ids.setdefault(json.loads(got.body["Message"])["Id"], set()).add(got.body["MessageId"])
    assert all(len(ids) == 1 for ids in message_ids.values())


def test_a_dead_target_fills_its_dead_list_holds_back_no_other_stream_and_can_be_redriven() -> None:
    healthy = PerChat()
    dead_port = free_port()  # nothing listens: connection refused
    routes: dict[str, Any] = {"chatStreaming": healthy, "deadTarget": f"http://127.0.0.1:{dead_port}/sns"}
    with parley.Server(sns=routes, stream_max_attempts=2, quota_instances=0) as running:
        url = running.endpoint_url
        _, _, started, (_, dead) = _streamed_chat(url, [TOPIC, DEAD_TOPIC])
        contact = started["ContactId"]
        cp = participant_client(url)
        customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
        for i in range(10):
            cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"m{i}")
        expected = _transcript_ids(url, contact)
        wait_for(lambda: healthy.ids.get(contact) == expected, timeout=10, what="the healthy stream")
        expected = expected[1:]  # the dead stream started after the chat's first item (no replay)
        wait_for(lambda: _stream(url, dead)["counts"]["dead"] == len(expected), timeout=60, what="the dead list")
        detail = _stream(url, dead)
        assert [m["itemId"] for m in detail["dead"]] == expected
        assert {m["attempts"] for m in detail["dead"]} == {2}
        assert detail["dead"][0]["lastError"] == "ConnectionRefused" and detail["lastError"] == "ConnectionRefused"
        health = json.loads(urllib.request.urlopen(f"{url}/_parley/health", timeout=10).read())
        assert health["streams"]["dead"] == len(expected)
        late = Receiver().start(dead_port)
        try:
            assert _post(f"{url}/_parley/streams/{dead}/redrive") == {"requeued": len(expected)}
            wait_for(lambda: _stream(url, dead)["counts"]["delivered"] == len(expected), timeout=30)
        finally:
            late.stop()
        assert [json.loads(r.body["Message"])["Id"] for r in late.accepted] == expected
        health = json.loads(urllib.request.urlopen(f"{url}/_parley/health", timeout=10).read())
        assert health["streams"] == {"pending": 0, "dead": 0}
        assert len(_stream(url, dead)["recent"]) == len(expected)


def test_a_sigkilled_durable_parley_delivers_after_restart_every_acknowledged_item(tmp_path: Path) -> None:
    healthy = threading.Event()
    receiver = Receiver(answer=lambda _: 200 if healthy.is_set() else 503).start()
    args = ("--data-dir", str(tmp_path), "--sns", f"{TOPIC}={receiver.url}", "--stream-max-attempts", "1000")
    first = start_parley(*args)
    try:
        _, _, started, (streaming_id,) = _streamed_chat(first.url, [TOPIC])
        cp = participant_client(first.url)
        customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
        acknowledged = []
        for i in range(30):
            sent = cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"{i}")
            acknowledged.append(sent["Id"])
        wait_for(lambda: len(receiver.received) >= 2, what="delivery attempts before the kill")
    finally:
        first.process.kill()  # SIGKILL: no drain, no shutdown
        first.process.wait()
        first.stop()
    healthy.set()
    second = start_parley(*args)
    try:

        def delivered() -> set[str]:
            return {json.loads(r.body["Message"])["Id"] for r in receiver.accepted}

        wait_for(lambda: set(acknowledged) <= delivered(), timeout=60, what="every acknowledged item after restart")
        order = list(iter_unique([json.loads(r.body["Message"])["Id"] for r in receiver.accepted]))
        assert [i for i in order if i in set(acknowledged)] == acknowledged  # still in order
        wait_for(lambda: _stream(second.url, streaming_id)["counts"]["pending"] == 0)
    finally:
        second.stop()
        receiver.stop()


def test_pause_holds_a_stream_until_a_redrive_and_drop_discards() -> None:
    dead_port = free_port()
    routes = {"deadTarget": f"http://127.0.0.1:{dead_port}/sns", "chatStreaming": "drop"}
    with parley.Server(sns=routes, stream_max_attempts=1, stream_on_dead="pause", quota_instances=0) as running:
        url = running.endpoint_url
        _, _, started, (dropped, paused) = _streamed_chat(url, [TOPIC, DEAD_TOPIC])
        cp = participant_client(url)
        customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
        for i in range(3):
            cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"m{i}")
        wait_for(lambda: _stream(url, paused)["counts"]["dead"] == 1, what="the first message dead")
        time.sleep(0.5)
        status = _stream(url, paused)
        assert status["paused"] and status["counts"]["pending"] == 2  # held, not skipped
        wait_for(lambda: _stream(url, dropped)["counts"]["delivered"] == 4)  # joined + 3 messages, discarded
        captured = json.loads(urllib.request.urlopen(f"{url}/_parley/sns/messages?topic=chatStreaming").read())
        assert captured["messages"] == []  # drop keeps nothing
        late = Receiver().start(dead_port)
        try:
            assert _post(f"{url}/_parley/streams/{paused}/redrive") == {"requeued": 1}
            wait_for(lambda: _stream(url, paused)["counts"]["delivered"] == 3)
        finally:
            late.stop()
        assert [json.loads(r.body["Message"])["Content"] for r in late.accepted] == ["m0", "m1", "m2"]
        assert not _stream(url, paused)["paused"]


def test_a_paused_stream_stays_held_across_a_restart_until_its_redrive(tmp_path: Path) -> None:
    """The hold is kept with the stream in the store: a restarted node (or another node taking the stream
    over) does not deliver past a dead message until somebody redrives it."""
    dead_port = free_port()  # nothing listens: connection refused
    args = (
        *("--data-dir", str(tmp_path), "--sns", f"{DEAD_TOPIC}=http://127.0.0.1:{dead_port}/sns"),
        *("--stream-max-attempts", "1", "--stream-on-dead", "pause", "--quota-instances", "0"),
    )
    first = start_parley(*args)
    try:
        _, _, started, (paused,) = _streamed_chat(first.url, [DEAD_TOPIC])
        cp = participant_client(first.url)
        customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
        cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="m0")
        wait_for(lambda: _stream(first.url, paused)["paused"], what="the stream held after a dead message")
    finally:
        first.stop()
    late = Receiver().start(dead_port)
    second = start_parley(*args)
    try:
        cp = participant_client(second.url)
        cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="m1")
        time.sleep(1.0)
        status = _stream(second.url, paused)
        assert status["paused"] and status["counts"]["dead"] >= 1 and status["counts"]["pending"] >= 1
        assert late.accepted == []  # still held after the restart: nothing went past the dead message
        _post(f"{second.url}/_parley/streams/{paused}/redrive")
        wait_for(lambda: _stream(second.url, paused)["counts"]["pending"] == 0, what="the redriven stream")
        contents = [json.loads(r.body["Message"]).get("Content") for r in late.accepted]
        assert [c for c in contents if c] == ["m0", "m1"]
        assert not _stream(second.url, paused)["paused"]
    finally:
        second.stop()
        late.stop()


def test_stream_duplicate_new_opens_a_second_stream_on_the_same_topic() -> None:
    with parley.Server(stream_duplicate="new", quota_instances=0) as running:
        *_, ids = _streamed_chat(running.endpoint_url, [TOPIC, TOPIC])
        assert len(set(ids)) == 2


def test_past_max_pending_the_oldest_messages_go_dead_as_overflow() -> None:
    dead_port = free_port()
    routes = {"deadTarget": f"http://127.0.0.1:{dead_port}/sns"}
    with parley.Server(sns=routes, stream_max_pending=5, stream_max_attempts=1000, quota_instances=0) as running:
        url = running.endpoint_url
        _, _, started, (stream,) = _streamed_chat(url, [DEAD_TOPIC])
        cp = participant_client(url)
        customer = join(cp, started["ParticipantToken"], started["ParticipantId"], websocket=False)
        for i in range(12):
            cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"m{i}")
        wait_for(lambda: _stream(url, stream)["counts"]["pending"] == 5, timeout=10, what="the overflow sweep")
        detail = _stream(url, stream)
    assert [m["message"]["Content"] for m in detail["pending"]] == [f"m{i}" for i in range(7, 12)]
    assert detail["counts"]["dead"] == 8 and {m["lastError"] for m in detail["dead"]} == {"overflow"}
