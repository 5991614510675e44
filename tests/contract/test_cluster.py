"""Two `parley serve` nodes on one store: a flow run and a stream's delivery are taken over when their node is
SIGKILLed, keeping order; a chat's expiry and a custom bot's connect deadline fire once with both nodes alive,
and a dead node's timers fire on the other; a virtual-clock move on one node is seen on the other.

Each runs twice: on one SQLite data directory (two processes on one file, their writers taking turns with
BEGIN IMMEDIATE; no bus between them, so the sweep alone carries the clock), and on one PostgreSQL database
with one Redis (--store, --redis-url: SERIALIZABLE units, clock moves and resets announced on the bus).
Leases last one second here (--lease-ttl 1), so a takeover comes within about 1.5 s."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.backing import redis_url
from tests.conftest import RunningParley, client, make_instance, start_chat, start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import join, participant_client
from tests.contract.stream_helpers import TOPIC, Receiver, iter_unique, wait_for
from tests.flows.test_flow_runs import END, HOLD, chat_on, document, say, texts, wait
from tests.store.backends import fresh_postgres_database

LEASE = ("--lease-ttl", "1")
KEY = "123456789012"  # one account on both nodes
VIRTUAL = ("--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
LAMBDA = ("--lambda", "sleeps=tests.contract.lambda_handlers:sleeps")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:sleeps"


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, ...]]:
    """What makes two nodes one cluster: one SQLite data directory (and no bus between them), or one PostgreSQL
    database and one Redis (its channels named after the database's secret, so no other test shares them)."""
    if request.param == "sqlite":
        yield ("--data-dir", str(tmp_path))
        return
    with fresh_postgres_database() as url:
        yield ("--store", url, "--redis-url", redis_url())


def two_nodes(shared: tuple[str, ...], *args: str) -> tuple[RunningParley, RunningParley]:
    first = start_parley(*shared, *LEASE, *args)
    try:
        return first, start_parley(*shared, *LEASE, *args)
    except BaseException:
        first.stop()
        raise


@pytest.fixture
def nodes(shared: tuple[str, ...], request: pytest.FixtureRequest) -> Iterator[tuple[RunningParley, RunningParley]]:
    a, b = two_nodes(shared, *getattr(request, "param", ()))
    yield a, b
    a.stop()
    b.stop()


def kill(node: RunningParley) -> None:
    node.process.send_signal(signal.SIGKILL)
    node.process.wait()


def run_of(node: RunningParley, contact_id: str) -> dict[str, Any]:
    """The contact's flow run as the node shows it; {} before it started."""
    status, found = admin(node.url, "GET", f"contacts/{contact_id}/flow")
    assert status in (200, 404), found
    return found if status == 200 else {}


PAUSED = document(
    "one",
    say("one", "one", "gap"),
    wait("gap", 2, ["CustomerReturned"], {"WaitCompleted": "two", "CustomerReturned": "two"}),
    say("two", "two", "hold"),
    HOLD,
    END,
)


def test_a_waiting_run_whose_node_was_killed_resumes_on_the_other_node_at_its_deadline(
    nodes: tuple[RunningParley, RunningParley],
) -> None:
    a, b = nodes
    assert ok(a.url, "GET", "health")["node"] != ok(b.url, "GET", "health")["node"]
    chat = chat_on(a, PAUSED)
    customer = chat.customer()
    assert ok(a.url, "GET", f"contacts/{chat.contact_id}/flow?wait=idle&timeout=10")["action"] == "gap"
    kill(a)  # the Wait's timer dies with it
    wait_for(lambda: run_of(b, chat.contact_id).get("action") == "hold", timeout=15, what="the run going on on B")
    cp = participant_client(b.url)
    assert texts(cp, customer.connection_token) == ["one", "two"]  # once each, in order


ECHO = document(
    "listen",
    wait("listen", 3600, ["CustomerReturned"], {"WaitCompleted": "end", "CustomerReturned": "heard"}),
    say("heard", "heard you", "listen"),
    END,
)


@pytest.mark.parametrize("nodes", [("--lease-ttl", "60")], indirect=True)  # no sweep comes to the rescue
def test_customer_messages_on_both_nodes_each_resume_the_run_once(
    nodes: tuple[RunningParley, RunningParley],
) -> None:
    """Each message is sent once the run listens again (a wait hears what comes after it began), alternately
    through A and B, so both nodes take the run in turn, woken by the message they committed."""
    a, b = nodes
    chat = chat_on(a, ECHO)
    customer = chat.customer()
    cps = [participant_client(a.url), participant_client(b.url)]

    def said() -> list[str]:
        return texts(cps[1], customer.connection_token)

    for n in range(8):
        wait_for(lambda: run_of(a, chat.contact_id).get("state") == "waiting", what="the run listening")
        cps[n % 2].send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"m{n}")
        wait_for(lambda: said().count("heard you") == n + 1, timeout=5, what=f"answer {n + 1}")  # noqa: B023
    time.sleep(0.5)
    assert said() == [text for n in range(8) for text in (f"m{n}", "heard you")]  # once each, in order


