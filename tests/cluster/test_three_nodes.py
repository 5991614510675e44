"""Three `parley serve` nodes on one PostgreSQL database and one Redis, behind HAProxy (issue 14).

amazon-connect-chatjs 5.0.0 is the customer and a CUSTOM_BOT talks on its own raw WebSocket, both through
the balancer, so their requests and sockets land on different nodes; every item reaches each socket once,
the transcript is the same from every node, a flow with a Lambda function runs, and a stream delivers each
item once. Killing a node loses no acknowledged write and the customer carries on through the others.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED

from tests.cluster.cluster import Cluster, Node, cluster, get_json, post_json, wait_until
from tests.conftest import RunningParley, client, make_instance, start_chat
from tests.contract.stream_helpers import TOPIC, Receiver, messages_of
from tests.flows.test_custom_bot import ACCOUNT, HANDLER, bot_record, custom_bot_chat
from tests.interop.test_chatjs import Harness, ItemSocket, node_or_skip

EVENT = "application/vnd.amazonaws.connect.event."
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _node() -> None:
    node_or_skip()  # before any server starts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def entry(nodes: Cluster) -> RunningParley:
    """The balancer as the one address clients know (the harness reads only `.url`)."""
    first = nodes.nodes[0].running
    assert first is not None
    return RunningParley(nodes.url, first.process)


def served(node: Node, operation: str) -> int:
    return node.count(f" {operation} ")


def socket_nodes(nodes: Cluster, contact_id: str) -> list[str]:
    needle = f"ws.subscribe contact={contact_id}"
    return [node.name for node in nodes.live() for _ in range(node.count(needle))]


def bot_socket_elsewhere(nodes: Cluster, cp: Any, token: str, contact_id: str) -> tuple[ItemSocket, str]:
    """The bot's WebSocket, opened through the balancer until it lands on a node the customer's is not on."""
    customer_nodes = set(socket_nodes(nodes, contact_id))
    for _ in range(len(nodes.nodes) + 1):
        before = collections.Counter(socket_nodes(nodes, contact_id))
        url = cp.create_participant_connection(ParticipantToken=token, Type=["WEBSOCKET"])["Websocket"]["Url"]
        sock = ItemSocket(url)

        def new_subscribes(before: collections.Counter[str] = before) -> list[str]:
            return list((collections.Counter(socket_nodes(nodes, contact_id)) - before).elements())

        # the ack can reach the socket before the node's log line reaches this process
        landed = wait_until(new_subscribes, 10, "the bot's subscribe in a node's log")[0]
        if landed not in customer_nodes:
            return sock, landed
        sock.close()
    raise AssertionError("every bot socket landed beside the customer's")


def contact_state(url: str, contact_id: str) -> dict[str, Any]:
    """The admin API's view of one contact: its participants and its whole transcript, events included."""
    contacts = get_json(f"{url}/_parley/state?contact={contact_id}")["contacts"]
    assert len(contacts) == 1, contacts
    found: dict[str, Any] = contacts[0]
    return found


def transcript(url: str, token: str) -> list[dict[str, Any]]:
    cp = client("connectparticipant", url, signature_version=UNSIGNED)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConnectionToken": token, "SortOrder": "ASCENDING", "MaxResults": 100}
    while True:
        page = cp.get_transcript(**kwargs)
        items += page["Transcript"]
        if not page.get("NextToken"):
            return items
        kwargs["NextToken"] = page["NextToken"]


def test_chatjs_and_a_bot_talk_through_the_balancer_on_different_nodes(tmp_path: Path, receiver: Receiver) -> None:
    with cluster(tmp_path, args=("--sns", f"{TOPIC}={receiver.url}")) as nodes:
        server = entry(nodes)
        connect = client("connect", nodes.url, key=ACCOUNT)
        setup = make_instance(connect)
        started = start_chat(connect, setup)
        contact_id = started["ContactId"]
        connect.start_contact_streaming(
            InstanceId=setup.instance_id,
            ContactId=contact_id,
            ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
            ClientToken="stream-1",
        )
        customer = Harness(server, started, tmp_path / "chatjs.log")
        try:
            customer.wait_for(lambda r: r["event"] == "ready", "chatjs connected")
            wait_until(lambda: socket_nodes(nodes, contact_id), 10, "the customer's subscribe")
            customer_node = socket_nodes(nodes, contact_id)[0]
            cp = client("connectparticipant", nodes.url, signature_version=UNSIGNED)
            bot = connect.create_participant(
                InstanceId=setup.instance_id,
                ContactId=contact_id,
                ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
                ClientToken="bot-1",
            )
            token = bot["ParticipantCredentials"]["ParticipantToken"]
            bot_socket, bot_node = bot_socket_elsewhere(nodes, cp, token, contact_id)
            connection = cp.create_participant_connection(
                ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
            )["ConnectionCredentials"]["ConnectionToken"]

            said: list[str] = []
            for n in range(6):
                said.append(customer.command("send", content=f"customer {n}")["Id"])
                said.append(
                    cp.send_message(ConnectionToken=connection, ContentType="text/plain", Content=f"bot {n}")["Id"]
                )
            for message_id in said:
                bot_socket.wait_for(_item_with(message_id), f"message {message_id} on the bot's socket")
                customer.wait_for(_pushed_with(message_id), f"message {message_id} in chatjs")
            time.sleep(0.5)  # a duplicate would arrive by now
            assert all(customer.pushed(m) == 1 for m in said), "chatjs received a message twice"
            on_bot = collections.Counter(i.get("Id") for i in bot_socket.snapshot())
            assert all(on_bot[m] == 1 for m in said), "the bot's socket received a message twice"

            # Requests and sockets landed on different nodes.
            assert bot_node != customer_node
            senders = [node.name for node in nodes.nodes if served(node, "connectparticipant.SendMessage")]
            assert len(senders) >= 2, senders
            # The transcript is the same from every node.
            seen = [[i["Id"] for i in transcript(node.url, connection)] for node in nodes.nodes]
            assert seen[0] == seen[1] == seen[2]
            assert set(said) <= set(seen[0])
            # The stream delivered each item once.
            wait_until(
                lambda: set(said) <= {m["Id"] for m in messages_of([r.body for r in receiver.accepted])},
                20,
                "every message streamed",
            )
            streamed = collections.Counter(m["Id"] for m in messages_of([r.body for r in receiver.accepted]))
            assert max(streamed.values()) == 1, streamed.most_common(3)
            bot_socket.close()
        finally:
            customer.close()


