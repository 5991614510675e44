"""ClientToken idempotency over real sockets: replay, mismatch, concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, Setup, client, key_of, make_instance, start_chat, start_parley

BOT = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}


def test_retry_with_the_same_token_returns_the_original_participant(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    args = {"InstanceId": instance.instance_id, "ContactId": chat["ContactId"], "ParticipantDetails": BOT}
    first = connect.create_participant(ClientToken="retry-1", **args)
    again = connect.create_participant(ClientToken="retry-1", **args)
    assert again["ParticipantId"] == first["ParticipantId"]
    assert again["ParticipantCredentials"] == first["ParticipantCredentials"]
    # Nothing new was created: a genuinely new bot is still refused as the second one.
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(ClientToken="retry-2", **args)
    assert excinfo.value.response["Error"]["Code"] == "ServiceQuotaExceededException"


def test_same_token_different_parameters_is_a_conflict(connect: Any, instance: Setup) -> None:
    chat = start_chat(connect, instance)
    connect.create_participant(
        ClientToken="t", InstanceId=instance.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
    )
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(
            ClientToken="t",
            InstanceId=instance.instance_id,
            ContactId=chat["ContactId"],
            ParticipantDetails={**BOT, "DisplayName": "Other"},
        )
    response = excinfo.value.response
    # CreateParticipant does not declare IdempotencyException: its declared ConflictException (issue 12)
    assert response["Error"]["Code"] == "ConflictException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_mismatch_can_be_configured_to_count_as_new() -> None:
    server = start_parley(env={"PARLEY_IDEMPOTENCY_MISMATCH": "new"})
    try:
        connect = client("connect", server.url)
        setup = make_instance(connect)
        first = start_chat(connect, setup, ClientToken="t")
        second = connect.start_chat_contact(
            InstanceId=setup.instance_id,
            ContactFlowId=setup.flow_id,
            ParticipantDetails={"DisplayName": "Someone else"},
            ClientToken="t",
        )
        assert second["ContactId"] != first["ContactId"]
    finally:
        server.stop()


def test_errors_are_not_cached(connect: Any, instance: Setup) -> None:
    unknown = "0b6f7c8e-0000-4000-8000-000000000001"
    args = {"InstanceId": instance.instance_id, "ParticipantDetails": BOT, "ClientToken": "after-error"}
    with pytest.raises(ClientError):
        connect.create_participant(ContactId=unknown, **args)
    chat = start_chat(connect, instance)
    created = connect.create_participant(ContactId=chat["ContactId"], **args)
    assert created["ParticipantId"]


def test_start_chat_replay_returns_the_same_contact(connect: Any, instance: Setup) -> None:
    first = start_chat(connect, instance, ClientToken="chat-token")
    second = start_chat(connect, instance, ClientToken="chat-token")
    assert {k: v for k, v in first.items() if k != "ResponseMetadata"} == {
        k: v for k, v in second.items() if k != "ResponseMetadata"
    }


def test_tokens_are_scoped_per_account(parley: RunningParley, connect: Any, instance: Setup) -> None:
    other = client("connect", parley.url)
    other_setup = make_instance(other)
    a = start_chat(connect, instance, ClientToken="shared")
    b = start_chat(other, other_setup, ClientToken="shared")
    assert a["ContactId"] != b["ContactId"]


def test_fifty_simultaneous_identical_requests_create_one_participant(parley: RunningParley) -> None:
    owner = client("connect", parley.url)
    setup = make_instance(owner)
    chat = start_chat(owner, setup)
    clients = [client("connect", parley.url, key_of(owner)) for _ in range(50)]
    barrier = threading.Barrier(50)
    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def call(c: Any) -> None:
        barrier.wait()
        try:
            out = c.create_participant(
                ClientToken="fifty", InstanceId=setup.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
            )
        except BaseException as exc:
            with lock:
                failures.append(exc)
            return
        with lock:
            results.append(out)

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not failures
    assert len(results) == 50
    assert len({r["ParticipantId"] for r in results}) == 1
    assert len({r["ParticipantCredentials"]["ParticipantToken"] for r in results}) == 1
    with pytest.raises(ClientError) as excinfo:
        owner.create_participant(
            ClientToken="different", InstanceId=setup.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
        )
    assert excinfo.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
