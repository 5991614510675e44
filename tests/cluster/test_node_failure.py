"""A node of three dies (SIGKILL) mid-chat: nothing acknowledged is lost, the customer carries on through the
balancer, and the dead node's timers fire once on the others (issue 14)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore import UNSIGNED

from tests.cluster.cluster import cluster, wait_until
from tests.cluster.test_three_nodes import contact_state, entry, socket_nodes, transcript
from tests.conftest import client, make_instance, start_chat
from tests.flows.test_custom_bot import ACCOUNT
from tests.interop.test_chatjs import Harness, node_or_skip

ENDED = "application/vnd.amazonaws.connect.event.chat.ended"
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _node() -> Iterator[None]:
    node_or_skip()
    yield


def test_killing_the_customers_node_loses_nothing_and_the_customer_carries_on(tmp_path: Path) -> None:
    with cluster(tmp_path) as nodes:
        connect = client("connect", nodes.url, key=ACCOUNT)
        setup = make_instance(connect)
        started = start_chat(connect, setup)
        contact_id = started["ContactId"]
        customer = Harness(entry(nodes), started, tmp_path / "chatjs.log")
        try:
            customer.wait_for(lambda r: r["event"] == "ready", "chatjs connected")
            home = wait_until(lambda: socket_nodes(nodes, contact_id), 10, "the customer's subscribe")[0]
            cp = client("connectparticipant", nodes.url, signature_version=UNSIGNED)
            bot = connect.create_participant(
                InstanceId=setup.instance_id,
                ContactId=contact_id,
                ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
            )
            token = cp.create_participant_connection(
                ParticipantToken=bot["ParticipantCredentials"]["ParticipantToken"],
                Type=["CONNECTION_CREDENTIALS"],
                ConnectParticipant=True,
            )["ConnectionCredentials"]["ConnectionToken"]
            acknowledged = [customer.command("send", content="before")["Id"]]
            acknowledged.append(cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="hello")["Id"])
            customer.hook("onMessage", "text/plain", Content="hello")

            nodes.kill(next(node for node in nodes.nodes if node.name == home))
            customer.wait_for(lambda r: r["event"] == "onConnectionLost", "chatjs to notice its node died")
            # The bot goes on meanwhile, through the nodes left.
            acknowledged.append(cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="gap")["Id"])
            customer.wait_for(
                lambda r: r["event"] == "onConnectionEstablished" and r.get("count", 0) >= 3,
                "chatjs to reconnect through the balancer",
                timeout=30,
            )
            wait_until(lambda: socket_nodes(nodes, contact_id), 10, "the customer to subscribe again on a live node")
            acknowledged.append(customer.command("send", content="after")["Id"])
            acknowledged.append(cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="back")["Id"])
            customer.hook("onMessage", "text/plain", Content="back")

            # No gap: the customer's transcript holds every acknowledged write, in order, from any live node.
            ids = [i["Id"] for i in customer.command("transcript")["Transcript"]]
            assert [i for i in ids if i in acknowledged] == acknowledged
            for node in nodes.live():
                assert [i["Id"] for i in transcript(node.url, token) if i["Id"] in acknowledged] == acknowledged
        finally:
            customer.close()


def test_a_dead_nodes_timers_fire_once_on_the_others(tmp_path: Path) -> None:
    """The customer never connects and a bot never connects; the node that started the chat and added the
    bot (and armed their deadlines) dies; the others drop the bot at its deadline and end the chat at the
    customer's, once each."""
    args = ("--customer-connect-timeout", "8", "--bot-connect-timeout", "2", "--lease-ttl", "2")
    with cluster(tmp_path, args=args) as nodes:
        first = nodes.nodes[0]
        connect = client("connect", first.url, key=ACCOUNT)
        setup = make_instance(connect)
        started = start_chat(connect, setup)
        contact_id = started["ContactId"]
        bot = connect.create_participant(
            InstanceId=setup.instance_id,
            ContactId=contact_id,
            ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
        )
        nodes.kill(first)
        survivor = nodes.live()[0]

        def bot_left() -> bool:
            people = contact_state(survivor.url, contact_id)["participants"]
            return any(p["id"] == bot["ParticipantId"] and p.get("leftAt") for p in people)

        wait_until(bot_left, 15, "the bot dropped at its deadline by a surviving node")
        assert not _ended(survivor.url, contact_id), "the chat ended before the customer's deadline"
        wait_until(lambda: _ended(survivor.url, contact_id), 20, "the chat to end on a surviving node")
        time.sleep(1.5)  # every surviving node has swept by now
        for node in nodes.live():
            ended_events = [i for i in contact_state(node.url, contact_id)["transcript"] if ENDED in i.values()]
            assert len(ended_events) == 1, ended_events


def _ended(url: str, contact_id: str) -> bool:
    return bool(contact_state(url, contact_id).get("endedAt"))
