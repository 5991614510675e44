"""Attachments (upload to the URL Parley serves, complete, download), DescribeView and the
authentication operations, through boto3, urllib and a real WebSocket."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, key_of, start_parley
from tests.contract.chat_helpers import EVENT, Chat, Socket, add_bot, new_chat
from tests.contract.test_participant_service import error_of, iso

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """(status, headers, body) of one request; redirects are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def start_upload(chat: Chat, token: str | None = None, **overrides: Any) -> dict[str, Any]:
    params = {
        "ContentType": "application/pdf",
        "AttachmentSizeInBytes": len(PDF),
        "AttachmentName": "invoice.pdf",
        "ConnectionToken": token or chat.customer.connection_token,
        **overrides,
    }
    return dict(chat.cp.start_attachment_upload(**params))


def upload(started: dict[str, Any], data: bytes = PDF) -> tuple[int, bytes]:
    meta = started["UploadMetadata"]
    status, _, body = http("PUT", meta["Url"], data, meta["HeadersToInclude"])
    return status, body


def attach(chat: Chat, data: bytes = PDF) -> str:
    started = start_upload(chat)
    assert upload(started, data)[0] == 200
    chat.cp.complete_attachment_upload(
        AttachmentIds=[started["AttachmentId"]], ConnectionToken=chat.customer.connection_token
    )
    return str(started["AttachmentId"])


@pytest.fixture
def chat(parley: RunningParley) -> Chat:
    return new_chat(parley)


# -- attachments ---------------------------------------------------------------------------------
def test_an_attachment_is_uploaded_completed_pushed_and_downloaded(chat: Chat) -> None:
    assert chat.customer.websocket_url
    socket = Socket(chat.customer.websocket_url)
    try:
        started = start_upload(chat)
        meta = started["UploadMetadata"]
        assert meta["Url"].startswith(chat.connect.meta.endpoint_url + "/_parley/blobs/")
        assert meta["HeadersToInclude"] == {"Content-Type": "application/pdf"}
        assert 295 <= (iso(meta["UrlExpiry"]) - iso(started_at_now())).total_seconds() <= 305
        assert upload(started)[0] == 200
        chat.cp.complete_attachment_upload(
            AttachmentIds=[started["AttachmentId"]], ConnectionToken=chat.customer.connection_token
        )
        pushed = socket.item()
        while pushed["Type"] != "ATTACHMENT":
            pushed = socket.item()
    finally:
        socket.close()
    assert pushed["Attachments"] == [
        {
            "AttachmentId": started["AttachmentId"],
            "AttachmentName": "invoice.pdf",
            "ContentType": "application/pdf",
            "Status": "APPROVED",
        }
    ]
    assert "ContentType" not in pushed and "Content" not in pushed
    assert pushed["ParticipantId"] == chat.started["ParticipantId"] and pushed["ParticipantRole"] == "CUSTOMER"
    transcript = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token)["Transcript"]
    assert [i["Id"] for i in transcript if i["Type"] == "ATTACHMENT"] == [pushed["Id"]]

    got = chat.cp.get_attachment(AttachmentId=started["AttachmentId"], ConnectionToken=chat.customer.connection_token)
    assert got["AttachmentSizeInBytes"] == len(PDF)
    status, headers, body = http("GET", got["Url"])
    assert (status, body, headers["Content-Type"]) == (200, PDF, "application/pdf")
    assert headers["Content-Disposition"].startswith("attachment;") and "invoice.pdf" in headers["Content-Disposition"]
    inline = chat.cp.get_attachment(
        AttachmentId=started["AttachmentId"],
        ConnectionToken=chat.customer.connection_token,
        UrlExpiryInSeconds=5,
        UrlContentDisposition="INLINE",
    )
    status, headers, body = http("GET", inline["Url"])
    assert status == 200 and headers["Content-Disposition"].startswith("inline;")
    assert http("PUT", got["Url"], b"x")[0] == 403  # a download URL uploads nothing


