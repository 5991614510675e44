"""CreateParticipant through boto3 against a real server: the walk and every rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.conftest import Setup, client, key_of, start_chat

BOT = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_boto3_walk_instance_to_stopped_contact(connect: Any) -> None:
    created = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias="walk",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    flows = connect.list_contact_flows(InstanceId=created["Id"])["ContactFlowSummaryList"]
    inbound = next(f for f in flows if f["Name"] == "Default inbound flow")
    chat = connect.start_chat_contact(
        InstanceId=created["Id"], ContactFlowId=inbound["Id"], ParticipantDetails={"DisplayName": "Ana"}
    )
    bot = connect.create_participant(InstanceId=created["Id"], ContactId=chat["ContactId"], ParticipantDetails=BOT)
    assert bot["ParticipantId"] and bot["ParticipantId"] != chat["ParticipantId"]
    token = bot["ParticipantCredentials"]["ParticipantToken"]
    assert len(token) >= 22 and token != chat["ParticipantToken"]

    contact = connect.describe_contact(InstanceId=created["Id"], ContactId=chat["ContactId"])["Contact"]
    assert contact["Channel"] == "CHAT" and contact["InitiationMethod"] == "API"
    assert "DisconnectTimestamp" not in contact

    connect.stop_contact(InstanceId=created["Id"], ContactId=chat["ContactId"])
    stopped = connect.describe_contact(InstanceId=created["Id"], ContactId=chat["ContactId"])["Contact"]
    assert stopped["DisconnectTimestamp"] >= stopped["InitiationTimestamp"]
    assert stopped["DisconnectReason"] == "API"

    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(InstanceId=created["Id"], ContactId=chat["ContactId"], ParticipantDetails=BOT)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ConflictException", 409)
    assert chat["ContactId"] in message and "ended" in message


def test_expiry_is_the_chats_scheduled_end_as_iso8601(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance, ChatDurationInMinutes=90)
    bot = connect.create_participant(
        InstanceId=instance.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
    )
    expiry = bot["ParticipantCredentials"]["Expiry"]
    assert isinstance(expiry, str) and len(expiry) == 24 and expiry.endswith("Z") and expiry[19] == "."
    started = connect.describe_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])["Contact"]
    parsed = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(parsed - (started["InitiationTimestamp"] + timedelta(minutes=90))) < timedelta(seconds=1)


@pytest.mark.parametrize("role", ["CUSTOMER", "AGENT", "SUPERVISOR", "SYSTEM"])
def test_chat_accepts_only_custom_bot(connect: Any, instance: Setup, role: str) -> None:
    chat = start_chat(connect, instance)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            InstanceId=instance.instance_id,
            ContactId=chat["ContactId"],
            ParticipantDetails={"ParticipantRole": role, "DisplayName": "X"},
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidRequestException", 400)
    assert "CUSTOM_BOT" in message and role in message


def test_missing_role_is_refused_on_a_chat(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            InstanceId=instance.instance_id, ContactId=chat["ContactId"], ParticipantDetails={"DisplayName": "X"}
        )
    assert error_of(excinfo)[:2] == ("InvalidRequestException", 400)


def test_a_second_custom_bot_exceeds_the_quota(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    connect.create_participant(InstanceId=instance.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(InstanceId=instance.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ServiceQuotaExceededException", 402)
    assert "custom bot" in message


def test_unknown_contact(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            InstanceId=instance.instance_id, ContactId="6f2c1a9e-0000-4000-8000-000000000000", ParticipantDetails=BOT
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "6f2c1a9e-0000-4000-8000-000000000000" in message


def test_unknown_instance(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            InstanceId="00000000-0000-4000-8000-000000000000", ContactId=chat["ContactId"], ParticipantDetails=BOT
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "Instance" in message


def test_contact_of_another_instance_is_not_found(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    other = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias="other",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(InstanceId=other["Id"], ContactId=chat["ContactId"], ParticipantDetails=BOT)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_instance_arn_is_accepted_in_place_of_its_id(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    arn = connect.describe_instance(InstanceId=instance.instance_id)["Instance"]["Arn"]
    bot = connect.create_participant(InstanceId=arn, ContactId=chat["ContactId"], ParticipantDetails=BOT)
    assert bot["ParticipantId"]


def test_display_name_of_257_characters(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            InstanceId=instance.instance_id,
            ContactId=chat["ContactId"],
            ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "b" * 257},
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidRequestException", 400)
    assert "participantDetails.displayName" in message and "less than or equal to 256" in message


def test_display_name_of_256_characters_is_fine(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    bot = connect.create_participant(
        InstanceId=instance.instance_id,
        ContactId=chat["ContactId"],
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "b" * 256},
    )
    assert bot["ParticipantId"]


def test_missing_display_name_is_refused_for_a_bot(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            InstanceId=instance.instance_id,
            ContactId=chat["ContactId"],
            ParticipantDetails={"ParticipantRole": "CUSTOM_BOT"},
        )
    code, _, message = error_of(excinfo)
    assert code == "InvalidRequestException" and "DisplayName" in message


def test_missing_participant_details(parley: Any, instance: Setup, connect: Any) -> None:
    chat = start_chat(connect, instance)
    # botocore refuses this client-side; the server must refuse it too, so send it unvalidated.
    with pytest.raises(ParamValidationError):
        connect.create_participant(InstanceId=instance.instance_id, ContactId=chat["ContactId"])
    raw = _raw_client(parley.url, key=key_of(connect))
    with pytest.raises(ClientError) as excinfo:
        raw.create_participant(InstanceId=instance.instance_id, ContactId=chat["ContactId"])
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidRequestException", 400)
    assert "participantDetails" in message and "must not be null" in message


def test_unknown_enum_value(parley: Any, instance: Setup, connect: Any) -> None:
    chat = start_chat(connect, instance)
    raw = _raw_client(parley.url, key=key_of(connect))
    with pytest.raises(ClientError) as excinfo:
        raw.create_participant(
            InstanceId=instance.instance_id,
            ContactId=chat["ContactId"],
            ParticipantDetails={"ParticipantRole": "ROBOT", "DisplayName": "X"},
        )
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidRequestException", 400)
    assert "participantRole" in message and "enum value set" in message and "CUSTOM_BOT" in message


def test_capabilities_are_ignored_on_a_chat_by_default(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    bot = connect.create_participant(
        InstanceId=instance.instance_id,
        ContactId=chat["ContactId"],
        ParticipantDetails={**BOT, "ParticipantCapabilities": {"Video": "SEND"}},
    )
    assert bot["ParticipantId"]


def _raw_client(url: str, key: str | None = None) -> Any:
    """A boto3 client whose client-side validation is off, to send what botocore would refuse."""
    return client("connect", url, key, parameter_validation=False)