def _item_with(message_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item.get("Id") == message_id


def _pushed_with(message_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda record: record["event"] == "onMessage" and (record.get("item") or {}).get("Id") == message_id


def test_the_custom_bot_pattern_runs_across_nodes(tmp_path: Path) -> None:
    tokens = tmp_path / "bot-tokens"
    tokens.mkdir()
    env = {"BOT_TOKEN_DIR": str(tokens), "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "test"}
    with cluster(tmp_path, args=("--lambda", HANDLER), env=env) as nodes:
        server = entry(nodes)
        chat = custom_bot_chat(server, ACCOUNT, "bots")
        contact_id = chat.started["ContactId"]
        customer = Harness(server, chat.started, tmp_path / "chatjs.log")
        try:
            customer.wait_for(lambda r: r["event"] == "ready", "chatjs connected")
            # The flow starts with the customer's connection, before chatjs's socket is up: like a widget, chatjs
            # reads what it missed from the transcript (whichever node answers).
            wait_until(lambda: _bot_said(customer, "Hello from the bot"), 20, "the bot's greeting in the transcript")
            bot = bot_record(tokens, contact_id)
            cp = client("connectparticipant", nodes.url, signature_version=UNSIGNED)
            customer.command("send", content="I need a person")
            cp.send_message(ConnectionToken=bot["connectionToken"], ContentType="text/plain", Content="One moment")
            customer.hook("onMessage", "text/plain", ParticipantRole="CUSTOM_BOT", Content="One moment")
            cp.disconnect_participant(ConnectionToken=bot["connectionToken"])
            flow_url = f"{nodes.url}/_parley/contacts/{contact_id}/flow"
            wait_until(lambda: get_json(flow_url)["state"] == "queued", 15, "the flow to queue the chat")
            accepted = post_json(f"{nodes.url}/_parley/contacts/{contact_id}/agent", {"action": "accept"})
            agent = cp.create_participant_connection(
                ParticipantToken=accepted["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
            )["ConnectionCredentials"]["ConnectionToken"]
            cp.send_message(ConnectionToken=agent, ContentType="text/plain", Content="Hi Ada, Ann here")
            customer.hook("onMessage", "text/plain", ParticipantRole="AGENT", Content="Hi Ada, Ann here")
            invocations = [
                i
                for node in nodes.nodes
                for i in get_json(f"{node.url}/_parley/lambda/invocations?contact={contact_id}")["invocations"]
            ]
            assert [i["outcome"] for i in invocations] == ["ok"], "the Lambda function ran once, on one node"
        finally:
            customer.close()


def _bot_said(customer: Harness, text: str) -> bool:
    items = customer.command("transcript")["Transcript"]
    return any(i.get("ParticipantRole") == "CUSTOM_BOT" and i.get("Content") == text for i in items)


def test_one_client_token_sent_to_every_node_at_once_creates_one_participant(tmp_path: Path) -> None:
    with cluster(tmp_path) as nodes:
        connect = client("connect", nodes.url, key=ACCOUNT)
        setup = make_instance(connect)
        started = start_chat(connect, setup)
        answers: list[dict[str, Any]] = []
        barrier = threading.Barrier(len(nodes.nodes))

        def create(node: Node) -> None:
            direct = client("connect", node.url, key=ACCOUNT)
            barrier.wait()
            answers.append(
                direct.create_participant(
                    InstanceId=setup.instance_id,
                    ContactId=started["ContactId"],
                    ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
                    ClientToken="the-same-token",
                )
            )

        threads = [threading.Thread(target=create, args=(node,)) for node in nodes.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 3
        assert len({a["ParticipantId"] for a in answers}) == 1
        people = contact_state(nodes.url, started["ContactId"])["participants"]
        assert [p["role"] for p in people].count("CUSTOM_BOT") == 1, people
