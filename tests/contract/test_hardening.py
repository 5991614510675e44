"""Issue 12: hostile and careless clients against a real Parley, over real sockets.

Each test names the defect it guards (it failed before the fix) or the limit it proves. Refusals an
AWS client can see are the JSON error shape (raw socket and boto3); a WebSocket always ends with a
real close frame; slow, idle and half-sent connections are cut after their configured timeouts.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import struct
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.conftest import RunningParley, client, make_instance, start_chat, start_parley
from tests.contract.chat_helpers import join, new_chat, participant_client, stalled_subscriber

LIMITS = (
    *("--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "1"),
    *("--max-body-bytes", "1048576", "--max-target-bytes", "8192", "--max-header-bytes", "16384"),
    *("--ws-rate", "20", "--max-sockets-per-participant", "3", "--ws-max-frame-bytes", "65536"),
    *("--ws-outbox", "20", "--quota-active-chats", "0"),
)


@pytest.fixture(scope="module")
def edge() -> Iterator[RunningParley]:
    running = start_parley(*LIMITS)
    yield running
    running.stop()


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def exchange(url: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it."""
    with socket.create_connection(address(url), timeout=timeout) as sock:
        sock.sendall(data)
        return read_to_end(sock)


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """One complete response (head and Content-Length body), leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def parsed(response: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, json.loads(body)


def assert_json_error(response: bytes, status: int, code: str) -> None:
    got_status, headers, body = parsed(response)
    assert (got_status, headers["x-amzn-errortype"], body["__type"]) == (status, code, code)
    assert headers["content-type"] == "application/json" and body["message"]
    assert headers["x-amzn-requestid"]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def no_tracebacks(server: RunningParley) -> None:
    text = "\n".join(server.lines)
    assert "Traceback" not in text and "Exception in ASGI application" not in text


# -- defect 1: one spelling per token ----------------------------------------------------------------
def test_a_participant_token_altered_in_its_unused_bits_is_refused(edge: RunningParley) -> None:
    connect = client("connect", edge.url)
    token = start_chat(connect, make_instance(connect))["ParticipantToken"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    altered = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]  # the last character carries 4 unused bits
    cp = participant_client(edge.url)
    with pytest.raises(ClientError) as excinfo:
        cp.create_participant_connection(ParticipantToken=altered, Type=["CONNECTION_CREDENTIALS"])
    assert error_of(excinfo) == ("AccessDeniedException", 403)
    assert cp.create_participant_connection(ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"])


# -- WebSocket: defect 3, frame limits, rate, socket cap, defect 6 (slow consumer) -----------------------
def subscribed(url: str | None) -> Any:
    assert url is not None
    ws = ws_connect(url, open_timeout=5)
    ws.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
    assert json.loads(ws.recv(timeout=5))["content"]["status"] == "success"
    return ws


def close_of(ws: Any, timeout: float = 5.0) -> tuple[int | None, str]:
    """The close frame the server sent (code, reason), after any frames still queued before it."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=deadline - time.monotonic())
    except ConnectionClosed as closed:
        frame = closed.rcvd
        return (frame.code, frame.reason) if frame is not None else (None, "")
    raise AssertionError("the server did not close the socket")


def test_a_deeply_nested_frame_gets_a_close_frame_not_a_crash(edge: RunningParley) -> None:
    """Issue 12, defect 3: 1,100 `[` raised RecursionError; the socket died without a close frame."""
    chat = new_chat(edge)
    ws = subscribed(chat.customer.websocket_url or "")
    ws.send("[" * 1100)
    code, reason = close_of(ws)
    assert code == 1008 and "nest" in reason
    no_tracebacks(edge)
    within = subscribed(join(chat.cp, chat.started["ParticipantToken"], chat.customer.participant_id).websocket_url)
    within.send('{"topic":"aws/heartbeat","content":' + "[" * 30 + "]" * 30 + "}")  # deep but within the limit
    assert json.loads(within.recv(timeout=5)) == {"topic": "aws/heartbeat"}
    within.close()


def test_an_oversized_frame_is_closed_with_1009(edge: RunningParley) -> None:
    chat = new_chat(edge)
    ws = subscribed(chat.customer.websocket_url or "")
    ws.send(json.dumps({"topic": "aws/heartbeat", "pad": "x" * 70000}))
    assert close_of(ws)[0] == 1009
    no_tracebacks(edge)


