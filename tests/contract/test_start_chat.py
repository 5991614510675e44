"""StartChatContact's request fields and rules, and contact attributes, through boto3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Setup, client, key_of, make_instance, start_chat, start_parley

INTERACTIVE = [
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
]


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_minimal_chat_returns_ids_and_a_token(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    assert set(chat) - {"ResponseMetadata"} == {"ContactId", "ParticipantId", "ParticipantToken"}


def test_unknown_flow_and_unknown_instance(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        connect.start_chat_contact(
            InstanceId=instance.instance_id,
            ContactFlowId="11111111-0000-4000-8000-000000000000",
            ParticipantDetails={"DisplayName": "c"},
        )
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        connect.start_chat_contact(
            InstanceId="11111111-0000-4000-8000-000000000000",
            ContactFlowId=instance.flow_id,
            ParticipantDetails={"DisplayName": "c"},
        )
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize("minutes", [59, 10081])
def test_chat_duration_bounds(parley: Any, connect: Any, instance: Setup, minutes: int) -> None:
    raw = client("connect", parley.url, key_of(connect), parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        start_chat(raw, instance, ChatDurationInMinutes=minutes)
    assert code_of(excinfo) == ("InvalidParameterException", 400)
    assert "chatDurationInMinutes" in excinfo.value.response["Error"]["Message"]


def test_chat_duration_defaults_to_25_hours(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    bot = connect.create_participant(
        InstanceId=instance.instance_id,
        ContactId=chat["ContactId"],
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "b"},
    )
    contact = connect.describe_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])["Contact"]
    expiry = bot["ParticipantCredentials"]["Expiry"]
    started = contact["InitiationTimestamp"]
    parsed = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(parsed - started - timedelta(minutes=1500)) < timedelta(seconds=1)


def test_supported_content_types_must_include_text_plain(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, SupportedMessagingContentTypes=["text/markdown"])
    assert code_of(excinfo) == ("InvalidParameterException", 400)
    assert "text/plain" in excinfo.value.response["Error"]["Message"]


def test_supported_content_types_must_be_known(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, SupportedMessagingContentTypes=["text/plain", "image/png"])
    assert code_of(excinfo) == ("InvalidParameterException", 400)
    assert "image/png" in excinfo.value.response["Error"]["Message"]


def test_guide_subtype_requires_both_interactive_types(connect: Any, instance: Setup) -> None:
    guide = {"connect:Subtype": {"ValueString": "connect:Guide"}}
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, SegmentAttributes=guide, SupportedMessagingContentTypes=["text/plain"])
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    chat = start_chat(
        connect, instance, SegmentAttributes=guide, SupportedMessagingContentTypes=["text/plain", *INTERACTIVE]
    )
    contact = connect.describe_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])["Contact"]
    assert contact["SegmentAttributes"] == guide


def test_attribute_keys_and_total_size(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, Attributes={"bad key!": "x"})
    assert code_of(excinfo) == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, Attributes={"a": "x" * 20000, "b": "y" * 13000})
    assert code_of(excinfo) == ("InvalidParameterException", 400)
    assert "32768" in excinfo.value.response["Error"]["Message"]
    # Bytes, not characters: 10,000 three-byte characters are 30,000 bytes, within the limit.
    chat = start_chat(connect, instance, Attributes={"k": "€" * 10000})
    got = connect.get_contact_attributes(InstanceId=instance.instance_id, InitialContactId=chat["ContactId"])
    assert got["Attributes"] == {"k": "€" * 10000}


def test_customer_id_and_description_fields_are_kept(connect: Any, instance: Setup) -> None:
    chat = start_chat(
        connect, instance, CustomerId="cust-7", InitialMessage={"ContentType": "text/plain", "Content": "hi"}
    )
    contact = connect.describe_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])["Contact"]
    assert contact["CustomerId"] == "cust-7"


def test_streaming_configuration_returns_a_streaming_id(connect: Any, instance: Setup) -> None:
    chat = start_chat(
        connect,
        instance,
        ChatStreamingConfiguration={"StreamingEndpointArn": "arn:aws:sns:us-east-1:123456789012:chat-stream"},
    )
    assert chat["StreamingId"]


def test_connection_types_that_cannot_be_served_are_refused_whole(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, ConnectionTypes=["WEBRTC_CONNECTION"])
    assert code_of(excinfo) == ("InvalidRequestException", 400)


def test_related_contact_must_exist_and_excludes_persistent_chat(connect: Any, instance: Setup) -> None:
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, RelatedContactId="22222222-0000-4000-8000-000000000000")
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)
    first = start_chat(connect, instance)
    with pytest.raises(ClientError) as excinfo:
        start_chat(
            connect,
            instance,
            RelatedContactId=first["ContactId"],
            PersistentChat={"RehydrationType": "FROM_SEGMENT", "SourceContactId": first["ContactId"]},
        )
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    related = start_chat(connect, instance, RelatedContactId=first["ContactId"])
    contact = connect.describe_contact(InstanceId=instance.instance_id, ContactId=related["ContactId"])["Contact"]
    assert contact["RelatedContactId"] == first["ContactId"]


def test_persistent_chat_needs_an_ended_source(connect: Any, instance: Setup) -> None:
    past = start_chat(connect, instance)
    persistent = {"RehydrationType": "ENTIRE_PAST_SESSION", "SourceContactId": past["ContactId"]}
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, instance, PersistentChat=persistent)
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    connect.stop_contact(InstanceId=instance.instance_id, ContactId=past["ContactId"])
    continued = start_chat(connect, instance, PersistentChat=persistent)
    assert continued["ContinuedFromContactId"] == past["ContactId"]
    contact = connect.describe_contact(InstanceId=instance.instance_id, ContactId=continued["ContactId"])["Contact"]
    assert contact["RelatedContactId"] == past["ContactId"]


def test_active_chat_quota() -> None:
    server = start_parley("--quota-active-chats", "2")
    try:
        connect = client("connect", server.url)

        setup = make_instance(connect)
        first = start_chat(connect, setup)
        start_chat(connect, setup)
        with pytest.raises(ClientError) as excinfo:
            start_chat(connect, setup)
        assert code_of(excinfo) == ("LimitExceededException", 429)
        connect.stop_contact(InstanceId=setup.instance_id, ContactId=first["ContactId"])
        assert start_chat(connect, setup)["ContactId"]
    finally:
        server.stop()


def test_update_attributes_merges_and_works_after_the_end(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance, Attributes={"a": "1", "b": "2"})
    connect.update_contact_attributes(
        InstanceId=instance.instance_id, InitialContactId=chat["ContactId"], Attributes={"b": "3", "c": ""}
    )
    connect.stop_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])
    connect.update_contact_attributes(
        InstanceId=instance.instance_id, InitialContactId=chat["ContactId"], Attributes={"d": "4"}
    )
    got = connect.get_contact_attributes(InstanceId=instance.instance_id, InitialContactId=chat["ContactId"])
    assert got["Attributes"] == {"a": "1", "b": "3", "c": "", "d": "4"}


def test_update_attributes_refuses_to_exceed_the_total(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance, Attributes={"a": "x" * 30000})
    with pytest.raises(ClientError) as excinfo:
        connect.update_contact_attributes(
            InstanceId=instance.instance_id, InitialContactId=chat["ContactId"], Attributes={"b": "y" * 5000}
        )
    assert code_of(excinfo) == ("InvalidParameterException", 400)
    got = connect.get_contact_attributes(InstanceId=instance.instance_id, InitialContactId=chat["ContactId"])
    assert got["Attributes"] == {"a": "x" * 30000}


def test_stop_contact_twice_and_unknown(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    connect.stop_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])
    with pytest.raises(ClientError) as excinfo:
        connect.stop_contact(InstanceId=instance.instance_id, ContactId=chat["ContactId"])
    assert code_of(excinfo) == ("InvalidRequestException", 400)
    with pytest.raises(ClientError) as excinfo:
        connect.stop_contact(InstanceId=instance.instance_id, ContactId="33333333-0000-4000-8000-000000000000")
    assert code_of(excinfo) == ("ResourceNotFoundException", 404)


def test_stop_ended_can_be_configured_ok() -> None:
    server = start_parley(env={"PARLEY_STOP_ENDED": "ok"})
    try:
        connect = client("connect", server.url)

        setup = make_instance(connect)
        chat = start_chat(connect, setup)
        connect.stop_contact(InstanceId=setup.instance_id, ContactId=chat["ContactId"])
        connect.stop_contact(InstanceId=setup.instance_id, ContactId=chat["ContactId"])
    finally:
        server.stop()
