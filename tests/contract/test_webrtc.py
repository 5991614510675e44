"""WebRTC contacts through boto3: StartWebRTCContact, customers added by CreateParticipant,
WEBRTC_CONNECTION, leaving, StopContact, and every refusal."""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, Setup, client, make_instance
from tests.contract.chat_helpers import new_chat, participant_client
from tests.contract.test_participant_service import error_of

GUID = re.compile(r"[a-f0-9]{8}(-[a-f0-9]{4}){3}-[a-f0-9]{12}")
BOTH = {"Video": "SEND", "ScreenShare": "SEND"}


@dataclass
class Call:
    connect: Any
    cp: Any
    setup: Setup
    started: dict[str, Any]

    @property
    def contact_id(self) -> str:
        return str(self.started["ContactId"])

    def add(self, name: str, client_token: str | None = None, **details: Any) -> dict[str, Any]:
        extra = {"ClientToken": client_token} if client_token else {}
        out = dict(
            self.connect.create_participant(
                InstanceId=self.setup.instance_id,
                ContactId=self.contact_id,
                ParticipantDetails={"ParticipantRole": "CUSTOMER", "DisplayName": name, **details},
                **extra,
            )
        )
        out.pop("ResponseMetadata")
        return out


def start_call(server: RunningParley, **extra: Any) -> Call:
    connect = client("connect", server.url)
    setup = make_instance(connect)
    params = {
        "InstanceId": setup.instance_id,
        "ContactFlowId": setup.flow_id,
        "ParticipantDetails": {"DisplayName": "Caller"},
        "AllowedCapabilities": {"Customer": {"Video": "SEND"}, "Agent": BOTH},
        **extra,
    }
    return Call(connect, participant_client(server.url), setup, connect.start_web_rtc_contact(**params))