def test_a_flood_of_frames_is_closed_with_1008(edge: RunningParley) -> None:
    chat = new_chat(edge)
    ws = subscribed(chat.customer.websocket_url or "")
    for _ in range(200):
        try:
            ws.send('{"topic":"aws/heartbeat"}')
        except ConnectionClosed:
            break
    code, reason = close_of(ws)
    assert code == 1008 and "a second" in reason
    calm = subscribed(join(chat.cp, chat.started["ParticipantToken"], chat.customer.participant_id).websocket_url)
    for _ in range(5):  # chatjs's pace (a heartbeat and a ping every 10 s) is far inside the limit
        calm.send('{"topic":"aws/heartbeat"}')
        assert json.loads(calm.recv(timeout=5)) == {"topic": "aws/heartbeat"}
    calm.close()


def test_sockets_beyond_the_cap_close_the_oldest_and_never_refuse(edge: RunningParley) -> None:
    chat = new_chat(edge)
    url = chat.customer.websocket_url or ""
    sockets = [subscribed(url) for _ in range(3)]
    newest = subscribed(url)  # the fourth is accepted ...
    code, reason = close_of(sockets[0])  # ... and the oldest is closed
    assert code == 1008 and "sockets" in reason
    newest.send('{"topic":"aws/heartbeat"}')
    assert json.loads(newest.recv(timeout=5)) == {"topic": "aws/heartbeat"}
    for ws in (*sockets[1:], newest):
        ws.close()