TWO_WAITS = document(
    "first",
    wait("first", 60, ["CustomerReturned"], {"WaitCompleted": "late", "CustomerReturned": "back"}),
    say("back", "back", "second"),
    wait("second", 60, ["CustomerReturned"], {"WaitCompleted": "late", "CustomerReturned": "second"}),
    say("late", "timed out", "hold"),
    HOLD,
    END,
)


@pytest.mark.parametrize("nodes", [VIRTUAL], indirect=True)
def test_a_flow_wait_armed_on_both_nodes_fires_once(nodes: tuple[RunningParley, RunningParley]) -> None:
    a, b = nodes
    chat = chat_on(a, TWO_WAITS)
    customer = chat.customer()  # A starts the run: the first wait's timer is A's
    wait_for(lambda: run_of(a, chat.contact_id).get("action") == "first", what="the first wait")
    ok(a.url, "POST", "clock", {"advance": "PT10S"})  # the second wait will end at 00:01:10, the first at 00:01:00
    ok(b.url, "GET", "clock")  # B is told (without a bus it would catch up at its next sweep)
    cp_b = participant_client(b.url)
    cp_b.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="hi")
    wait_for(lambda: run_of(b, chat.contact_id).get("action") == "second", what="B taking the run to its second wait")
    moves = [threading.Thread(target=ok, args=(n.url, "POST", "clock", {"set": "2030-01-01T00:01:11Z"})) for n in nodes]
    for move in moves:
        move.start()
    for move in moves:
        move.join()  # A's stale timer and B's fire together: the run takes the timeout once
    wait_for(lambda: run_of(a, chat.contact_id).get("action") == "hold", what="the timeout taken")
    time.sleep(1.0)
    assert texts(cp_b, customer.connection_token) == ["hi", "back", "timed out"]


CALLING = document(
    "hello",
    say("hello", "calling", "call"),
    {
        "Identifier": "call",
        "Type": "InvokeLambdaFunction",
        "Parameters": {"LambdaFunctionARN": ARN, "InvocationTimeLimitSeconds": "8"},
        "Transitions": {"NextAction": "answered", "Errors": [{"NextAction": "cut", "ErrorType": "NoMatchingError"}]},
    },
    say("answered", "answered", "hold"),
    say("cut", "cut off", "hold"),
    HOLD,
    END,
)


