"""Flow runs as a durable, deterministic service: a run waiting in a Wait survives a SIGKILL of a durable
Parley; a Wait's timeout fires under the virtual clock without sleeping; two runs with one --seed leave
identical trails; a run never blocks the request that started it. Real `parley serve`, real boto3."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningParley, client, start_parley
from tests.contract.admin_helpers import ok
from tests.contract.chat_helpers import Party, join, participant_client


def document(start: str, *actions: dict[str, Any]) -> str:
    return json.dumps({"Version": "2019-10-30", "StartAction": start, "Actions": list(actions)})


def say(ident: str, text: str, then: str | None) -> dict[str, Any]:
    transitions: dict[str, Any] = {"NextAction": then} if then else {}
    return {"Identifier": ident, "Type": "MessageParticipant", "Parameters": {"Text": text}, "Transitions": transitions}


def wait(ident: str, seconds: int, events: list[str], on: dict[str, str]) -> dict[str, Any]:
    conditions = [
        {"NextAction": target, "Condition": {"Operator": "Equals", "Operands": [branch]}}
        for branch, target in on.items()
    ]
    return {
        "Identifier": ident,
        "Type": "Wait",
        "Parameters": {"TimeoutSeconds": str(seconds), "Events": events},
        "Transitions": {"NextAction": on["WaitCompleted"], "Conditions": conditions},
    }


END = {"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}
HOLD = wait("hold", 3600, ["CustomerReturned"], {"WaitCompleted": "end", "CustomerReturned": "hold"})


@dataclass
class Started:
    connect: Any
    instance_id: str
    flow_id: str
    started: dict[str, Any]
    cp: Any

    @property
    def contact_id(self) -> str:
        return str(self.started["ContactId"])

    def customer(self) -> Party:
        return join(self.cp, self.started["ParticipantToken"], self.started["ParticipantId"], websocket=False)

    def again(self) -> Started:
        started = self.connect.start_chat_contact(
            InstanceId=self.instance_id, ContactFlowId=self.flow_id, ParticipantDetails={"DisplayName": "Ada"}
        )
        return Started(self.connect, self.instance_id, self.flow_id, started, self.cp)


def chat_on(server: RunningParley, content: str, key: str = "123456789012") -> Started:
    connect = client("connect", server.url, key=key)
    instance_id = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias="flows",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    flow_id = connect.create_contact_flow(
        InstanceId=instance_id, Name="Under test", Type="CONTACT_FLOW", Content=content
    )["ContactFlowId"]
    started = connect.start_chat_contact(
        InstanceId=instance_id, ContactFlowId=flow_id, ParticipantDetails={"DisplayName": "Ada"}
    )
    return Started(connect, instance_id, flow_id, started, participant_client(server.url))


def flow(server: RunningParley, contact_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(server.url, "GET", f"contacts/{contact_id}/flow?wait=idle&timeout=10")
    return found


def texts(cp: Any, token: str) -> list[str]:
    items = cp.get_transcript(ConnectionToken=token, SortOrder="ASCENDING", MaxResults=100)["Transcript"]
    return [i["Content"] for i in items if i["Type"] == "MESSAGE"]


RETURNING = document(
    "hello",
    say("hello", "Hello", "pause"),
    wait("pause", 900, ["CustomerReturned"], {"WaitCompleted": "end", "CustomerReturned": "back"}),
    say("back", "Welcome back", "hold"),
    HOLD,
    END,
)


def test_a_waiting_run_resumes_after_a_sigkill_of_a_durable_parley(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = start_parley("--data-dir", data)
    try:
        chat = chat_on(first, RETURNING)
        customer = chat.customer()
        assert flow(first, chat.contact_id)["action"] == "pause"
    finally:
        first.process.send_signal(signal.SIGKILL)
        first.stop()
    second = start_parley("--data-dir", data)
    try:
        cp = participant_client(second.url)
        waiting = flow(second, chat.contact_id)
        assert waiting["state"] == "waiting" and waiting["action"] == "pause"
        cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="I'm back")
        resumed = flow(second, chat.contact_id)
        assert resumed["action"] == "hold", resumed
        assert texts(cp, customer.connection_token) == ["Hello", "I'm back", "Welcome back"]
    finally:
        second.stop()


def test_a_wait_times_out_under_the_virtual_clock_without_sleeping() -> None:
    server = start_parley("--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
    try:
        chat = chat_on(server, RETURNING)
        chat.customer()
        assert flow(server, chat.contact_id)["deadline"] == "2030-01-01T00:15:00.000Z"
        ok(server.url, "POST", "clock", {"advance": "PT14M59S"})
        assert flow(server, chat.contact_id)["action"] == "pause"
        ok(server.url, "POST", "clock", {"advance": "PT1S"})  # answered after the due timers ran
        trail = flow(server, chat.contact_id)["trail"]
        assert [t["branch"] for t in trail if t["action"] == "pause"][-1] == "Equals WaitCompleted"
        described = chat.connect.describe_contact(InstanceId=chat.instance_id, ContactId=chat.contact_id)["Contact"]
        assert described.get("DisconnectTimestamp"), "the flow's Disconnect ended the chat"
    finally:
        server.stop()


TWO_WAITS = document(
    "first",
    wait("first", 60, ["CustomerReturned"], {"WaitCompleted": "late", "CustomerReturned": "back"}),
    say("back", "back", "second"),
    wait("second", 60, ["CustomerReturned"], {"WaitCompleted": "late", "CustomerReturned": "second"}),
    say("late", "timed out", "hold"),
    HOLD,
    END,
)


def test_a_wait_begun_on_a_resume_hears_only_later_messages_even_with_the_same_deadline() -> None:
    """Under a virtual clock that has not moved, the second wait ends when the first did; the message that
    ended the first must not end it too (it did, in a loop, before)."""
    server = start_parley("--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
    try:
        chat = chat_on(server, TWO_WAITS)
        customer = chat.customer()
        assert flow(server, chat.contact_id)["action"] == "first"
        chat.cp.send_message(ConnectionToken=customer.connection_token, ContentType="text/plain", Content="hi")
        run = flow(server, chat.contact_id)
        assert (run["action"], run["deadline"]) == ("second", "2030-01-01T00:01:00.000Z")
        assert ok(server.url, "POST", "clock", {"advance": "PT61S"})["fired"] == 1
        assert flow(server, chat.contact_id)["action"] == "hold"
        assert texts(chat.cp, customer.connection_token) == ["hi", "back", "timed out"]
    finally:
        server.stop()


SPLIT = document(
    "split",
    {
        "Identifier": "split",
        "Type": "DistributeByPercentage",
        "Parameters": {},
        "Transitions": {
            "NextAction": "b",
            "Conditions": [{"NextAction": "a", "Condition": {"Operator": "NumberLessThan", "Operands": ["50"]}}],
            "Errors": [{"NextAction": "b", "ErrorType": "NoMatchingCondition"}],
        },
    },
    say("a", "went a", "hold"),
    say("b", "went b", "hold"),
    HOLD,
    END,
)


def test_two_runs_with_one_seed_leave_identical_trails() -> None:
    trails = []
    for _ in range(2):
        server = start_parley("--seed", "7", "--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z")
        try:
            chat = chat_on(server, SPLIT)
            runs = []
            for _ in range(6):
                chat.customer()
                runs.append(flow(server, chat.contact_id)["trail"])
                chat = chat.again()
            trails.append(runs)
        finally:
            server.stop()
    assert trails[0] == trails[1]
    branches = {t["action"] for run in trails[0] for t in run if t["action"] in ("a", "b")}
    assert branches == {"a", "b"}, "six draws from 1-100 fall on both sides of 50 with this seed"


SHOW_VIEW = document(
    "view",
    {
        "Identifier": "view",
        "Type": "ShowView",
        "Parameters": {"ViewResource": {"Id": "arn:aws:connect:us-east-1:123456789012:instance/x/view/y"}},
        "Transitions": {"NextAction": "after", "Errors": [{"NextAction": "error", "ErrorType": "NoMatchingError"}]},
    },
    say("after", "went past the view", "hold"),
    say("error", "took the Error branch", "hold"),
    HOLD,
    END,
)


@pytest.mark.parametrize(
    ("setting", "said", "ended"),
    [("error", ["took the Error branch"], False), ("skip", ["went past the view"], False), ("end", [], True)],
)
def test_an_unsupported_action_follows_the_setting_and_is_logged(setting: str, said: list[str], ended: bool) -> None:
    server = start_parley("--unsupported-action", setting)
    try:
        chat = chat_on(server, SHOW_VIEW)
        customer = chat.customer()
        flow(server, chat.contact_id)
        contact = chat.connect.describe_contact(InstanceId=chat.instance_id, ContactId=chat.contact_id)["Contact"]
        assert bool(contact.get("DisconnectTimestamp")) == ended
        if not ended:
            assert texts(chat.cp, customer.connection_token) == said
        lines = [line for line in server.lines if "flow.unsupported" in line]
        assert len(lines) == 1 and "type=ShowView action=view" in lines[0] and chat.contact_id in lines[0]
    finally:
        server.stop()


LOOPING = document(
    "again",
    {
        "Identifier": "again",
        "Type": "UpdateContactAttributes",
        "Parameters": {"Attributes": {"round": "more"}},
        "Transitions": {"NextAction": "again"},
    },
)


def test_a_flow_that_never_waits_is_ended_by_the_step_limit() -> None:
    server = start_parley("--flow-max-steps", "25")
    try:
        chat = chat_on(server, LOOPING)
        chat.customer()
        run = flow(server, chat.contact_id)
        assert run["state"] == "ended"
        assert len([t for t in run["trail"] if t["action"] == "again"]) == 25
        contact = chat.connect.describe_contact(InstanceId=chat.instance_id, ContactId=chat.contact_id)["Contact"]
        assert contact.get("DisconnectTimestamp"), "a loop ends the chat like any flow that ends before a queue"
    finally:
        server.stop()