def server_frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(opcode, payload) of each complete unmasked frame a server sent."""
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack(">H", data[at : at + 2])
            at += 2
        elif length == 127:
            (length,) = struct.unpack(">Q", data[at : at + 8])
            at += 8
        if at + length > len(data):
            return
        yield opcode, data[at : at + length]
        at += length


def test_a_stalled_consumer_that_is_dropped_gets_a_close_frame(edge: RunningParley) -> None:
    """Issue 12, defect 6: the slow consumer was dropped (log: 1008) without a close frame."""
    chat = new_chat(edge)
    ws_url = join(chat.cp, chat.started["ParticipantToken"], chat.customer.participant_id).websocket_url or ""
    slow = stalled_subscriber(ws_url)
    try:
        deadline = time.monotonic() + 30
        dropped = f" ws.close 1008 contact={chat.contact_id}"
        while time.monotonic() < deadline and not any(dropped in line for line in edge.lines):
            chat.cp.send_message(
                ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="x" * 16000
            )
        slow.settimeout(5)
        data = b""
        while not any(opcode == 0x8 for opcode, _ in server_frames(data)):
            chunk = slow.recv(1 << 20)
            assert chunk, "the connection ended without a close frame"
            data += chunk
    finally:
        slow.close()
    opcode, payload = list(server_frames(data))[-1]
    assert opcode == 0x8 and struct.unpack(">H", payload[:2])[0] == 1008


# -- HTTP: defects 5 and 6, request limits -------------------------------------------------------------
def test_half_sent_and_silent_connections_are_cut_after_the_header_timeout(edge: RunningParley) -> None:
    """Issue 12, defect 5: idle or half-sent connections were held open indefinitely (slowloris)."""
    started = time.monotonic()
    half = [socket.create_connection(address(edge.url), timeout=10) for _ in range(100)]
    silent = [socket.create_connection(address(edge.url), timeout=10) for _ in range(100)]
    try:
        for sock in half:
            sock.sendall(b"PUT /contact/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        answers = [read_to_end(sock) for sock in half]
        assert [read_to_end(sock) for sock in silent] == [b""] * 100  # nothing asked: closed without a word
        elapsed = time.monotonic() - started
    finally:
        for sock in (*half, *silent):
            sock.close()
    for answer in answers:
        assert_json_error(answer, 408, "RequestTimeout")
    assert 0.9 <= elapsed < 4, f"200 connections were cut after {elapsed:.1f} s; the header timeout is 1 s"


def test_a_body_that_trickles_is_cut_after_the_body_timeout(edge: RunningParley) -> None:
    with socket.create_connection(address(edge.url), timeout=10) as sock:
        sock.sendall(b"PUT /contact/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = read_to_end(sock)
        elapsed = time.monotonic() - started
    assert_json_error(answer, 408, "RequestTimeout")
    assert 0.9 <= elapsed < 3


def test_a_half_sent_head_gets_its_408_even_when_the_keep_alive_timer_comes_due_with_it(edge: RunningParley) -> None:
    """The idle (keep-alive) timer and the head timer of the request behind it can come due in the same
    millisecond; the connection is not idle, so the answer must be the 408, never a silent close. A hundred
    connections at once make the tie likely (about one in twenty before it was fixed)."""
    health = b"GET /_parley/health HTTP/1.1\r\nHost: x\r\n\r\n"

    def last_status() -> bytes:
        with socket.create_connection(address(edge.url), timeout=10) as sock:
            sock.sendall(health + health + b"GET /_parley/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            return read_to_end(sock).rsplit(b"HTTP/1.1 ", 1)[1][:3]

    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(pool.map(lambda _: last_status(), range(100)))
    assert statuses == [b"408"] * 100


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(edge: RunningParley) -> None:
    with socket.create_connection(address(edge.url), timeout=10) as sock:
        sock.sendall(b"GET /_parley/health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_response(sock)
        started = time.monotonic()
        rest = read_to_end(sock)
        elapsed = time.monotonic() - started
    assert first.startswith(b"HTTP/1.1 200") and rest == b""
    assert 0.9 <= elapsed < 3


def test_an_over_long_request_target_is_the_json_error_shape(edge: RunningParley) -> None:
    """Issue 12, defect 6: a target over ~64 KiB got uvicorn's plain-text 400."""
    path = "/contacts/" + "i" * 70000 + "/c"
    answer = exchange(edge.url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_json_error(answer, 414, "ValidationError")
    deadline = time.monotonic() + 5  # the log line may reach the pipe's reader after the answer
    while time.monotonic() < deadline and not any("refused 414 ValidationError" in line for line in edge.lines):
        time.sleep(0.02)
    assert any("refused 414 ValidationError" in line for line in edge.lines)  # visible in the log
    connect = client("connect", edge.url, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        connect.describe_contact(InstanceId="i" * 9000, ContactId="c")
    assert error_of(excinfo) == ("ValidationError", 414)


def test_over_large_headers_and_malformed_http_are_the_json_error_shape(edge: RunningParley) -> None:
    big = b"GET /_parley/health HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-Pad-%d: %s\r\n" % (i, b"v" * 1000) for i in range(40)
    )
    assert_json_error(exchange(edge.url, big + b"\r\n"), 431, "ValidationError")
    assert_json_error(exchange(edge.url, b"GET /x HTTP/1.1\r\nHost x\r\n\r\n"), 400, "ValidationError")
    assert_json_error(
        exchange(edge.url, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64), 400, "ValidationError"
    )
    no_tracebacks(edge)


def test_a_huge_body_is_refused_from_its_content_length_without_being_read(edge: RunningParley) -> None:
    """Issue 12, defect 6: a 100 MB body was read to the end before its 400."""
    with socket.create_connection(address(edge.url), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(
            b"PUT /contact/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n{"
        )
        answer = read_response(sock)
        elapsed = time.monotonic() - started
    assert_json_error(answer, 400, "InvalidParameterException")  # StartChatContact's validation error
    assert elapsed < 0.5
    connect = client("connect", edge.url, parameter_validation=False)
    setup = make_instance(connect)
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, setup, Attributes={"big": "x" * 20_000_000})
    assert error_of(excinfo) == ("InvalidParameterException", 400)
    assert start_chat(connect, setup)["ContactId"]  # the server is fine afterwards


# -- defect 2: no live credential in the idempotency table ---------------------------------------------
def stored_answers(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "parley.sqlite3") as db:
        return "\n".join(row[0] for row in db.execute("SELECT response FROM idempotency"))


def secrets_in(answer: dict[str, Any]) -> list[str]:
    """Every token and credential-bearing URL inside an answer."""
    found: list[str] = []
    for key, value in answer.items():
        if isinstance(value, dict):
            found += secrets_in(value)
        elif key in ("ParticipantToken", "ConnectionToken", "JoinToken", "Url"):
            found.append(value if key != "Url" else value.rsplit("=", 1)[1])
    return found


def test_replayable_answers_are_stored_without_secrets_and_replayed_with_them(tmp_path: Path) -> None:
    """Issue 12, defect 2: StartChatContact's answer, ParticipantToken included, was stored in clear."""
    server = start_parley("--data-dir", str(tmp_path), "--quota-active-chats", "0")
    try:
        connect = client("connect", server.url)
        setup = make_instance(connect)
        types = ["WEBSOCKET", "CONNECTION_CREDENTIALS"]
        chat = start_chat(connect, setup, ClientToken="chat-1", ConnectionTypes=types)
        again = start_chat(connect, setup, ClientToken="chat-1", ConnectionTypes=types)
        bot_args = {"InstanceId": setup.instance_id, "ContactId": chat["ContactId"], "ClientToken": "bot-1"}
        bot_args["ParticipantDetails"] = {"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"}
        bot = connect.create_participant(**bot_args)
        call_args = {"InstanceId": setup.instance_id, "ContactFlowId": setup.flow_id, "ClientToken": "call-1"}
        call = connect.start_web_rtc_contact(ParticipantDetails={"DisplayName": "Caller"}, **call_args)
        cp = participant_client(server.url)
        token = chat["ConnectionCredentials"]["ConnectionToken"]
        upload_args = {"ContentType": "application/pdf", "AttachmentSizeInBytes": 10, "AttachmentName": "a.pdf"}
        upload = cp.start_attachment_upload(ConnectionToken=token, ClientToken="up-1", **upload_args)
        stored = stored_answers(tmp_path)
        answers = [chat, bot, call, upload]
        secrets = [secret for answer in answers for secret in secrets_in(answer)]
        assert len(secrets) >= 6 and stored.count("\n") >= 3
        assert [secret for secret in secrets if secret in stored] == []
        # A replay re-derives them: the same participant token, working credentials.
        assert again["ParticipantToken"] == chat["ParticipantToken"]
        assert connect.create_participant(**bot_args)["ParticipantCredentials"] == bot["ParticipantCredentials"]
        replayed_call = connect.start_web_rtc_contact(ParticipantDetails={"DisplayName": "Caller"}, **call_args)
        assert replayed_call["ConnectionData"]["Attendee"] == call["ConnectionData"]["Attendee"]
        assert replayed_call["ParticipantToken"] == call["ParticipantToken"]
        retried = cp.start_attachment_upload(ConnectionToken=token, ClientToken="up-1", **upload_args)
        assert retried["AttachmentId"] == upload["AttachmentId"] and retried["UploadMetadata"]["Url"]
        fresh = again["ConnectionCredentials"]["ConnectionToken"]
        cp.send_message(ConnectionToken=fresh, ContentType="text/plain", Content="still me")
        ws = subscribed(again["Websocket"]["Url"])
        ws.close()
    finally:
        server.stop()


# -- defect 4: declared errors only; an empty ClientToken is no token ----------------------------------
def test_a_reused_client_token_answers_an_error_the_operation_declares(edge: RunningParley) -> None:
    """Issue 12, defect 4: IdempotencyException, which none of these operations declares."""
    connect = client("connect", edge.url)
    setup = make_instance(connect)
    alias = {"IdentityManagementType": "CONNECT_MANAGED", "InboundCallsEnabled": True, "OutboundCallsEnabled": True}
    connect.create_instance(ClientToken="i-1", InstanceAlias="hardening-a", **alias)
    with pytest.raises(ClientError) as excinfo:
        connect.create_instance(ClientToken="i-1", InstanceAlias="hardening-b", **alias)
    assert error_of(excinfo) == ("InvalidRequestException", 400)
    start_chat(connect, setup, ClientToken="c-1")
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, setup, ClientToken="c-1", Attributes={"other": "value"})
    assert error_of(excinfo) == ("InvalidParameterException", 400)
    args = {"InstanceId": setup.instance_id, "ContactFlowId": setup.flow_id, "ClientToken": "w-1"}
    connect.start_web_rtc_contact(ParticipantDetails={"DisplayName": "A"}, **args)
    with pytest.raises(ClientError) as excinfo:
        connect.start_web_rtc_contact(ParticipantDetails={"DisplayName": "B"}, **args)
    assert error_of(excinfo) == ("InvalidParameterException", 400)
    contact = start_chat(connect, setup)["ContactId"]
    bot = {"InstanceId": setup.instance_id, "ContactId": contact, "ClientToken": "p-1"}
    connect.create_participant(ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "A"}, **bot)
    with pytest.raises(ClientError) as excinfo:
        connect.create_participant(ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "B"}, **bot)
    assert error_of(excinfo) == ("ConflictException", 409)