def join_agent(server: RunningParley, contact_id: str) -> dict[str, Any]:
    body = json.dumps({"action": "join", "displayName": "Agent"}).encode()
    request = urllib.request.Request(f"{server.url}/_parley/contacts/{contact_id}/agent", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        out: dict[str, Any] = json.loads(response.read())
        return out


def connection(cp: Any, participant_token: str) -> dict[str, Any]:
    return dict(
        cp.create_participant_connection(
            ParticipantToken=participant_token, Type=["WEBRTC_CONNECTION", "CONNECTION_CREDENTIALS"]
        )
    )


def test_start_webrtc_contact_answers_a_meeting_and_an_attendee(parley: RunningParley) -> None:
    call = start_call(parley, Attributes={"tier": "gold"}, Description="video support")
    data = call.started["ConnectionData"]
    meeting, attendee = data["Meeting"], data["Attendee"]
    assert GUID.fullmatch(meeting["MeetingId"]) and meeting["MediaRegion"] == "us-east-1"
    assert set(meeting["MediaPlacement"]) == {
        "AudioHostUrl",
        "AudioFallbackUrl",
        "SignalingUrl",
        "TurnControlUrl",
        "EventIngestionUrl",
    }
    assert meeting["MeetingFeatures"] == {"Audio": {"EchoReduction": "AVAILABLE"}}
    assert attendee["AttendeeId"] and attendee["JoinToken"] and call.started["ParticipantToken"]
    contact = call.connect.describe_contact(InstanceId=call.setup.instance_id, ContactId=call.contact_id)["Contact"]
    assert (contact["Channel"], contact["InitiationMethod"]) == ("VOICE", "WEBRTC_API")
    assert contact["SegmentAttributes"]["connect:Subtype"] == {"ValueString": "connect:WebRTC"}
    assert contact["Attributes"] == {"tier": "gold"} and contact["Description"] == "video support"
    assert isinstance(contact["InitiationTimestamp"], datetime) and "DisconnectTimestamp" not in contact


def test_a_retried_start_returns_the_same_call(parley: RunningParley) -> None:
    call = start_call(parley, ClientToken="call-once")
    again = call.connect.start_web_rtc_contact(
        InstanceId=call.setup.instance_id,
        ContactFlowId=call.setup.flow_id,
        ParticipantDetails={"DisplayName": "Caller"},
        AllowedCapabilities={"Customer": {"Video": "SEND"}, "Agent": BOTH},
        ClientToken="call-once",
    )
    assert (again["ContactId"], again["ParticipantToken"]) == (call.contact_id, call.started["ParticipantToken"])


def test_two_customers_join_connect_one_leaves_and_the_call_is_stopped(parley: RunningParley) -> None:
    call = start_call(parley)
    agent = join_agent(parley, call.contact_id)
    first = call.add("Second", ParticipantCapabilities={"Video": "SEND"}, client_token="first")
    assert call.add("Second", ParticipantCapabilities={"Video": "SEND"}, client_token="first") == first
    second = call.add("Third")
    assert first["ParticipantId"] != second["ParticipantId"]
    meeting_id = call.started["ConnectionData"]["Meeting"]["MeetingId"]
    attendees = set()
    for who in (first, second):
        out = connection(call.cp, who["ParticipantCredentials"]["ParticipantToken"])
        rtc = out["WebRTCConnection"]
        assert rtc["Meeting"]["MeetingId"] == meeting_id and "TurnControlUrl" not in rtc["Meeting"]["MediaPlacement"]
        assert "Websocket" not in out and out["ConnectionCredentials"]["ConnectionToken"]
        attendees.add(rtc["Attendee"]["AttendeeId"])
        who["connection"] = out["ConnectionCredentials"]["ConnectionToken"]
    caller = connection(call.cp, call.started["ParticipantToken"])["WebRTCConnection"]["Attendee"]
    assert caller == call.started["ConnectionData"]["Attendee"]
    assert len(attendees | {caller["AttendeeId"]}) == 3

    call.cp.disconnect_participant(ConnectionToken=first["connection"])
    with pytest.raises(ClientError) as excinfo:  # gone: its tokens open nothing
        call.cp.disconnect_participant(ConnectionToken=first["connection"])
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as excinfo:
        connection(call.cp, first["ParticipantCredentials"]["ParticipantToken"])
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)

    call.connect.stop_contact(InstanceId=call.setup.instance_id, ContactId=call.contact_id)
    contact = call.connect.describe_contact(InstanceId=call.setup.instance_id, ContactId=call.contact_id)["Contact"]
    assert isinstance(contact["DisconnectTimestamp"], datetime) and contact["DisconnectReason"] == "API"
    assert contact["AgentInfo"]["Id"] == agent["ParticipantId"]
    for token in (second["connection"], agent["ParticipantToken"]):
        with pytest.raises(ClientError) as excinfo:
            call.cp.disconnect_participant(ConnectionToken=token)
        assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as excinfo:
        call.connect.stop_contact(InstanceId=call.setup.instance_id, ContactId=call.contact_id)
    assert error_of(excinfo)[:2] == ("ContactNotFoundException", 410)


def test_the_call_ends_when_its_last_customer_leaves(parley: RunningParley) -> None:
    call = start_call(parley)
    join_agent(parley, call.contact_id)
    extra = call.add("Second")
    caller = connection(call.cp, call.started["ParticipantToken"])["ConnectionCredentials"]["ConnectionToken"]
    extra_token = connection(call.cp, extra["ParticipantCredentials"]["ParticipantToken"])
    call.cp.disconnect_participant(ConnectionToken=caller)
    describe = call.connect.describe_contact
    assert (
        "DisconnectTimestamp" not in describe(InstanceId=call.setup.instance_id, ContactId=call.contact_id)["Contact"]
    )
    call.cp.disconnect_participant(ConnectionToken=extra_token["ConnectionCredentials"]["ConnectionToken"])
    contact = describe(InstanceId=call.setup.instance_id, ContactId=call.contact_id)["Contact"]
    assert contact["DisconnectReason"] == "CUSTOMER_DISCONNECT"