def started_at_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_an_agent_can_download_what_the_customer_sent_but_a_bot_cannot(parley: RunningParley, chat: Chat) -> None:
    attachment_id = attach(chat)
    _, bot = add_bot(chat)
    assert bot is not None
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_attachment(AttachmentId=attachment_id, ConnectionToken=bot.connection_token)
    assert error_of(excinfo)[:2] == ("AccessDeniedException", 403)
    request = json.dumps({"action": "join", "displayName": "Agent"}).encode()
    status, _, body = http("POST", f"{parley.url}/_parley/contacts/{chat.contact_id}/agent", request)
    assert status == 200
    agent = chat.cp.create_participant_connection(
        ParticipantToken=json.loads(body)["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]["ConnectionToken"]
    got = chat.cp.get_attachment(AttachmentId=attachment_id, ConnectionToken=agent)
    assert http("GET", got["Url"])[2] == PDF


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"ContentType": "application/x-msdownload", "AttachmentName": "a.exe"}, "not an attachment type"),
        ({"ContentType": "image/gif"}, "not an attachment type"),
        ({"AttachmentSizeInBytes": 20 * 1024 * 1024 + 1}, "over the limit"),
    ],
)
def test_type_and_size_are_checked_at_start(chat: Chat, overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        start_upload(chat, **overrides)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400) and fragment in message


def test_the_largest_allowed_size_and_a_charset_parameter_are_accepted(chat: Chat) -> None:
    assert start_upload(chat, AttachmentSizeInBytes=20 * 1024 * 1024)["AttachmentId"]
    assert start_upload(chat, ContentType="text/plain; charset=utf-8", AttachmentName="notes.txt")["AttachmentId"]


def test_a_chat_holds_at_most_35_attachments(chat: Chat) -> None:
    for _ in range(35):
        start_upload(chat)
    with pytest.raises(ClientError) as excinfo:
        start_upload(chat)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ServiceQuotaExceededException", 402) and "35" in message


def test_an_upload_must_match_what_was_started(chat: Chat) -> None:
    started = start_upload(chat)
    assert upload(started, PDF[:-1])[0] == 403
    assert upload(started, PDF + b"!")[0] == 403
    meta = started["UploadMetadata"]
    assert http("PUT", meta["Url"], PDF, {"Content-Type": "image/png"})[0] == 403
    status, body = upload({"UploadMetadata": {**meta, "Url": meta["Url"][:-3] + "AAA"}})
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    with pytest.raises(ClientError) as excinfo:  # nothing was stored, so it cannot be completed
        chat.cp.complete_attachment_upload(
            AttachmentIds=[started["AttachmentId"]], ConnectionToken=chat.customer.connection_token
        )
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    assert upload(started)[0] == 200


def test_completing_twice_conflicts_but_a_retry_is_replayed(chat: Chat) -> None:
    started = start_upload(chat)
    assert upload(started)[0] == 200
    token = chat.customer.connection_token
    ids = [started["AttachmentId"]]
    chat.cp.complete_attachment_upload(AttachmentIds=ids, ConnectionToken=token, ClientToken="once")
    chat.cp.complete_attachment_upload(AttachmentIds=ids, ConnectionToken=token, ClientToken="once")
    with pytest.raises(ClientError) as excinfo:
        chat.cp.complete_attachment_upload(AttachmentIds=ids, ConnectionToken=token, ClientToken="twice")
    assert error_of(excinfo)[:2] == ("ConflictException", 409)
    assert upload(started)[0] == 403  # completed: the upload URL is spent
    items = chat.cp.get_transcript(ConnectionToken=token)["Transcript"]
    assert sum(1 for i in items if i["Type"] == "ATTACHMENT") == 1


