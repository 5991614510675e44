"""Queues, hours of operation, Lambda function associations and an agent accepting a queued chat, through boto3,
the admin API and the CLI over real sockets (flows.md §5.4, §7)."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.chat.defaults import DEFAULT_FLOWS, V1_TYPES, sha256, v1_placeholder_content
from parley.chat.model import Scope
from tests.conftest import RunningParley, account_key, client, key_of, make_instance, start_chat, start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import join, participant_client
from tests.contract.in_process import InProcessParley

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:{}"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def basic_queue(connect: Any, instance_id: str) -> dict[str, Any]:
    summaries = connect.list_queues(InstanceId=instance_id)["QueueSummaryList"]
    return next(s for s in summaries if s["Name"] == "BasicQueue")


@pytest.fixture(scope="module")
def local() -> Iterator[InProcessParley]:
    with InProcessParley(quota_active_chats=0) as server:
        yield server


# -- what a new instance has -------------------------------------------------------------------------------
def test_a_new_instance_lists_basic_queue_and_basic_hours(connect: Any) -> None:
    setup = make_instance(connect)
    [queue] = connect.list_queues(InstanceId=setup.instance_id)["QueueSummaryList"]
    prefix = f"arn:aws:connect:us-east-1:{key_of(connect)}:instance/{setup.instance_id}"
    assert queue["Name"] == "BasicQueue" and queue["QueueType"] == "STANDARD"
    assert queue["Arn"] == f"{prefix}/queue/{queue['Id']}" and queue["LastModifiedRegion"] == "us-east-1"
    [hours] = connect.list_hours_of_operations(InstanceId=setup.instance_id)["HoursOfOperationSummaryList"]
    assert hours["Name"] == "Basic Hours" and hours["Arn"] == f"{prefix}/operating-hours/{hours['Id']}"
    described = connect.describe_queue(InstanceId=setup.instance_id, QueueId=queue["Id"])["Queue"]
    assert described["QueueArn"] == queue["Arn"] and described["HoursOfOperationId"] == hours["Id"]
    assert described["Status"] == "ENABLED" and "MaxContacts" not in described
    assert connect.list_queues(InstanceId=setup.instance_id, QueueTypes=["AGENT"])["QueueSummaryList"] == []


def test_the_default_inbound_flow_queues_in_the_instances_own_basic_queue(connect: Any) -> None:
    setup = make_instance(connect)
    queue = basic_queue(connect, setup.instance_id)
    summaries = connect.list_contact_flows(InstanceId=setup.instance_id)["ContactFlowSummaryList"]
    by_name = {s["Name"]: s for s in summaries}
    flow = connect.describe_contact_flow(
        InstanceId=setup.instance_id, ContactFlowId=by_name["Default inbound flow"]["Id"]
    )
    document = json.loads(flow["ContactFlow"]["Content"])
    assert document["Version"] == "2019-10-30"
    assert [a["Type"] for a in document["Actions"]] == [
        "UpdateContactEventHooks",
        "UpdateContactTargetQueue",
        "TransferContactToQueue",
        "DisconnectParticipant",
    ]
    hook, target = document["Actions"][0]["Parameters"], document["Actions"][1]["Parameters"]
    assert hook == {"EventHooks": {"CustomerRemaining": by_name["Sample disconnect flow"]["Arn"]}}
    assert target == {"QueueId": queue["Arn"]}


# -- CreateQueue, DescribeQueue, ListQueues ------------------------------------------------------------------
def test_create_describe_and_page_through_queues(connect: Any) -> None:
    setup = make_instance(connect)
    hours_id = connect.list_hours_of_operations(InstanceId=setup.instance_id)["HoursOfOperationSummaryList"][0]["Id"]
    created = [
        connect.create_queue(
            InstanceId=setup.instance_id,
            Name=name,
            HoursOfOperationId=hours_id,
            MaxContacts=5,
            Description=f"{name} queue",
            Tags={"team": name},
        )
        for name in ("Billing", "Support", "Sales")
    ]
    first = created[0]
    assert re.fullmatch(
        rf"arn:aws:connect:us-east-1:\d{{12}}:instance/{setup.instance_id}/queue/{first['QueueId']}", first["QueueArn"]
    )
    queue = connect.describe_queue(InstanceId=setup.instance_id, QueueId=first["QueueId"])["Queue"]
    assert queue["Name"] == "Billing" and queue["MaxContacts"] == 5 and queue["Description"] == "Billing queue"
    assert queue["Tags"] == {"team": "Billing"} and queue["LastModifiedTime"].year >= 2024
    assert connect.list_tags_for_resource(resourceArn=first["QueueArn"])["tags"] == {"team": "Billing"}
    connect.tag_resource(resourceArn=first["QueueArn"], tags={"tier": "1"})
    connect.untag_resource(resourceArn=first["QueueArn"], tagKeys=["team"])
    assert connect.describe_queue(InstanceId=setup.instance_id, QueueId=first["QueueId"])["Queue"]["Tags"] == {
        "tier": "1"
    }

    seen, token = [], None
    while True:
        page = connect.list_queues(
            InstanceId=setup.instance_id,
            QueueTypes=["STANDARD"],
            MaxResults=2,
            **({"NextToken": token} if token else {}),
        )
        assert len(page["QueueSummaryList"]) <= 2
        seen += [s["Name"] for s in page["QueueSummaryList"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert sorted(seen) == ["BasicQueue", "Billing", "Sales", "Support"]
    paginator = connect.get_paginator("list_queues")
    names = [
        s["Name"]
        for p in paginator.paginate(InstanceId=setup.instance_id, PaginationConfig={"PageSize": 3})
        for s in p["QueueSummaryList"]
    ]
    assert sorted(names) == sorted(seen)


def test_each_declared_error_of_the_queue_operations(parley: RunningParley, connect: Any) -> None:
    setup = make_instance(connect)
    unchecked = client("connect", parley.url, key_of(connect), parameter_validation=False)
    hours_id = connect.list_hours_of_operations(InstanceId=setup.instance_id)["HoursOfOperationSummaryList"][0]["Id"]
    connect.create_queue(InstanceId=setup.instance_id, Name="Twice", HoursOfOperationId=hours_id)
    cases: list[tuple[Callable[[], object], tuple[str, int]]] = [
        (
            lambda: connect.create_queue(InstanceId=setup.instance_id, Name="Twice", HoursOfOperationId=hours_id),
            ("DuplicateResourceException", 409),
        ),
        (
            lambda: connect.create_queue(InstanceId=setup.instance_id, Name="BasicQueue", HoursOfOperationId=hours_id),
            ("DuplicateResourceException", 409),
        ),
        (
            lambda: connect.create_queue(InstanceId=setup.instance_id, Name="NoHours", HoursOfOperationId="missing"),
            ("ResourceNotFoundException", 404),
        ),
        (
            lambda: connect.create_queue(InstanceId="no-such-instance", Name="X", HoursOfOperationId=hours_id),
            ("ResourceNotFoundException", 404),
        ),
        (
            lambda: connect.create_queue(
                InstanceId=setup.instance_id, Name="QC", HoursOfOperationId=hours_id, QuickConnectIds=["qc-1"]
            ),
            ("ResourceNotFoundException", 404),
        ),
        (
            lambda: connect.create_queue(InstanceId=setup.instance_id, Name="x" * 128, HoursOfOperationId=hours_id),
            ("InvalidParameterException", 400),
        ),
        (
            lambda: unchecked.create_queue(
                InstanceId=setup.instance_id, Name="Neg", HoursOfOperationId=hours_id, MaxContacts=-1
            ),
            ("InvalidParameterException", 400),
        ),
        (
            lambda: connect.describe_queue(InstanceId=setup.instance_id, QueueId="no-such-queue"),
            ("ResourceNotFoundException", 404),
        ),
        (
            lambda: connect.describe_queue(InstanceId="no-such-instance", QueueId="q"),
            ("ResourceNotFoundException", 404),
        ),
        (lambda: connect.list_queues(InstanceId="no-such-instance"), ("ResourceNotFoundException", 404)),
        (
            lambda: connect.list_queues(InstanceId=setup.instance_id, MaxResults=1001),
            ("InvalidParameterException", 400),
        ),
        (
            lambda: connect.list_queues(InstanceId=setup.instance_id, QueueTypes=["OTHER"]),
            ("InvalidParameterException", 400),
        ),
        (
            lambda: connect.list_queues(InstanceId=setup.instance_id, NextToken="forged"),
            ("InvalidParameterException", 400),
        ),
        (lambda: connect.list_hours_of_operations(InstanceId="no-such-instance"), ("ResourceNotFoundException", 404)),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == expected


def test_another_account_sees_no_queue(parley: RunningParley) -> None:
    mine, theirs = client("connect", parley.url), client("connect", parley.url)
    setup = make_instance(mine)
    queue = basic_queue(mine, setup.instance_id)
    with pytest.raises(ClientError) as excinfo:
        theirs.describe_queue(InstanceId=setup.instance_id, QueueId=queue["Id"])
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)


# -- Lambda functions ------------------------------------------------------------------------------------------
def test_lambda_function_association_round_trip_and_conflict(connect: Any) -> None:
    setup = make_instance(connect)
    arns = [LAMBDA.format(name) for name in ("startBot", "chatBot", "audit:live")]
    for arn in arns:
        connect.associate_lambda_function(InstanceId=setup.instance_id, FunctionArn=arn)
    first = connect.list_lambda_functions(InstanceId=setup.instance_id, MaxResults=2)
    second = connect.list_lambda_functions(InstanceId=setup.instance_id, NextToken=first["NextToken"])
    assert sorted(first["LambdaFunctions"] + second["LambdaFunctions"]) == sorted(arns)
    assert "NextToken" not in second

    with pytest.raises(ClientError) as excinfo:
        connect.associate_lambda_function(InstanceId=setup.instance_id, FunctionArn=arns[0])
    assert error_of(excinfo) == ("ResourceConflictException", 409)
    connect.disassociate_lambda_function(InstanceId=setup.instance_id, FunctionArn=arns[0])
    assert arns[0] not in connect.list_lambda_functions(InstanceId=setup.instance_id)["LambdaFunctions"]
    with pytest.raises(ClientError) as excinfo:
        connect.disassociate_lambda_function(InstanceId=setup.instance_id, FunctionArn=arns[0])
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)
    connect.associate_lambda_function(InstanceId=setup.instance_id, FunctionArn=arns[0])  # added again


def test_each_declared_error_of_the_lambda_operations(connect: Any) -> None:
    setup = make_instance(connect)
    cases: list[tuple[Callable[[], object], tuple[str, int]]] = [
        (
            lambda: connect.associate_lambda_function(InstanceId="nope", FunctionArn=LAMBDA.format("f")),
            ("ResourceNotFoundException", 404),
        ),
        (
            lambda: connect.associate_lambda_function(InstanceId=setup.instance_id, FunctionArn="startBot"),
            ("InvalidParameterException", 400),
        ),
        (
            lambda: connect.associate_lambda_function(
                InstanceId=setup.instance_id, FunctionArn=LAMBDA.format("f" * 130)
            ),
            ("InvalidParameterException", 400),
        ),
        (
            lambda: connect.list_lambda_functions(InstanceId=setup.instance_id, MaxResults=26),
            ("InvalidParameterException", 400),
        ),
        (lambda: connect.list_lambda_functions(InstanceId="nope"), ("ResourceNotFoundException", 404)),
        (
            lambda: connect.disassociate_lambda_function(InstanceId="nope", FunctionArn=LAMBDA.format("f")),
            ("ResourceNotFoundException", 404),
        ),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == expected


# -- a queued chat and an agent accepting it -------------------------------------------------------------------
def queued_chat(local: InProcessParley, connect: Any, setup: Any, queue_id: str) -> str:
    """A chat whose customer has not connected (so no flow runs), put in the queue as TransferContactToQueue does."""
    contact_id: str = start_chat(connect, setup)["ContactId"]
    local.enqueue(key_of(connect), contact_id, queue_id)
    return contact_id


def test_describe_contact_shows_queue_info_then_agent_info(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    queue = basic_queue(connect, setup.instance_id)
    contact_id = queued_chat(local, connect, setup, queue["Id"])
    contact = connect.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]
    assert contact["QueueInfo"]["Id"] == queue["Id"] and contact["QueueInfo"]["EnqueueTimestamp"].year >= 2024
    assert "AgentInfo" not in contact

    accepted = ok(
        local.url,
        "POST",
        f"contacts/{contact_id}/agent",
        {"action": "accept", "displayName": "Ann", "agentId": "ann-1"},
    )
    assert set(accepted) == {"ParticipantId", "ParticipantToken"}
    contact = connect.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]
    agent = contact["AgentInfo"]
    assert agent["Id"] == "ann-1" and agent["AcceptedByAgentTimestamp"] == agent["ConnectedToAgentTimestamp"]
    assert agent["AcceptedByAgentTimestamp"] >= contact["QueueInfo"]["EnqueueTimestamp"]
    assert contact["QueueInfo"]["Id"] == queue["Id"]  # it was queued, and stays so in the record


def test_accept_disconnects_the_custom_bot_and_the_agent_can_talk(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    cp = participant_client(local.url)
    contact_id = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])
    bot = connect.create_participant(
        InstanceId=setup.instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"},
    )
    bot_party = join(
        cp, bot["ParticipantCredentials"]["ParticipantToken"], bot["ParticipantId"], websocket=False, bot=True
    )

    accepted = ok(local.url, "POST", f"contacts/{contact_id}/agent", {"action": "accept", "displayName": "Ann"})
    agent = join(cp, accepted["ParticipantToken"], accepted["ParticipantId"], websocket=False)
    cp.send_message(ConnectionToken=agent.connection_token, ContentType="text/plain", Content="Hi, Ann here")
    items = cp.get_transcript(ConnectionToken=agent.connection_token, SortOrder="ASCENDING")["Transcript"]
    events = [
        (i.get("ParticipantRole"), i.get("ContentType", "").rsplit(".", 1)[-1]) for i in items if i["Type"] == "EVENT"
    ]
    assert ("CUSTOM_BOT", "left") in events and ("AGENT", "joined") in events
    assert events.index(("CUSTOM_BOT", "left")) < events.index(("AGENT", "joined"))
    assert items[-1]["Content"] == "Hi, Ann here" and items[-1]["DisplayName"] == "Ann"
    with pytest.raises(ClientError) as excinfo:  # the bot's connection is gone
        cp.send_message(ConnectionToken=bot_party.connection_token, ContentType="text/plain", Content="still here?")
    assert error_of(excinfo) == ("AccessDeniedException", 403)
    agent_info = connect.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]["AgentInfo"]
    assert agent_info["Id"] and agent_info["Id"] != accepted["ParticipantId"]  # an agent id, not a participant id


def test_accepting_a_chat_that_is_not_queued_is_409_not_queued(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    plain = start_chat(connect, setup)["ContactId"]
    status, answer = admin(local.url, "POST", f"contacts/{plain}/agent", {"action": "accept", "displayName": "Ann"})
    assert status == 409 and answer["error"] == "NotQueued"
    queued = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])
    ok(local.url, "POST", f"contacts/{queued}/agent", {"action": "accept"})
    status, answer = admin(local.url, "POST", f"contacts/{queued}/agent", {"action": "accept"})
    assert status == 409 and answer["error"] == "NotQueued"  # accepted once: not waiting any more
    assert admin(local.url, "POST", "contacts/no-such-contact/agent", {"action": "accept"})[0] == 404
    status, answer = admin(local.url, "POST", f"contacts/{queued}/supervisor", {"action": "accept"})
    assert status == 400 and "action" in answer["message"]
    status, answer = admin(local.url, "POST", f"contacts/{queued}/agent", {"action": "accept", "agentId": ""})
    assert status == 400 and "agentId" in answer["message"]
    connect.stop_contact(
        InstanceId=setup.instance_id,
        ContactId=queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"]),
    )


def test_join_on_a_queued_chat_accepts_it(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    queued = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])
    plain = start_chat(connect, setup)["ContactId"]
    ok(local.url, "POST", f"contacts/{queued}/agent", {"action": "join", "displayName": "Ann"})
    ok(local.url, "POST", f"contacts/{plain}/agent", {"action": "join", "displayName": "Bob"})
    queued_info = connect.describe_contact(InstanceId=setup.instance_id, ContactId=queued)["Contact"]
    plain_info = connect.describe_contact(InstanceId=setup.instance_id, ContactId=plain)["Contact"]
    assert queued_info["AgentInfo"]["Id"] and "QueueInfo" in queued_info
    assert "QueueInfo" not in plain_info and plain_info["AgentInfo"]["Id"]  # joined without routing, as before
    status, answer = admin(local.url, "POST", f"contacts/{queued}/agent", {"action": "accept"})
    assert status == 409 and answer["error"] == "NotQueued"


def test_the_admin_queue_list_shows_waiting_chats_oldest_first(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    account = key_of(connect)
    hours_id = connect.list_hours_of_operations(InstanceId=setup.instance_id)["HoursOfOperationSummaryList"][0]["Id"]
    billing = connect.create_queue(InstanceId=setup.instance_id, Name="Billing", HoursOfOperationId=hours_id)
    basic = basic_queue(connect, setup.instance_id)
    first = queued_chat(local, connect, setup, basic["Id"])
    second = queued_chat(local, connect, setup, basic["Id"])
    third = queued_chat(local, connect, setup, billing["QueueId"])

    listed = ok(local.url, "GET", f"queues?account={account}&instance={setup.instance_id}")["queues"]
    by_name = {q["name"]: q for q in listed}
    assert set(by_name) == {"BasicQueue", "Billing"}
    assert by_name["BasicQueue"]["arn"] == basic["Arn"] and by_name["BasicQueue"]["account"] == account
    assert [w["contactId"] for w in by_name["BasicQueue"]["waiting"]] == [first, second]
    assert [w["contactId"] for w in by_name["Billing"]["waiting"]] == [third]
    assert by_name["BasicQueue"]["waiting"][0]["enqueuedAt"].endswith("Z")

    ok(local.url, "POST", f"contacts/{first}/agent", {"action": "accept"})
    connect.stop_contact(InstanceId=setup.instance_id, ContactId=third)
    listed = ok(local.url, "GET", f"queues?account={account}&instance={setup.instance_id}")["queues"]
    assert {q["name"]: [w["contactId"] for w in q["waiting"]] for q in listed} == {
        "BasicQueue": [second],
        "Billing": [],
    }
    assert ok(local.url, "GET", f"queues?account={account_key()}")["queues"] == []
    assert admin(local.url, "GET", "queues?contact=x")[0] == 400


def test_the_runner_hook_is_awaited_after_each_accept(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    seen: list[tuple[Scope, str, bool]] = []

    async def on_accepted(scope: Scope, contact_id: str) -> None:
        await asyncio.sleep(0)
        seen.append((scope, contact_id, await accepted(local, scope, contact_id)))

    local.on_accepted(on_accepted)
    try:
        contact_id = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])
        ok(local.url, "POST", f"contacts/{contact_id}/agent", {"action": "accept"})
        ok(local.url, "POST", f"contacts/{start_chat(connect, setup)['ContactId']}/agent", {"action": "join"})
    finally:
        local.on_accepted(None)
    assert seen == [(Scope(key_of(connect), "us-east-1"), contact_id, True)]  # the join without a queue: no hook

    async def broken(scope: Scope, contact_id: str) -> None:
        raise RuntimeError("the runner failed")

    local.on_accepted(broken)
    try:  # the accept has committed: a failing hook is logged, the agent still gets its token
        other = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])
        assert "ParticipantToken" in ok(local.url, "POST", f"contacts/{other}/agent", {"action": "accept"})
    finally:
        local.on_accepted(None)


async def accepted(local: InProcessParley, scope: Scope, contact_id: str) -> bool:
    """Whether the accept had committed when the hook ran (read through the store, not the network: the hook
    runs on the server's loop)."""
    assert local.app is not None
    contact = await local.app.store.read(lambda repo: repo.get_contact(scope, contact_id))
    return contact is not None and contact.accepted_at is not None


def test_the_cli_lists_queues_and_accepts(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    contact_id = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])

    def cli(*words: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "parley", *words, "--endpoint-url", local.url],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    [queue] = cli("queues", "--account", key_of(connect), "--instance", setup.instance_id)["queues"]
    assert [w["contactId"] for w in queue["waiting"]] == [contact_id]
    accepted = cli("agent", "accept", contact_id, "--display-name", "Ann", "--agent-id", "ann-7")
    assert set(accepted) == {"ParticipantId", "ParticipantToken"}
    assert (
        connect.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]["AgentInfo"]["Id"]
        == "ann-7"
    )
    done = subprocess.run(
        [sys.executable, "-m", "parley", "agent", "accept", contact_id, "--endpoint-url", local.url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "409 NotQueued" in done.stderr


def test_state_shows_queues_hours_and_lambda_functions_and_a_reset_removes_them(local: InProcessParley) -> None:
    connect = client("connect", local.url)
    setup = make_instance(connect)
    account = key_of(connect)
    connect.associate_lambda_function(InstanceId=setup.instance_id, FunctionArn=LAMBDA.format("startBot"))
    contact_id = queued_chat(local, connect, setup, basic_queue(connect, setup.instance_id)["Id"])
    [instance] = ok(local.url, "GET", f"state?account={account}")["instances"]
    assert [q["name"] for q in instance["queues"]] == ["BasicQueue"]
    assert [h["name"] for h in instance["hoursOfOperations"]] == ["Basic Hours"]
    assert [f["arn"] for f in instance["lambdaFunctions"]] == [LAMBDA.format("startBot")]
    [contact] = ok(local.url, "GET", f"state?contact={contact_id}")["contacts"]
    assert contact["queueId"] == instance["queues"][0]["id"] and contact["enqueuedAt"]

    removed = ok(local.url, "POST", "reset", {"account": account})["removed"]
    assert removed["queues"] == 1 and removed["hoursOfOperations"] == 1 and removed["lambdaFunctions"] == 1
    assert "queued" not in removed
    assert ok(local.url, "GET", f"queues?account={account}")["queues"] == []


# -- durability and instances stored by v1 ------------------------------------------------------------------
def test_queues_and_lambda_functions_survive_a_restart(tmp_path: Path) -> None:
    key = account_key()
    first = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", first.url, key)
        setup = make_instance(connect)
        hours_id = connect.list_hours_of_operations(InstanceId=setup.instance_id)["HoursOfOperationSummaryList"][0][
            "Id"
        ]
        made = connect.create_queue(
            InstanceId=setup.instance_id, Name="Billing", HoursOfOperationId=hours_id, MaxContacts=3
        )
        connect.associate_lambda_function(InstanceId=setup.instance_id, FunctionArn=LAMBDA.format("startBot"))
    finally:
        assert first.stop() == 0
    second = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", second.url, key)
        queue = connect.describe_queue(InstanceId=setup.instance_id, QueueId=made["QueueId"])["Queue"]
        assert queue["Name"] == "Billing" and queue["MaxContacts"] == 3 and queue["QueueArn"] == made["QueueArn"]
        names = {s["Name"] for s in connect.list_queues(InstanceId=setup.instance_id)["QueueSummaryList"]}
        assert names == {"BasicQueue", "Billing"}
        assert connect.list_lambda_functions(InstanceId=setup.instance_id)["LambdaFunctions"] == [
            LAMBDA.format("startBot")
        ]
        assert not any("flow.upgraded" in line for line in second.lines)  # nothing to upgrade on a current store
    finally:
        second.stop()


def make_it_v1(database: Path, instance_id: str, contact_id: str) -> None:
    """What a v1 Parley left on disk: no queue tables, the placeholder in every default flow (Default queue
    transfer typed CONTACT_FLOW), and contact documents without the queue fields."""
    db = sqlite3.connect(database)
    with db:
        for table in ("queues", "hours", "lambda_functions", "queued"):
            db.execute(f"DROP TABLE {table}")
        for name, _ in DEFAULT_FLOWS:
            (doc,) = db.execute("SELECT doc FROM flows WHERE instance_id=? AND name=?", (instance_id, name)).fetchone()
            flow = json.loads(doc)
            if name == "Basic Settings":
                flow["content"] = '{"Version":"2019-10-30","StartAction":"mine","Actions":[]}'  # a user's edit
            else:
                flow["content"] = v1_placeholder_content(name)
                flow["type"] = V1_TYPES.get(name, flow["type"])
            flow["content_sha256"] = sha256(flow["content"])
            db.execute(
                "UPDATE flows SET doc=?, type=? WHERE instance_id=? AND name=?",
                (json.dumps(flow), flow["type"], instance_id, name),
            )
        (doc,) = db.execute("SELECT doc FROM contacts WHERE id=?", (contact_id,)).fetchone()
        contact = json.loads(doc)
        for field in ("target_queue_id", "queue_id", "enqueued_at", "agent_id", "accepted_at", "connected_to_agent_at"):
            del contact[field]
        db.execute("UPDATE contacts SET doc=? WHERE id=?", (json.dumps(contact), contact_id))
    db.close()


def test_an_instance_stored_by_v1_gets_basic_queue_and_real_default_flows(tmp_path: Path) -> None:
    key = account_key()
    first = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", first.url, key)
        setup = make_instance(connect)
        contact_id = start_chat(connect, setup)["ContactId"]
    finally:
        assert first.stop() == 0
    make_it_v1(tmp_path / "parley.sqlite3", setup.instance_id, contact_id)

    second = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", second.url, key)
        queue = basic_queue(connect, setup.instance_id)
        assert (
            connect.list_hours_of_operations(InstanceId=setup.instance_id)["HoursOfOperationSummaryList"][0]["Name"]
            == "Basic Hours"
        )
        flows = {
            s["Name"]: s for s in connect.list_contact_flows(InstanceId=setup.instance_id)["ContactFlowSummaryList"]
        }
        assert flows["Default queue transfer"]["ContactFlowType"] == "QUEUE_TRANSFER"

        def content(name: str) -> str:
            flow = connect.describe_contact_flow(InstanceId=setup.instance_id, ContactFlowId=flows[name]["Id"])
            return str(flow["ContactFlow"]["Content"])

        inbound = json.loads(content("Default inbound flow"))
        assert inbound["Actions"][1]["Parameters"] == {"QueueId": queue["Arn"]}
        assert (
            inbound["Actions"][0]["Parameters"]["EventHooks"]["CustomerRemaining"]
            == flows["Sample disconnect flow"]["Arn"]
        )
        assert "DisconnectParticipant" not in [
            a["Type"] for a in json.loads(content("Default customer queue"))["Actions"]
        ]
        assert json.loads(content("Basic Settings"))["StartAction"] == "mine"  # edited by a user: left alone
        upgraded = [line for line in second.lines if "flow.upgraded" in line]
        assert len(upgraded) == len(DEFAULT_FLOWS) - 1 and all(setup.instance_id in line for line in upgraded)
        assert any("queue.created" in line for line in second.lines)
        contact = connect.describe_contact(InstanceId=setup.instance_id, ContactId=contact_id)["Contact"]
        assert contact["Id"] == contact_id and "QueueInfo" not in contact  # a v1 contact document still loads
    finally:
        second.stop()
    third = start_parley("--data-dir", str(tmp_path))  # the upgrade happens once
    try:
        assert not any("flow.upgraded" in line or "queue.created" in line for line in third.lines)
        assert len(client("connect", third.url, key).list_queues(InstanceId=setup.instance_id)["QueueSummaryList"]) == 1
    finally:
        third.stop()