@pytest.mark.parametrize("nodes", [LAMBDA], indirect=True)
def test_a_run_held_by_a_killed_node_mid_lambda_is_taken_over_once_its_lease_lapses(
    nodes: tuple[RunningParley, RunningParley],
) -> None:
    a, b = nodes
    chat = chat_on(a, CALLING)
    customer = chat.customer()
    wait_for(lambda: run_of(a, chat.contact_id).get("waitingFor") == ["lambda"], what="the call in flight on A")
    held = ok(b.url, "GET", f"contacts/{chat.contact_id}/flow")
    assert held["waitingFor"] == ["lambda"]  # B leaves it alone while A holds it
    kill(a)
    wait_for(lambda: run_of(b, chat.contact_id).get("action") == "hold", timeout=15, what="B taking the run over")
    assert texts(participant_client(b.url), customer.connection_token) == ["calling", "cut off"]


@pytest.mark.parametrize("nodes", [("--flows", "off", *VIRTUAL)], indirect=True)
def test_expiry_and_a_bots_connect_deadline_fire_once_with_both_nodes_alive(
    nodes: tuple[RunningParley, RunningParley],
) -> None:
    a, b = nodes
    connect_a, connect_b = client("connect", a.url, KEY), client("connect", b.url, KEY)
    setup = make_instance(connect_a)
    started = start_chat(connect_a, setup)
    contact_id = started["ContactId"]
    customer = join(participant_client(b.url), started["ParticipantToken"], started["ParticipantId"], False)
    bot = connect_b.create_participant(
        InstanceId=setup.instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )  # B arms the bot's 15 s; A armed the chat's end; the customer's connection on B armed B's
    participant_client(a.url).send_message(
        ConnectionToken=customer.connection_token, ContentType="text/plain", Content="hi"
    )  # and A now has the bot's deadline too: both nodes will check it
    moved = threading.Thread(target=ok, args=(b.url, "POST", "clock", {"advance": "PT16S"}))
    moved.start()
    ok(a.url, "POST", "clock", {"advance": "PT16S"})
    moved.join()
    assert ok(b.url, "GET", "clock")["now"] == "2030-01-01T00:00:32.000Z"  # both moves count, in turn
    bots = [p for p in state(b, contact_id)["participants"] if p["role"] == "CUSTOM_BOT"]
    assert [p["id"] for p in bots] == [bot["ParticipantId"]] and bots[0]["leftAt"]
    ok(a.url, "POST", "clock", {"advance": "PT25H"})
    ok(b.url, "GET", "clock")  # B catches up and runs its own (now idle) check
    time.sleep(1.0)  # two sweeps of both nodes
    events = [i["contentType"] for i in state(a, contact_id)["transcript"] if i["type"] == "EVENT"]
    assert events.count("application/vnd.amazonaws.connect.event.chat.ended") == 1
    assert events.count("application/vnd.amazonaws.connect.event.participant.left") == 0  # never connected
    described = connect_b.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]
    assert described["DisconnectReason"] == "EXPIRED"


@pytest.mark.parametrize("nodes", [("--flows", "off", *VIRTUAL)], indirect=True)
def test_the_customers_connect_deadline_ends_the_chat_once_with_both_nodes_checking(
    nodes: tuple[RunningParley, RunningParley],
) -> None:
    a, b = nodes
    connect_a, connect_b = client("connect", a.url, KEY), client("connect", b.url, KEY)
    setup = make_instance(connect_a)
    contact_id = start_chat(connect_a, setup)["ContactId"]  # A arms the customer's 5 minutes
    bot = connect_b.create_participant(
        InstanceId=setup.instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )
    token = bot["ParticipantCredentials"]["ParticipantToken"]
    join(participant_client(b.url), token, bot["ParticipantId"], websocket=False, bot=True)  # B: the 5 minutes
    moves = [threading.Thread(target=ok, args=(n.url, "POST", "clock", {"set": "2030-01-01T00:05:01Z"})) for n in nodes]
    for move in moves:
        move.start()
    for move in moves:
        move.join()
    ok(a.url, "GET", "clock")
    ok(b.url, "GET", "clock")
    time.sleep(1.0)  # two sweeps of both nodes
    events = [i["contentType"] for i in state(b, contact_id)["transcript"] if i["type"] == "EVENT"]
    assert events.count("application/vnd.amazonaws.connect.event.chat.ended") == 1
    described = connect_a.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]
    assert described["DisconnectReason"] == "OTHER"