def test_unknown_and_foreign_attachments_are_refused(parley: RunningParley, chat: Chat) -> None:
    token = chat.customer.connection_token
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_attachment(AttachmentId="no-such-attachment", ConnectionToken=token)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.complete_attachment_upload(AttachmentIds=["no-such-attachment"], ConnectionToken=token)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    other = new_chat(parley)
    foreign = attach(other)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_attachment(AttachmentId=foreign, ConnectionToken=token)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)


@pytest.fixture(scope="module")
def rejecting() -> Iterator[RunningParley]:
    server = start_parley(env={"PARLEY_ATTACHMENT_SCAN": "reject"})
    yield server
    server.stop()


def test_a_rejected_attachment_cannot_be_downloaded(rejecting: RunningParley) -> None:
    chat = new_chat(rejecting)
    attachment_id = attach(chat)
    items = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token)["Transcript"]
    assert [i["Attachments"][0]["Status"] for i in items if i["Type"] == "ATTACHMENT"] == ["REJECTED"]
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_attachment(AttachmentId=attachment_id, ConnectionToken=chat.customer.connection_token)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)


# -- the bearer header ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/participant/connection", {"Type": ["WEBSOCKET"]}),
        ("/participant/message", {"ContentType": "text/plain", "Content": "hi"}),
        ("/participant/event", {"ContentType": EVENT + "typing"}),
        ("/participant/transcript", {}),
        ("/participant/disconnect", {}),
        ("/participant/start-attachment-upload", {"ContentType": "a", "AttachmentSizeInBytes": 1}),
        ("/participant/complete-attachment-upload", {"AttachmentIds": ["a"], "ClientToken": "c"}),
        ("/participant/attachment", {"AttachmentId": "a"}),
        ("/participant/authentication-url", {"SessionId": "s" * 36, "RedirectUri": "https://x"}),
        ("/participant/cancel-authentication", {"SessionId": "s" * 36}),
    ],
)
def test_a_missing_bearer_header_is_access_denied(parley: RunningParley, path: str, body: dict[str, Any]) -> None:
    status, headers, payload = http("POST", parley.url + path, json.dumps(body).encode())
    assert (status, headers["x-amzn-ErrorType"].split(":")[0]) == (403, "AccessDeniedException")
    assert "X-Amz-Bearer" in json.loads(payload)["message"]


def test_describe_view_without_a_bearer_header_is_access_denied(parley: RunningParley) -> None:
    status, headers, _ = http("GET", parley.url + "/participant/views/some-view")
    assert (status, headers["x-amzn-ErrorType"].split(":")[0]) == (403, "AccessDeniedException")


# -- views ---------------------------------------------------------------------------------------
def test_describe_view_serves_registered_views(parley: RunningParley, chat: Chat) -> None:
    content = {"InputSchema": '{"type":"object"}', "Template": '{"Head":{"Title":"Pay"}}', "Actions": ["Submit"]}
    request = {"Id": "payment-form", "Name": "Payment form", "Version": 2, "Content": content}
    request |= {"AccountId": key_of(chat.connect), "InstanceId": chat.setup.instance_id}
    status, _, body = http("POST", parley.url + "/_parley/views", json.dumps(request).encode())
    assert status == 200 and json.loads(body)["ViewToken"] == "payment-form"
    view = chat.cp.describe_view(ViewToken="payment-form", ConnectionToken=chat.customer.connection_token)["View"]
    assert view == {
        "Id": "payment-form",
        "Arn": f"arn:aws:connect:us-east-1:{key_of(chat.connect)}:instance/{chat.setup.instance_id}"
        "/view/payment-form:2",
        "Name": "Payment form",
        "Version": 2,
        "Content": content,
    }
    with pytest.raises(ClientError) as excinfo:
        chat.cp.describe_view(ViewToken="no-such-view", ConnectionToken=chat.customer.connection_token)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    other = new_chat(parley)  # another account does not see it
    with pytest.raises(ClientError) as excinfo:
        other.cp.describe_view(ViewToken="payment-form", ConnectionToken=other.customer.connection_token)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    "request_body",
    [
        {},
        {"Name": ""},
        {"Name": "x", "Content": {"Template": 3}},
        {"Name": "x", "Id": "bad id!"},
        {"Name": "x", "Version": 0},
    ],
)
def test_bad_view_registrations_are_400(parley: RunningParley, request_body: dict[str, Any]) -> None:
    status, _, body = http("POST", parley.url + "/_parley/views", json.dumps(request_body).encode())
    assert status == 400 and json.loads(body)["error"] == "InvalidRequest"


