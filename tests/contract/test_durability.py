"""`parley serve --data-dir D`: state survives a restart, and concurrency holds on the writer thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import account_key, client, key_of, make_instance, start_chat, start_parley
from tests.contract.chat_helpers import new_chat
from tests.contract.test_attachments_views_auth import PDF, attach, http

BOT = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}


def test_restart_keeps_instances_contacts_and_participants(tmp_path: Path) -> None:
    key = account_key()
    first = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", first.url, key)
        setup = make_instance(connect)
        chat = start_chat(connect, setup, Attributes={"order": "42"})
        bot = connect.create_participant(
            ClientToken="durable", InstanceId=setup.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
        )
        stopped = start_chat(connect, setup)
        connect.stop_contact(InstanceId=setup.instance_id, ContactId=stopped["ContactId"])
    finally:
        assert first.stop() == 0

    second = start_parley("--data-dir", str(tmp_path))
    try:
        connect = client("connect", second.url, key)
        assert connect.describe_instance(InstanceId=setup.instance_id)["Instance"]["Id"] == setup.instance_id
        contact = connect.describe_contact(InstanceId=setup.instance_id, ContactId=chat["ContactId"])["Contact"]
        assert contact["Channel"] == "CHAT" and "DisconnectTimestamp" not in contact
        ended = connect.describe_contact(InstanceId=setup.instance_id, ContactId=stopped["ContactId"])["Contact"]
        assert ended["DisconnectReason"] == "API"
        attributes = connect.get_contact_attributes(InstanceId=setup.instance_id, InitialContactId=chat["ContactId"])
        assert attributes["Attributes"] == {"order": "42"}
        # The participant survived: a replay returns the very same id and token (the secret is kept too)...
        again = connect.create_participant(
            ClientToken="durable", InstanceId=setup.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
        )
        assert again["ParticipantId"] == bot["ParticipantId"]
        assert again["ParticipantCredentials"] == bot["ParticipantCredentials"]
        # ...and a new bot is still refused as the second one.
        with pytest.raises(ClientError) as excinfo:
            connect.create_participant(
                InstanceId=setup.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
            )
        assert excinfo.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    finally:
        second.stop()
    assert (tmp_path / "parley.sqlite3").exists()


def test_fifty_simultaneous_identical_requests_on_the_durable_store(tmp_path: Path) -> None:
    server = start_parley("--data-dir", str(tmp_path))
    try:
        owner = client("connect", server.url)
        setup = make_instance(owner)
        chat = start_chat(owner, setup)
        key = owner._request_signer._credentials.access_key
        clients = [client("connect", server.url, key) for _ in range(50)]
        barrier = threading.Barrier(50)
        ids: list[str] = []
        lock = threading.Lock()

        def call(c: Any) -> None:
            barrier.wait()
            out = c.create_participant(
                ClientToken="fifty", InstanceId=setup.instance_id, ContactId=chat["ContactId"], ParticipantDetails=BOT
            )
            with lock:
                ids.append(out["ParticipantId"])

        threads = [threading.Thread(target=call, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(ids) == 50 and len(set(ids)) == 1
    finally:
        server.stop()


def test_a_bad_data_dir_fails_fast(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RuntimeError, match="did not start"):
        start_parley("--data-dir", str(blocker / "sub"), timeout=10)


def test_restart_keeps_attachments_and_calls(tmp_path: Path) -> None:
    """Attachment bytes and WebRTC calls live in the durable store too."""
    first = start_parley("--data-dir", str(tmp_path))
    try:
        chat = new_chat(first)
        attachment_id = attach(chat)
        key = key_of(chat.connect)
        setup = chat.setup
        call = chat.connect.start_web_rtc_contact(
            InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "Caller"}
        )
    finally:
        assert first.stop() == 0

    second = start_parley("--data-dir", str(tmp_path))
    try:
        cp = client("connectparticipant", second.url, key)
        token = cp.create_participant_connection(
            ParticipantToken=chat.started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        url = cp.get_attachment(AttachmentId=attachment_id, ConnectionToken=token)["Url"]
        assert http("GET", url)[2] == PDF
        connect = client("connect", second.url, key)
        contact = connect.describe_contact(InstanceId=setup.instance_id, ContactId=call["ContactId"])["Contact"]
        assert (contact["Channel"], contact["InitiationMethod"]) == ("VOICE", "WEBRTC_API")
        rtc = cp.create_participant_connection(ParticipantToken=call["ParticipantToken"], Type=["WEBRTC_CONNECTION"])
        assert rtc["WebRTCConnection"]["Attendee"] == call["ConnectionData"]["Attendee"]
    finally:
        second.stop()