@pytest.mark.parametrize("nodes", [("--flows", "off", *VIRTUAL)], indirect=True)
def test_the_timers_of_a_killed_node_fire_on_the_other_and_a_clock_move_is_seen_there(
    nodes: tuple[RunningParley, RunningParley],
) -> None:
    a, b = nodes
    connect_a = client("connect", a.url, KEY)
    setup = make_instance(connect_a)
    contact_id = start_chat(connect_a, setup)["ContactId"]  # only A ever touches it
    ok(a.url, "POST", "clock", {"advance": "PT1H"})
    assert ok(b.url, "GET", "clock")["now"] == "2030-01-01T01:00:00.000Z"
    kill(a)
    ok(b.url, "POST", "clock", {"advance": "PT25H"})
    wait_for(lambda: bool(state(b, contact_id)["endedAt"]), timeout=10, what="B ending the chat A armed")
    events = [i["contentType"] for i in state(b, contact_id)["transcript"] if i["type"] == "EVENT"]
    assert events.count("application/vnd.amazonaws.connect.event.chat.ended") == 1


@pytest.mark.parametrize("nodes", [("--flows", "off", *VIRTUAL)], indirect=True)
def test_a_killed_node_is_adopted_then_forgotten_and_the_timers_it_armed_fire_on_the_survivor(
    nodes: tuple[RunningParley, RunningParley], shared: tuple[str, ...]
) -> None:
    """Once the dead node's row has lapsed for a lease's life, the survivor arms what only the dead node had
    armed and forgets the row, so a survivor left alone stops sweeping, and a deadline far in the future still
    fires (here the chat's expiry, 25 hours on)."""
    a, b = nodes
    connect_a = client("connect", a.url, KEY)
    setup = make_instance(connect_a)
    contact_id = start_chat(connect_a, setup)["ContactId"]  # only A ever touches it: only A armed its expiry
    dead, alive = ok(a.url, "GET", "health")["node"], ok(b.url, "GET", "health")["node"]
    assert {f"node:{dead}", f"node:{alive}"} <= node_rows(shared)
    kill(a)
    wait_for(lambda: f"node:{dead}" not in node_rows(shared), timeout=15, what="B forgetting the dead node")
    assert f"node:{alive}" in node_rows(shared)
    assert "cluster.adopt" in "\n".join(b.lines)
    ok(b.url, "POST", "clock", {"advance": "PT25H"})
    wait_for(lambda: bool(state(b, contact_id)["endedAt"]), timeout=10, what="B ending the chat A armed")


def node_rows(shared: tuple[str, ...]) -> set[str]:
    """The `node:` leases in the shared store, read straight from it."""
    query = "SELECT name FROM leases WHERE name LIKE 'node:%'"
    if shared[0] == "--data-dir":
        with contextlib.closing(sqlite3.connect(Path(shared[1]) / "parley.sqlite3")) as db:
            return {row[0] for row in db.execute(query)}
    with psycopg.connect(shared[1]) as db:
        return {row[0] for row in db.execute(query)}


