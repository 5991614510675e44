"""The Participant Service through boto3 and a real WebSocket: connect, talk, read, leave, refusals."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.chat.tokens import CONNECTION, TokenSigner
from tests.conftest import RunningParley, start_parley
from tests.contract.chat_helpers import (
    EVENT,
    Socket,
    add_bot,
    join,
    new_chat,
    participant_client,
    stalled_subscriber,
)

DENIED = "Access denied"
EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def iso(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_connection_returns_only_what_was_asked_with_aws_lifetimes(parley: RunningParley) -> None:
    chat = new_chat(parley)
    out = chat.cp.create_participant_connection(ParticipantToken=chat.started["ParticipantToken"], Type=["WEBSOCKET"])
    assert "ConnectionCredentials" not in out
    port = parley.url.rsplit(":", 1)[1]
    assert out["Websocket"]["Url"].startswith(f"ws://127.0.0.1:{port}/ws/chat?auth=")
    now = datetime.now(UTC)
    assert timedelta(seconds=95) < iso(out["Websocket"]["ConnectionExpiry"]) - now <= timedelta(seconds=101)
    creds = chat.cp.create_participant_connection(
        ParticipantToken=chat.started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]
    assert timedelta(hours=23, minutes=59) < iso(creds["Expiry"]) - now <= timedelta(days=1, seconds=1)
    assert chat.cp.create_participant_connection(ParticipantToken=chat.started["ParticipantToken"]) is not None


def test_start_chat_can_return_the_connection_inline(parley: RunningParley) -> None:
    from tests.conftest import client, make_instance, start_chat

    connect = client("connect", parley.url)
    setup = make_instance(connect)
    started = start_chat(connect, setup, ConnectionTypes=["WEBSOCKET", "CONNECTION_CREDENTIALS"])
    socket = Socket(started["Websocket"]["Url"])
    try:
        cp = participant_client(parley.url)
        token = started["ConnectionCredentials"]["ConnectionToken"]
        sent = cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="inline")
        assert socket.until("text/plain")["Id"] == sent["Id"]
    finally:
        socket.close()


def test_messages_reach_every_socket_including_the_senders(parley: RunningParley) -> None:
    chat = new_chat(parley)
    bot, bot_party = add_bot(chat)
    assert bot_party is not None and bot_party.websocket_url
    customer_socket, bot_socket = Socket(chat.customer.websocket_url or ""), Socket(bot_party.websocket_url)
    try:
        sent = chat.cp.send_message(ConnectionToken=bot_party.connection_token, ContentType="text/plain", Content="hi")
        for socket in (customer_socket, bot_socket):
            item = socket.until("text/plain")
            assert item["Id"] == sent["Id"] and item["Content"] == "hi" and item["Type"] == "MESSAGE"
            assert item["ParticipantRole"] == "CUSTOM_BOT" and item["ParticipantId"] == bot["ParticipantId"]
            assert item["ContactId"] == chat.contact_id and item["InitialContactId"] == chat.contact_id
            assert item["AbsoluteTime"] == sent["AbsoluteTime"]
        reply = chat.cp.send_message(
            ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="yo"
        )
        assert bot_socket.until("text/plain")["Id"] == reply["Id"]
    finally:
        customer_socket.close()
        bot_socket.close()


def test_the_bot_joins_when_it_connects(parley: RunningParley) -> None:
    chat = new_chat(parley)
    socket = Socket(chat.customer.websocket_url or "")
    try:
        bot, _ = add_bot(chat)
        joined = socket.until(EVENT + "participant.joined")
        assert joined["ParticipantId"] == bot["ParticipantId"] and joined["ParticipantRole"] == "CUSTOM_BOT"
    finally:
        socket.close()


def test_content_types_must_be_enabled_and_sizes_are_bytes(parley: RunningParley) -> None:
    chat = new_chat(parley, SupportedMessagingContentTypes=["text/plain", "text/markdown"])
    token = chat.customer.connection_token
    assert chat.cp.send_message(ConnectionToken=token, ContentType="text/markdown", Content="**b**")["Id"]
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=token, ContentType="application/json", Content="{}")
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="é" * 8193)  # 16,386 bytes
    code, _, message = error_of(excinfo)
    assert code == "ValidationException" and "16384" in message
    assert chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="é" * 8192)["Id"]


def test_typing_is_pushed_but_not_kept(parley: RunningParley) -> None:
    chat = new_chat(parley)
    socket = Socket(chat.customer.websocket_url or "")
    try:
        chat.cp.send_event(ConnectionToken=chat.customer.connection_token, ContentType=EVENT + "typing")
        assert socket.until(EVENT + "typing")["Type"] == "EVENT"
        transcript = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token)["Transcript"]
        assert all(i.get("ContentType") != EVENT + "typing" for i in transcript)
    finally:
        socket.close()


def test_unknown_event_type_is_refused(parley: RunningParley) -> None:
    chat = new_chat(parley)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_event(ConnectionToken=chat.customer.connection_token, ContentType=EVENT + "chat.ended")
    assert error_of(excinfo)[:2] == ("ValidationException", 400)


def test_read_receipts_become_message_metadata(parley: RunningParley) -> None:
    chat = new_chat(parley)
    _, bot = add_bot(chat)
    assert bot is not None and bot.websocket_url
    bot_socket = Socket(bot.websocket_url)
    try:
        sent = chat.cp.send_message(ConnectionToken=bot.connection_token, ContentType="text/plain", Content="read me")
        for _ in range(2):  # chatjs re-sends receipts with the same literal ClientToken
            chat.cp.send_event(
                ConnectionToken=chat.customer.connection_token,
                ContentType=EVENT + "message.read",
                Content=json.dumps({"messageId": sent["Id"]}),
                ClientToken="INCOMING_READ_RECEIPT",
            )
        receipt = bot_socket.until(EVENT + "message.metadata")
        assert receipt["Type"] == "MESSAGEMETADATA" and "ParticipantId" not in receipt
        meta = receipt["MessageMetadata"]
        assert meta["MessageId"] == sent["Id"]
        assert meta["Receipts"][0]["RecipientParticipantId"] == chat.customer.participant_id
        iso(meta["Receipts"][0]["ReadTimestamp"])
        transcript = chat.cp.get_transcript(ConnectionToken=bot.connection_token, MaxResults=100)["Transcript"]
        assert sum(1 for i in transcript if i["Type"] == "MESSAGEMETADATA") == 1  # the latest per (message, reader)
    finally:
        bot_socket.close()


def test_receipt_rules(parley: RunningParley) -> None:
    chat = new_chat(parley)
    token = chat.customer.connection_token
    own = chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="mine")
    for content in ("not json", json.dumps({"messageId": "nope"}), json.dumps({"messageId": own["Id"]})):
        with pytest.raises(ClientError) as excinfo:
            chat.cp.send_event(ConnectionToken=token, ContentType=EVENT + "message.delivered", Content=content)
        assert error_of(excinfo)[:2] == ("ValidationException", 400)


def test_receipts_conflict_with_more_than_two_participants(parley: RunningParley) -> None:
    chat = new_chat(parley)
    _, bot = add_bot(chat)
    assert bot is not None
    sent = chat.cp.send_message(ConnectionToken=bot.connection_token, ContentType="text/plain", Content="x")
    request = urllib.request.Request(
        f"{parley.url}/_parley/contacts/{chat.contact_id}/supervisor",
        data=json.dumps({"action": "join", "displayName": "Sup"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["ParticipantToken"]
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_event(
            ConnectionToken=chat.customer.connection_token,
            ContentType=EVENT + "message.read",
            Content=json.dumps({"messageId": sent["Id"]}),
        )
    assert error_of(excinfo)[:2] == ("ConflictException", 409)


def test_retried_send_message_is_not_duplicated(parley: RunningParley) -> None:
    chat = new_chat(parley)
    token = chat.customer.connection_token
    first = chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="once", ClientToken="c1")
    again = chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="once", ClientToken="c1")
    other = chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content="twice", ClientToken="c1")
    assert again["Id"] == first["Id"] and other["Id"] != first["Id"]
    transcript = chat.cp.get_transcript(ConnectionToken=token, MaxResults=100)["Transcript"]
    assert [i["Content"] for i in transcript if i["Type"] == "MESSAGE"].count("once") == 1


def transcript_ids(cp: Any, token: str, **query: Any) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    kwargs = dict(query)
    while True:
        page = cp.get_transcript(ConnectionToken=token, **kwargs)
        pages += 1
        assert page["InitialContactId"]
        ids.extend(i["Id"] for i in page["Transcript"])
        if "NextToken" not in page:
            return ids, pages
        assert page["Transcript"], "a NextToken never leads to an empty page"
        kwargs["NextToken"] = page["NextToken"]


def test_transcript_paging(parley: RunningParley) -> None:
    chat = new_chat(parley)
    token = chat.customer.connection_token
    sent = [
        chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content=f"m{n}")["Id"] for n in range(23)
    ]
    everything = chat.cp.get_transcript(ConnectionToken=token, MaxResults=100, SortOrder="ASCENDING")["Transcript"]
    assert [i["ContentType"] for i in everything[:1]] == [EVENT + "participant.joined"]
    assert [i["Id"] for i in everything if i["Type"] == "MESSAGE"] == sent
    total = len(everything)

    default = chat.cp.get_transcript(ConnectionToken=token)["Transcript"]  # newest 10, DESCENDING
    assert [i["Id"] for i in default] == [i["Id"] for i in everything[::-1][:10]]

    backward, pages = transcript_ids(chat.cp, token, MaxResults=7)
    assert len(backward) == total == len(set(backward)) and pages == -(-total // 7)
    forward, _ = transcript_ids(
        chat.cp, token, MaxResults=5, StartPosition={"Id": everything[0]["Id"]}, SortOrder="ASCENDING"
    )
    assert forward == [i["Id"] for i in everything]

    recent = chat.cp.get_transcript(ConnectionToken=token, StartPosition={"MostRecent": 3}, SortOrder="ASCENDING")
    assert [i["Id"] for i in recent["Transcript"]] == sent[-3:] and "NextToken" not in recent
    chatjs = chat.cp.get_transcript(
        ConnectionToken=token, MaxResults=15, ScanDirection="BACKWARD", SortOrder="ASCENDING", StartPosition={}
    )
    assert [i["Id"] for i in chatjs["Transcript"]] == [i["Id"] for i in everything[-15:]]
    at = everything[5]["AbsoluteTime"]
    since = chat.cp.get_transcript(
        ConnectionToken=token, StartPosition={"AbsoluteTime": at}, SortOrder="ASCENDING", MaxResults=100
    )
    assert since["Transcript"][0]["AbsoluteTime"] >= at


def test_transcript_refusals(parley: RunningParley) -> None:
    chat = new_chat(parley)
    token = chat.customer.connection_token
    cases: list[dict[str, Any]] = [
        {"StartPosition": {"Id": "unknown"}},
        {"StartPosition": {"MostRecent": 2, "Id": "x"}},
        {"NextToken": "forged"},
        {"ContactId": "00000000-0000-4000-8000-000000000000"},
    ]
    for query in cases:
        with pytest.raises(ClientError) as excinfo:
            chat.cp.get_transcript(ConnectionToken=token, **query)
        assert error_of(excinfo)[:2] == ("ValidationException", 400), query
    other = new_chat(parley)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_transcript(ConnectionToken=token, ContactId=other.contact_id)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)


def test_customer_disconnect_ends_the_chat_for_everyone(parley: RunningParley) -> None:
    chat = new_chat(parley)
    _, bot = add_bot(chat)
    assert bot is not None and bot.websocket_url
    customer_socket, bot_socket = Socket(chat.customer.websocket_url or ""), Socket(bot.websocket_url)
    try:
        chat.cp.disconnect_participant(ConnectionToken=chat.customer.connection_token)
        for socket in (customer_socket, bot_socket):
            left = socket.until(EVENT + "participant.left")
            assert left["ParticipantId"] == chat.customer.participant_id
            ended = socket.until(EVENT + "chat.ended")
            assert "ParticipantId" not in ended and ended["Type"] == "EVENT"
        for token in (chat.customer.connection_token, bot.connection_token):
            with pytest.raises(ClientError) as excinfo:
                chat.cp.get_transcript(ConnectionToken=token)
            assert error_of(excinfo) == ("AccessDeniedException", 403, DENIED)
        with pytest.raises(ClientError) as excinfo:
            chat.cp.create_participant_connection(ParticipantToken=chat.started["ParticipantToken"], Type=["WEBSOCKET"])
        assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
        contact = chat.connect.describe_contact(InstanceId=chat.setup.instance_id, ContactId=chat.contact_id)["Contact"]
        assert contact["DisconnectReason"] == "CUSTOMER_DISCONNECT"
    finally:
        customer_socket.close()
        bot_socket.close()


def test_bot_disconnect_keeps_the_chat(parley: RunningParley) -> None:
    chat = new_chat(parley)
    _, bot = add_bot(chat)
    assert bot is not None
    chat.cp.disconnect_participant(ConnectionToken=bot.connection_token)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.send_message(ConnectionToken=bot.connection_token, ContentType="text/plain", Content="x")
    assert error_of(excinfo) == ("AccessDeniedException", 403, DENIED)
    assert chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="x")


def test_stop_contact_pushes_chat_ended_and_closes_access(parley: RunningParley) -> None:
    chat = new_chat(parley)
    socket = Socket(chat.customer.websocket_url or "")
    try:
        chat.connect.stop_contact(InstanceId=chat.setup.instance_id, ContactId=chat.contact_id)
        assert socket.until(EVENT + "chat.ended")
        with pytest.raises(ClientError) as excinfo:
            chat.cp.send_event(ConnectionToken=chat.customer.connection_token, ContentType=EVENT + "typing")
        assert error_of(excinfo) == ("AccessDeniedException", 403, DENIED)
    finally:
        socket.close()


def test_garbage_and_wrong_kind_tokens(parley: RunningParley) -> None:
    chat = new_chat(parley)
    cp = chat.cp
    with pytest.raises(ClientError) as excinfo:
        cp.send_message(ConnectionToken="garbage", ContentType="text/plain", Content="x")
    assert error_of(excinfo) == ("AccessDeniedException", 403, EXPLICIT_DENY)
    with pytest.raises(ClientError) as excinfo:  # a ParticipantToken where a ConnectionToken belongs
        cp.send_message(ConnectionToken=chat.started["ParticipantToken"], ContentType="text/plain", Content="x")
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as excinfo:  # and the other way round
        cp.create_participant_connection(ParticipantToken=chat.customer.connection_token, Type=["WEBSOCKET"])
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)


def test_an_expired_connection_token_is_refused() -> None:
    secret = "ab" * 32
    server = start_parley("--secret", secret)
    try:
        chat = new_chat(server)
        stale = TokenSigner(bytes.fromhex(secret)).issue_stamped(
            CONNECTION, chat.customer.participant_id, datetime.now(UTC) - timedelta(seconds=1)
        )
        with pytest.raises(ClientError) as excinfo:
            chat.cp.send_message(ConnectionToken=stale, ContentType="text/plain", Content="x")
        code, status, message = error_of(excinfo)
        assert (code, status) == ("AccessDeniedException", 403) and "expired" in message
        assert chat.cp.send_message(
            ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="ok"
        )
    finally:
        server.stop()


def test_a_bot_that_never_connects_is_dropped_silently() -> None:
    server = start_parley(env={"PARLEY_BOT_CONNECT_TIMEOUT": "1"})
    try:
        chat = new_chat(server)
        bot, _ = add_bot(chat, connect_now=False)
        time.sleep(1.6)
        with pytest.raises(ClientError) as excinfo:
            chat.cp.create_participant_connection(
                ParticipantToken=bot["ParticipantCredentials"]["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
            )
        assert error_of(excinfo) == ("AccessDeniedException", 403, DENIED)
        transcript = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token, MaxResults=100)[
            "Transcript"
        ]
        assert all(i.get("ParticipantId") != bot["ParticipantId"] for i in transcript)
        second, party = add_bot(chat)  # the slot is free again
        assert party is not None and second["ParticipantId"] != bot["ParticipantId"]
    finally:
        server.stop()


def test_a_customer_who_never_connects_ends_the_chat() -> None:
    server = start_parley(env={"PARLEY_CUSTOMER_CONNECT_TIMEOUT": "1"})
    try:
        from tests.conftest import client, make_instance, start_chat

        connect = client("connect", server.url)
        setup = make_instance(connect)
        started = start_chat(connect, setup)
        time.sleep(1.6)
        contact = connect.describe_contact(InstanceId=setup.instance_id, ContactId=started["ContactId"])["Contact"]
        assert "DisconnectTimestamp" in contact
        with pytest.raises(ClientError) as excinfo:
            participant_client(server.url).create_participant_connection(
                ParticipantToken=started["ParticipantToken"], Type=["WEBSOCKET"]
            )
        assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
    finally:
        server.stop()


def test_an_agent_joining_disconnects_the_bot(parley: RunningParley) -> None:
    chat = new_chat(parley)
    bot, party = add_bot(chat)
    assert party is not None
    socket = Socket(chat.customer.websocket_url or "")
    try:
        request = urllib.request.Request(
            f"{parley.url}/_parley/contacts/{chat.contact_id}/agent",
            data=json.dumps({"action": "join", "displayName": "Agent Ann"}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request) as response:
            agent = json.loads(response.read())
        left = socket.until(EVENT + "participant.left")
        assert left["ParticipantId"] == bot["ParticipantId"]
        joined = socket.until(EVENT + "participant.joined")
        assert joined["ParticipantRole"] == "AGENT" and joined["DisplayName"] == "Agent Ann"
        with pytest.raises(ClientError) as excinfo:
            chat.cp.send_message(ConnectionToken=party.connection_token, ContentType="text/plain", Content="x")
        assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
        agent_party = join(chat.cp, agent["ParticipantToken"], agent["ParticipantId"], websocket=False)
        said = chat.cp.send_message(
            ConnectionToken=agent_party.connection_token, ContentType="text/plain", Content="hi"
        )
        assert socket.until("text/plain")["Id"] == said["Id"]
        with pytest.raises(ClientError) as excinfo:  # no custom bot while an agent is present
            add_bot(chat)
        assert error_of(excinfo)[:2] == ("ConflictException", 409)
    finally:
        socket.close()


def test_a_slow_socket_is_dropped_without_slowing_the_others() -> None:
    server = start_parley("--ws-outbox", "20")
    try:
        chat = new_chat(server)
        _, bot = add_bot(chat)
        assert bot is not None and bot.websocket_url
        fast = Socket(chat.customer.websocket_url or "")
        slow = stalled_subscriber(bot.websocket_url)
        try:
            big = "x" * 16000
            sent: list[str] = []
            deadline = time.monotonic() + 30
            while not any(" ws.close 1008 " in line for line in server.lines) and time.monotonic() < deadline:
                token = chat.customer.connection_token
                sent.append(chat.cp.send_message(ConnectionToken=token, ContentType="text/plain", Content=big)["Id"])
                assert [fast.until("text/plain")["Id"]] == sent[-1:]  # the reader keeps up, message by message
            assert any(" ws.close 1008 " in line for line in server.lines), "the stalled socket was never dropped"
            assert len(sent) < 2000
            tail = chat.cp.send_message(
                ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="after"
            )
            assert fast.until("text/plain")["Id"] == tail["Id"]
        finally:
            fast.close()
            slow.close()
    finally:
        server.stop()


def test_a_departed_participants_socket_hears_nothing_more(parley: RunningParley) -> None:
    chat = new_chat(parley)
    _, bot = add_bot(chat)
    assert bot is not None and bot.websocket_url
    bot_socket = Socket(bot.websocket_url)
    try:
        chat.cp.disconnect_participant(ConnectionToken=bot.connection_token)
        left = bot_socket.until(EVENT + "participant.left")
        assert left["ParticipantId"] == bot.participant_id
        chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="x")
        with pytest.raises(TimeoutError):
            bot_socket.until("text/plain", timeout=0.5)
    finally:
        bot_socket.close()