def test_the_mismatch_error_is_a_setting_checked_against_the_model() -> None:
    server = start_parley("--idempotency-mismatch-errors", "StartChatContact=InvalidRequestException")
    try:
        connect = client("connect", server.url)
        setup = make_instance(connect)
        start_chat(connect, setup, ClientToken="c-1")
        with pytest.raises(ClientError) as excinfo:
            start_chat(connect, setup, ClientToken="c-1", Attributes={"other": "value"})
        assert error_of(excinfo) == ("InvalidRequestException", 400)
    finally:
        server.stop()
    with pytest.raises(RuntimeError, match="does not declare 'IdempotencyException'"):
        start_parley("--idempotency-mismatch-errors", "StartChatContact=IdempotencyException")


def test_an_empty_client_token_is_treated_as_absent(edge: RunningParley) -> None:
    connect = client("connect", edge.url)
    setup = make_instance(connect)
    first = start_chat(connect, setup, ClientToken="")
    other = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Someone"},
        ClientToken="",
    )
    assert other["ContactId"] != first["ContactId"]
    assert start_chat(connect, setup, ClientToken="")["ContactId"] not in (first["ContactId"], other["ContactId"])


# -- WebSocket credentials ---------------------------------------------------------------------------------
def upgrade_status(url: str) -> int:
    """The HTTP status the server answers a WebSocket upgrade with (101 when it is accepted)."""
    host, rest = url.split("//", 1)[1].split("/", 1)
    name, port = host.rsplit(":", 1)
    request = (
        f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((name, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        return int(sock.recv(4096).split(b" ", 2)[1])


def test_a_websocket_url_opens_only_for_its_live_participant_and_unaltered(edge: RunningParley) -> None:
    chat = new_chat(edge)
    url = chat.customer.websocket_url or ""
    assert upgrade_status(url) == 101
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    altered = url[:-1] + alphabet[alphabet.index(url[-1]) ^ 1]
    assert upgrade_status(altered) == 403
    assert upgrade_status(url.replace("/ws/chat", "/ws/other")) == 403
    chat.cp.disconnect_participant(ConnectionToken=chat.customer.connection_token)
    assert upgrade_status(url) == 403  # the participant has left: the still-fresh URL no longer opens


def test_a_silent_socket_is_closed_with_1001_after_the_idle_timeout() -> None:
    server = start_parley("--ws-idle-timeout", "1")
    try:
        chat = new_chat(server)
        ws = subscribed(chat.customer.websocket_url or "")
        started = time.monotonic()
        assert close_of(ws, timeout=5) == (1001, "idle")
        assert 0.9 <= time.monotonic() - started < 3
        talking = subscribed(
            join(chat.cp, chat.started["ParticipantToken"], chat.customer.participant_id).websocket_url
        )
        for _ in range(4):  # a client that keeps talking (chatjs: every 10 s) stays open
            time.sleep(0.5)
            talking.send('{"topic":"aws/heartbeat"}')
            assert json.loads(talking.recv(timeout=5)) == {"topic": "aws/heartbeat"}
        talking.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            f" ws.close 1001 contact={chat.contact_id}" in x for x in server.lines
        ):
            time.sleep(0.02)
        assert any(f" ws.close 1001 contact={chat.contact_id}" in line for line in server.lines)
    finally:
        server.stop()


def test_the_request_log_shows_no_credential_of_any_kind(edge: RunningParley) -> None:
    connect = client("connect", edge.url)
    setup = make_instance(connect)
    chat = start_chat(connect, setup, ConnectionTypes=["WEBSOCKET", "CONNECTION_CREDENTIALS"])
    call = connect.start_web_rtc_contact(
        InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "Caller"}
    )
    cp = participant_client(edge.url)
    token = chat["ConnectionCredentials"]["ConnectionToken"]
    args = {"ContentType": "application/pdf", "AttachmentSizeInBytes": 10, "AttachmentName": "a.pdf"}
    upload = cp.start_attachment_upload(ConnectionToken=token, **args)
    secrets = [secret for answer in (chat, call, upload) for secret in secrets_in(answer)]
    with socket.create_connection(address(edge.url), timeout=10) as sock:
        sock.sendall(b"GET /_parley/requests?limit=50 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        shown = read_to_end(sock).decode()
    assert len(secrets) >= 5 and '"JoinToken"' in shown and "sig=" in shown
    assert [secret for secret in secrets if secret in shown] == []


def test_pipelined_requests_are_answered_and_a_half_sent_one_behind_them_is_cut(edge: RunningParley) -> None:
    health = b"GET /_parley/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(address(edge.url), timeout=10) as sock:
        sock.sendall(health + health + b"GET /_parley/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        answers = read_to_end(sock)
        elapsed = time.monotonic() - started
    assert answers.count(b"HTTP/1.1 200 OK") == 2
    assert answers.rsplit(b"HTTP/1.1 ", 1)[1].startswith(b"408")  # the third, cut after the header timeout
    assert 0.9 <= elapsed < 3