def state(node: RunningParley, contact_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(node.url, "GET", f"state?contact={contact_id}")["contacts"][0]
    return found


def test_a_stream_goes_on_in_order_on_the_other_node_after_its_node_is_killed(shared: tuple[str, ...]) -> None:
    healthy = threading.Event()
    receiver = Receiver(answer=lambda _: 200 if healthy.is_set() else 503).start()
    a, b = two_nodes(shared, "--sns", f"{TOPIC}={receiver.url}", "--stream-max-attempts", "1000")
    try:
        connect = client("connect", a.url)
        setup = make_instance(connect)
        started = connect.start_chat_contact(
            InstanceId=setup.instance_id,
            ContactFlowId=setup.flow_id,
            ParticipantDetails={"DisplayName": "Jane"},
            ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
        )
        cp_a, cp_b = participant_client(a.url), participant_client(b.url)
        customer = join(cp_a, started["ParticipantToken"], started["ParticipantId"], websocket=False)
        sent = [
            (cp_a if n % 2 else cp_b).send_message(
                ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"{n}"
            )["Id"]
            for n in range(20)
        ]  # through both nodes; A holds the stream (retrying its oldest message)
        wait_for(lambda: len(receiver.received) >= 2, what="A's delivery attempts")
        kill(a)
        healthy.set()

        def delivered() -> list[str]:
            return [json.loads(r.body["Message"])["Id"] for r in receiver.accepted]

        wait_for(lambda: set(sent) <= set(delivered()), timeout=30, what="B delivering every message")
        order = [i for i in iter_unique(delivered()) if i in set(sent)]
        assert order == sent
        assert len([i for i in delivered() if i in set(sent)]) == len(sent)  # once each
        streaming_id = started["StreamingId"]
        wait_for(lambda: ok(b.url, "GET", f"streams/{streaming_id}")["counts"]["pending"] == 0)
    finally:
        a.stop()
        b.stop()
        receiver.stop()


@pytest.mark.parametrize("nodes", [("--sns", f"{TOPIC}=capture")], indirect=True)
def test_a_reset_on_one_node_covers_the_shared_store_and_what_every_node_holds(
    nodes: tuple[RunningParley, RunningParley], shared: tuple[str, ...]
) -> None:
    a, b = nodes
    connect = client("connect", a.url, KEY)
    setup = make_instance(connect)
    started = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Jane"},
        ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
    )
    customer = join(participant_client(a.url), started["ParticipantToken"], started["ParticipantId"], False)
    participant_client(b.url).send_message(
        ConnectionToken=customer.connection_token, ContentType="text/plain", Content="x"
    )

    def captured(node: RunningParley) -> int:
        return len(ok(node.url, "GET", "sns/messages")["messages"])

    wait_for(lambda: captured(a) >= 1, what="A capturing the stream it delivers")
    ok(b.url, "POST", "reset", {})
    assert ok(a.url, "GET", "state")["contacts"] == []
    if "--redis-url" in shared:  # announced: A drops its captures too (without a bus, each node keeps its own)
        wait_for(lambda: captured(a) == 0, timeout=5, what="A forgetting its captures")
    assert captured(b) == 0


def test_a_stream_fed_through_both_nodes_delivers_each_message_once_in_order(shared: tuple[str, ...]) -> None:
    receiver = Receiver().start()
    a, b = two_nodes(shared, "--sns", f"{TOPIC}={receiver.url}")
    try:
        connect = client("connect", a.url)
        setup = make_instance(connect)
        started = connect.start_chat_contact(
            InstanceId=setup.instance_id,
            ContactFlowId=setup.flow_id,
            ParticipantDetails={"DisplayName": "Jane"},
            ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
        )
        cps = [participant_client(a.url), participant_client(b.url)]
        customer = join(cps[0], started["ParticipantToken"], started["ParticipantId"], websocket=False)
        sent = [
            cps[n % 2].send_message(
                ConnectionToken=customer.connection_token, ContentType="text/plain", Content=f"{n}"
            )["Id"]
            for n in range(30)
        ]

        def delivered() -> list[str]:
            return [i for i in (json.loads(r.body["Message"])["Id"] for r in receiver.accepted) if i in set(sent)]

        wait_for(lambda: len(delivered()) >= len(sent), timeout=30, what="every message delivered")
        time.sleep(1.0)  # a second node delivering too would show as duplicates by now
        assert delivered() == sent
    finally:
        a.stop()
        b.stop()
        receiver.stop()
