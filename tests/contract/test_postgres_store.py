"""`parley serve --store postgresql://…`: real boto3 against servers whose state is in PostgreSQL. The data,
ClientTokens, NextTokens and connection tokens outlive a restart, and two servers on one database at once
serve the same data with the same secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningParley, account_key, client, make_instance, start_chat, start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import join, participant_client
from tests.contract.test_attachments_views_auth import PDF
from tests.contract.test_snapshots import chat_with_history, download, raw_state, transcript_contents
from tests.store.backends import fresh_postgres_database

BOT = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


def serve(database: str) -> RunningParley:
    return start_parley("--store", database, timeout=30)


class Chat:
    """A chat on one server: the instance, the contact, a bot created with a ClientToken, the customer's
    connection, and a first page of flows (for its NextToken)."""

    def __init__(self, url: str, key: str) -> None:
        self.key = key
        connect = client("connect", url, key)
        self.setup = make_instance(connect)
        self.started = start_chat(connect, self.setup)
        self.bot = self.create_bot(url)
        assert self.create_bot(url) == self.bot  # a replay answers the same participant
        cp = participant_client(url)
        self.customer = join(cp, self.started["ParticipantToken"], self.started["ParticipantId"], websocket=False)
        cp.send_message(ConnectionToken=self.customer.connection_token, ContentType="text/plain", Content="hello")
        self.page = connect.list_contact_flows(InstanceId=self.setup.instance_id, MaxResults=1)
        assert "NextToken" in self.page

    def create_bot(self, url: str) -> dict[str, Any]:
        connect = client("connect", url, self.key)
        out: dict[str, Any] = connect.create_participant(
            ClientToken="once",
            InstanceId=self.setup.instance_id,
            ContactId=self.started["ContactId"],
            ParticipantDetails=BOT,
        )
        out.pop("ResponseMetadata")
        return out

    def messages(self, url: str) -> list[str]:
        cp = participant_client(url)
        transcript = cp.get_transcript(
            ConnectionToken=self.customer.connection_token, MaxResults=100, SortOrder="ASCENDING"
        )
        items = transcript["Transcript"]
        return [item["Content"] for item in items if item["Type"] == "MESSAGE"]

    def served_by(self, url: str) -> None:
        """Everything the chat was given on another server works here: data, ClientToken, tokens, NextToken."""
        connect = client("connect", url, self.key)
        contact = connect.describe_contact(InstanceId=self.setup.instance_id, ContactId=self.started["ContactId"])
        assert contact["Contact"]["Channel"] == "CHAT"
        assert self.create_bot(url) == self.bot
        assert "hello" in self.messages(url)
        rest = connect.list_contact_flows(
            InstanceId=self.setup.instance_id, MaxResults=1, NextToken=self.page["NextToken"]
        )
        assert rest["ContactFlowSummaryList"][0]["Id"] != self.page["ContactFlowSummaryList"][0]["Id"]


def test_a_restart_on_the_same_database_keeps_data_tokens_and_next_tokens(database: str) -> None:
    first = serve(database)
    try:
        chat = Chat(first.url, account_key())
        assert chat.messages(first.url).count("hello") == 1
    finally:
        assert first.stop() == 0
    second = serve(database)
    try:
        chat.served_by(second.url)
        cp = participant_client(second.url)
        cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="again")
        assert chat.messages(second.url)[-2:] == ["hello", "again"]
    finally:
        second.stop()


def test_two_servers_on_one_database_serve_the_same_data_with_one_secret(database: str) -> None:
    first, second = serve(database), serve(database)
    try:
        chat = Chat(first.url, account_key())
        chat.served_by(second.url)
        cp = participant_client(second.url)
        cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="via two")
        assert chat.messages(first.url)[-2:] == ["hello", "via two"]
    finally:
        first.stop()
        second.stop()
    assert any("--store is set without --redis-url" in line for line in first.lines)


def test_store_and_data_dir_exclude_each_other(database: str, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="exclude each other"):
        start_parley("--store", database, "--data-dir", str(tmp_path), timeout=10)


def test_export_and_import_on_postgresql_share_the_sqlite_snapshot_format(database: str) -> None:
    """`parley export` on a PostgreSQL server, reset, `parley import`: the same state; and the same snapshot
    imported into a SQLite server gives the same state there."""
    server = serve(database)
    try:
        chat, attachment_id = chat_with_history(server)
        before = raw_state(server.url)
        status, document = admin(server.url, "GET", "state/export")
        assert status == 200 and "attachments" in document["tables"]
        ok(server.url, "POST", "reset")
        assert ok(server.url, "POST", "state/import", document)["imported"]["attachments"] == 1
        assert raw_state(server.url) == before
        assert transcript_contents(chat.cp, chat.customer.connection_token) == ["hello", "ATTACHMENT"]
        assert download(chat.cp, attachment_id, chat.customer.connection_token) == PDF
    finally:
        server.stop()
    local = start_parley()
    try:
        ok(local.url, "POST", "state/import", document)
        assert raw_state(local.url) == before
    finally:
        local.stop()


def test_a_database_that_cannot_be_opened_fails_the_start_at_once_and_says_why(database: str) -> None:
    missing = database.rsplit("/", 1)[0] + "/parley_no_such_database"
    with pytest.raises(RuntimeError, match=r'--store: cannot open the database: .*"parley_no_such_database" does not'):
        start_parley("--store", missing, timeout=10)