# -- authentication ------------------------------------------------------------------------------
def open_session(parley: RunningParley, chat: Chat) -> str:
    request = json.dumps({"action": "initiate"}).encode()
    status, _, body = http("POST", f"{parley.url}/_parley/contacts/{chat.contact_id}/authentication", request)
    assert status == 200, body
    return str(json.loads(body)["SessionId"])


def test_authentication_needs_a_session_the_admin_opened(chat: Chat) -> None:
    token = chat.customer.connection_token
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_authentication_url(
            SessionId="0" * 36, RedirectUri="https://example.com/back", ConnectionToken=token
        )
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.cancel_participant_authentication(SessionId="0" * 36, ConnectionToken=token)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)


def test_sign_in_through_the_authentication_url(parley: RunningParley, chat: Chat) -> None:
    assert chat.customer.websocket_url
    socket = Socket(chat.customer.websocket_url)
    try:
        session_id = open_session(parley, chat)
        initiated = socket.until(EVENT + "authentication.initiated")
        assert json.loads(initiated["Content"]) == {"SessionId": session_id}
        url = chat.cp.get_authentication_url(
            SessionId=session_id, RedirectUri="https://example.com/back", ConnectionToken=chat.customer.connection_token
        )["AuthenticationUrl"]
        assert url.startswith(parley.url + "/_parley/authenticate/")
        status, headers, _ = http("GET", url)
        assert (status, headers["Location"]) == (302, "https://example.com/back")
        assert json.loads(socket.until(EVENT + "authentication.succeeded")["Content"]) == {"SessionId": session_id}
    finally:
        socket.close()
    assert http("GET", url)[0] == 400  # the session is over
    assert http("GET", url.replace("sig=", "sig=x"))[0] == 403
    with pytest.raises(ClientError) as excinfo:
        chat.cp.cancel_participant_authentication(SessionId=session_id, ConnectionToken=chat.customer.connection_token)
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    transcript = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token)["Transcript"]
    assert not [i for i in transcript if "authentication" in (i.get("ContentType") or "")]


def test_the_customer_can_cancel_and_a_bot_cannot_take_part(parley: RunningParley, chat: Chat) -> None:
    session_id = open_session(parley, chat)
    _, bot = add_bot(chat)
    assert bot is not None
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_authentication_url(
            SessionId=session_id, RedirectUri="https://x", ConnectionToken=bot.connection_token
        )
    assert error_of(excinfo)[:2] == ("ValidationException", 400)
    chat.cp.cancel_participant_authentication(SessionId=session_id, ConnectionToken=chat.customer.connection_token)
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_authentication_url(
            SessionId=session_id, RedirectUri="https://x", ConnectionToken=chat.customer.connection_token
        )
    assert "cancelled" in error_of(excinfo)[2]


def test_an_admin_can_fail_a_session(parley: RunningParley, chat: Chat) -> None:
    session_id = open_session(parley, chat)
    request = json.dumps({"action": "fail", "sessionId": session_id}).encode()
    assert http("POST", f"{parley.url}/_parley/contacts/{chat.contact_id}/authentication", request)[0] == 200
    with pytest.raises(ClientError) as excinfo:
        chat.cp.get_authentication_url(
            SessionId=session_id, RedirectUri="https://x", ConnectionToken=chat.customer.connection_token
        )
    assert "failed" in error_of(excinfo)[2]