def refusal(call: Call, **details: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as excinfo:
        call.connect.create_participant(
            InstanceId=call.setup.instance_id, ContactId=call.contact_id, ParticipantDetails=details
        )
    return error_of(excinfo)


def test_no_participant_before_an_agent_is_connected(parley: RunningParley) -> None:
    code, status, message = refusal(start_call(parley), ParticipantRole="CUSTOMER", DisplayName="Early")
    assert (code, status) == ("InvalidRequestException", 400) and "agent" in message


@pytest.mark.parametrize("role", ["CUSTOM_BOT", "AGENT", "SUPERVISOR"])
def test_only_customers_join_a_call(parley: RunningParley, role: str) -> None:
    call = start_call(parley)
    join_agent(parley, call.contact_id)
    code, status, message = refusal(call, ParticipantRole=role, DisplayName="X")
    assert (code, status) == ("InvalidRequestException", 400) and "CUSTOMER" in message


@pytest.mark.parametrize("capabilities", [{"ScreenShare": "SEND"}, BOTH])
def test_capabilities_must_be_allowed_for_customers(parley: RunningParley, capabilities: dict[str, str]) -> None:
    call = start_call(parley)
    join_agent(parley, call.contact_id)
    details = {"ParticipantRole": "CUSTOMER", "DisplayName": "X", "ParticipantCapabilities": capabilities}
    code, status, message = refusal(call, **details)
    assert (code, status) == ("InvalidRequestException", 400) and "ScreenShare" in message
    assert call.add("Video only", ParticipantCapabilities={"Video": "SEND"})["ParticipantId"]


def test_a_call_holds_six_participants(parley: RunningParley) -> None:
    call = start_call(parley)
    join_agent(parley, call.contact_id)  # the caller and the agent: two of six
    for n in range(4):
        call.add(f"Guest {n}")
    code, status, _ = refusal(call, ParticipantRole="CUSTOMER", DisplayName="Seventh")
    assert (code, status) == ("ServiceQuotaExceededException", 402)


def test_an_ended_call_takes_nobody(parley: RunningParley) -> None:
    call = start_call(parley)
    join_agent(parley, call.contact_id)
    call.connect.stop_contact(InstanceId=call.setup.instance_id, ContactId=call.contact_id)
    code, status, _ = refusal(call, ParticipantRole="CUSTOMER", DisplayName="Late")
    assert (code, status) == ("ConflictException", 409)


def test_connection_types_follow_the_channel(parley: RunningParley) -> None:
    call = start_call(parley)
    with pytest.raises(ClientError) as excinfo:
        call.cp.create_participant_connection(ParticipantToken=call.started["ParticipantToken"], Type=["WEBSOCKET"])
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    chat = new_chat(parley)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.create_participant_connection(
            ParticipantToken=chat.started["ParticipantToken"], Type=["WEBRTC_CONNECTION"]
        )
    assert error_of(excinfo)[:2] == ("ValidationException", 400)


def test_start_webrtc_contact_refusals(parley: RunningParley) -> None:
    call = start_call(parley)
    base = {"InstanceId": call.setup.instance_id, "ContactFlowId": call.setup.flow_id}
    cases: list[tuple[dict[str, Any], tuple[str, int]]] = [
        ({**base, "InstanceId": "00000000-0000-4000-8000-000000000000"}, ("ResourceNotFoundException", 404)),
        ({**base, "ContactFlowId": "00000000-0000-4000-8000-000000000000"}, ("ResourceNotFoundException", 404)),
        ({**base, "Attributes": {"bad key": "v"}}, ("InvalidParameterException", 400)),
        ({**base, "RelatedContactId": "00000000-0000-4000-8000-000000000000"}, ("ResourceNotFoundException", 404)),
    ]
    for params, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            call.connect.start_web_rtc_contact(ParticipantDetails={"DisplayName": "C"}, **params)
        assert error_of(excinfo)[:2] == expected, params
