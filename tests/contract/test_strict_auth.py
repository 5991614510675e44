"""`--strict-auth`: SigV4 on Connect calls, verified against `--credentials` (conventions.md §5).

Three real signers — boto3, the AWS CLI and the JS SDK v3 — sign calls first against a strict Parley (each
accepted with the right secret, refused with a wrong one), then against a recorder that keeps the exact bytes
they sent. Each recorded request is replayed to Parley untouched (accepted) and with one part changed
(method, path, query, each signed header, body, date, key, region, service, signature): every change is
refused with an AWS auth error before anything runs, and harmless changes (query order, an unsigned header)
are still accepted. The Participant Service stays unsigned under --strict-auth.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from parley.protocol.sigv4 import AUTH_ERRORS
from parley.settings import SettingsError, load
from tests.conftest import RunningParley, Setup, make_instance, start_parley
from tests.contract.test_aws_cli import AWS, Cli
from tests.interop.test_jssdk import JSSDK, node_or_skip

KEY, SECRET = "111122223333", "s3cret/with+odd=chars"
OTHER_KEY, OTHER_SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CREDENTIALS = f"{KEY}:{SECRET},{OTHER_KEY}:{OTHER_SECRET}"
REGION = "eu-west-2"


@pytest.fixture(scope="module")
def strict() -> Iterator[RunningParley]:
    running = start_parley("--strict-auth", "--credentials", CREDENTIALS)
    yield running
    running.stop()


def signed_client(url: str, service: str = "connect", key: str = KEY, secret: str = SECRET) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def target(strict: RunningParley) -> tuple[Setup, str]:
    connect = signed_client(strict.url)
    setup = make_instance(connect)
    arn = connect.describe_instance(InstanceId=setup.instance_id)["Instance"]["Arn"]
    return setup, arn


# ------------------------------------------------------------------------------- recording and replaying


@dataclass(frozen=True)
class Raw:
    """One request exactly as a client sent it."""

    method: str
    target: str  # raw path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def with_header(self, name: str, value: str | None) -> Raw:
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name)
        return replace(self, headers=kept if value is None else (*kept, (name, value)))

    def signed_headers(self) -> list[str]:
        auth = self.header("authorization") or ""
        return auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every request `200 {}` and keeps it byte for byte."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Keep)
        self.kept: list[Raw] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Keep(http.server.BaseHTTPRequestHandler):
    def _keep(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        assert isinstance(self.server, Recorder)
        self.server.kept.append(Raw(self.command, self.path, tuple(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PUT = do_DELETE = _keep

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Reply:
    status: int
    code: str | None
    body: bytes


def replay(url: str, raw: Raw) -> Reply:
    """Sends `raw` to `url` as it is: the recorded Host header, header order and values, body."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(raw.method, raw.target, skip_host=True, skip_accept_encoding=True)
        for name, value in raw.headers:
            connection.putheader(name, value)
        connection.endheaders(raw.body or None)
        response = connection.getresponse()
        return Reply(response.status, response.getheader("x-amzn-errortype"), response.read())
    finally:
        connection.close()


# ----------------------------------------------------------------------------------------- tampering


def _changed(text: str) -> str:
    """`text` with its last alphanumeric character changed."""
    for i in range(len(text) - 1, -1, -1):
        if text[i].isalnum():
            swap = "1" if text[i] == "0" else "0" if text[i].isdigit() else "b" if text[i] == "a" else "a"
            return text[:i] + swap + text[i + 1 :]
    return text + "0"


def _scope_part(raw: Raw, index: int, value: str) -> Raw:
    auth = raw.header("authorization") or ""
    head, _, rest = auth.partition("Credential=")
    scope, sep, tail = rest.partition(",")
    parts = scope.split("/")
    parts[index] = value
    return raw.with_header("authorization", f"{head}Credential={'/'.join(parts)}{sep}{tail}")


def _later_date(raw: Raw) -> Raw:
    stamp = datetime.strptime(raw.header("x-amz-date") or "", "%Y%m%dT%H%M%SZ") + timedelta(seconds=1)
    return raw.with_header("x-amz-date", stamp.strftime("%Y%m%dT%H%M%SZ"))


def _new_body(raw: Raw, rehash: bool) -> Raw:
    body = raw.body[:-2] + (b"x" if raw.body[-2:-1] != b"x" else b"y") + raw.body[-1:]
    changed = replace(raw, body=body)
    if rehash and raw.header("x-amz-content-sha256") is not None:
        changed = changed.with_header("x-amz-content-sha256", hashlib.sha256(body).hexdigest())
    return changed


def _other_method(raw: Raw) -> Raw:
    return replace(raw, method={"GET": "DELETE", "POST": "GET", "PUT": "POST", "DELETE": "GET"}[raw.method])


def tamperings(raw: Raw) -> dict[str, tuple[Raw, str]]:
    """name -> (the changed request, the error it must get)."""
    bad = "InvalidSignatureException"
    out: dict[str, tuple[Raw, str]] = {
        "method": (_other_method(raw), bad),
        "path": (replace(raw, target=_changed(raw.path) + raw.target[len(raw.path) :]), bad),
        "date": (_later_date(raw), bad),
        "key unknown": (_scope_part(raw, 0, "999999999999"), "InvalidClientTokenId"),
        "key of another secret": (_scope_part(raw, 0, OTHER_KEY), bad),
        "region": (_scope_part(raw, 2, "us-west-2"), bad),
        "service": (_scope_part(raw, 3, "connectparticipant"), bad),
        "signature": (raw.with_header("authorization", _changed(raw.header("authorization") or "")), bad),
        "no authorization": (raw.with_header("authorization", None), "MissingAuthenticationToken"),
        "garbled authorization": (
            raw.with_header("authorization", "AWS4-HMAC-SHA256 Credential=x"),
            "IncompleteSignature",
        ),
    }
    if "%" in raw.path:
        out["path decoded"] = (replace(raw, target=unquote(raw.path) + raw.target[len(raw.path) :]), bad)
    if raw.query:
        out["query value"] = (replace(raw, target=raw.path + "?" + _changed(raw.query)), bad)
        out["query added"] = (replace(raw, target=raw.target + "&extra=1"), bad)
        out["query dropped"] = (replace(raw, target=raw.path + "?" + raw.query.rpartition("&")[0]), bad)
    else:
        out["query added"] = (replace(raw, target=raw.target + "?extra=1"), bad)
    if raw.body:
        out["body"] = (_new_body(raw, rehash=False), bad)
        out["body with its hash"] = (_new_body(raw, rehash=True), bad)
    for name in raw.signed_headers():
        if name == "content-length":  # tied to the body: changed by the body tamperings
            continue
        value = raw.header(name) or ""
        changed = _later_date(raw) if name == "x-amz-date" else raw.with_header(name, _changed(value))
        out[f"header {name}"] = (changed, bad)
        out[f"header {name} removed"] = (
            raw.with_header(name, None),
            "IncompleteSignature" if name == "x-amz-date" else bad,
        )
    return out


def harmless(raw: Raw) -> dict[str, Raw]:
    """Changes SigV4 does not cover, which must still be accepted."""
    out = {"as sent": raw, "unsigned header added": replace(raw, headers=(*raw.headers, ("X-Unsigned-Extra", "1")))}
    if "&" in raw.query:
        reordered = "&".join(reversed(raw.query.split("&")))
        out["query reordered"] = replace(raw, target=f"{raw.path}?{reordered}")
    return out


def check_recorded(url: str, recorded: list[Raw], operations: int) -> list[str]:
    """Replays each recorded request as sent and harmlessly changed (must be accepted, 200) and tampered
    (must get its auth error); answers one line per failure."""
    assert len(recorded) == operations, [r.target for r in recorded]
    failures = []
    for raw in recorded:
        for name, request in harmless(raw).items():
            reply = replay(url, request)
            if reply.status != 200:
                failures.append(f"{raw.method} {raw.path} {name}: {reply.status} {reply.body[:300]!r}")
        for name, (request, code) in tamperings(raw).items():
            reply = replay(url, request)
            if reply.code != code or reply.status != AUTH_ERRORS[code] or not _wire_error(reply):
                failures.append(f"{raw.method} {raw.path} {name}: want {code}, got {reply.status} {reply.body[:300]!r}")
    return failures


def _wire_error(reply: Reply) -> bool:
    body = json.loads(reply.body)
    return isinstance(body, dict) and body.get("__type") == reply.code and bool(body.get("message"))


# ------------------------------------------------------------------------------------------ the signers


def boto3_calls(url: str, setup: Setup, arn: str, key: str = KEY, secret: str = SECRET) -> None:
    connect = signed_client(url, key=key, secret=secret)
    connect.list_contact_flows(
        InstanceId=setup.instance_id, ContactFlowTypes=["CONTACT_FLOW", "AGENT_TRANSFER"], MaxResults=5
    )
    connect.tag_resource(resourceArn=arn, tags={"team": "a b/c+d=e", "k@é": "é"})


def cli_calls(
    url: str, setup: Setup, arn: str, home: Path, secret: str = SECRET
) -> list[subprocess.CompletedProcess[str]]:
    env = Cli(url, KEY, home).env(AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=REGION)
    commands = [
        [
            "list-contact-flows",
            "--instance-id",
            setup.instance_id,
            "--contact-flow-types",
            "CONTACT_FLOW",
            "AGENT_TRANSFER",
            "--max-results",
            "5",
        ],
        ["tag-resource", "--resource-arn", arn, "--tags", "team=a b/c+d"],
    ]
    return [
        subprocess.run(
            [str(AWS), "connect", *command, "--endpoint-url", url, "--output", "json", "--no-paginate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for command in commands
    ]


def jssdk_calls(url: str, setup: Setup, arn: str, secret: str = SECRET, offset_ms: int = 0) -> list[dict[str, Any]]:
    config = {
        "endpoint": url,
        "key": KEY,
        "secret": secret,
        "region": REGION,
        "instanceId": setup.instance_id,
        "arn": arn,
        "clockOffsetMs": offset_ms,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"
    done = subprocess.run(
        [node_or_skip(), str(JSSDK / "signed_calls.mjs"), json.dumps(config)],
        cwd=JSSDK,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    calls: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])["calls"]
    return calls


# -------------------------------------------------------------------------------------------- the tests


def test_boto3_signed_calls_are_accepted_and_a_wrong_secret_is_refused(
    strict: RunningParley, target: tuple[Setup, str]
) -> None:
    setup, arn = target
    boto3_calls(strict.url, setup, arn)
    assert signed_client(strict.url).list_tags_for_resource(resourceArn=arn)["tags"]["team"] == "a b/c+d=e"
    signed_client(strict.url, key=OTHER_KEY, secret=OTHER_SECRET).list_instances()  # another key: another account
    for key, secret, code in (
        (KEY, "wrong", "InvalidSignatureException"),
        ("999999999999", SECRET, "InvalidClientTokenId"),
    ):
        with pytest.raises(ClientError) as refused:
            boto3_calls(strict.url, setup, arn, key=key, secret=secret)
        assert refused.value.response["Error"]["Code"] == code
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_aws_cli_signed_calls_are_accepted_and_a_wrong_secret_is_refused(
    strict: RunningParley, target: tuple[Setup, str], tmp_path: Path
) -> None:
    setup, arn = target
    for done in cli_calls(strict.url, setup, arn, tmp_path):
        assert done.returncode == 0, done.stderr
    for done in cli_calls(strict.url, setup, arn, tmp_path, secret="wrong"):
        assert done.returncode == 255 and "InvalidSignatureException" in done.stderr, done.stderr


def test_js_sdk_signed_calls_are_accepted_and_a_wrong_secret_is_refused(
    strict: RunningParley, target: tuple[Setup, str]
) -> None:
    setup, arn = target
    assert all(call["ok"] for call in jssdk_calls(strict.url, setup, arn)), jssdk_calls(strict.url, setup, arn)
    refused = jssdk_calls(strict.url, setup, arn, secret="wrong")
    assert [(c["error"], c["status"]) for c in refused] == [("InvalidSignatureException", 403)] * 2


def test_every_tampering_of_a_boto3_request_is_refused(
    strict: RunningParley, target: tuple[Setup, str], recorder: Recorder
) -> None:
    boto3_calls(recorder.url, *target)
    assert check_recorded(strict.url, recorder.kept, 2) == []


def test_every_tampering_of_an_aws_cli_request_is_refused(
    strict: RunningParley, target: tuple[Setup, str], recorder: Recorder, tmp_path: Path
) -> None:
    for done in cli_calls(recorder.url, *target, tmp_path):
        assert done.returncode == 0, done.stderr
    assert check_recorded(strict.url, recorder.kept, 2) == []


def test_every_tampering_of_a_js_sdk_request_is_refused(
    strict: RunningParley, target: tuple[Setup, str], recorder: Recorder
) -> None:
    assert all(call["ok"] for call in jssdk_calls(recorder.url, *target))
    assert all(raw.header("x-amz-content-sha256") for raw in recorder.kept)  # the JS SDK sends the body hash
    assert check_recorded(strict.url, recorder.kept, 2) == []


@pytest.mark.parametrize(("minutes", "accepted"), [(-14, True), (14, True), (-16, False), (16, False)])
def test_the_clock_skew_window_is_15_minutes(
    strict: RunningParley, target: tuple[Setup, str], monkeypatch: pytest.MonkeyPatch, minutes: int, accepted: bool
) -> None:
    signed_at = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: signed_at)  # the client's clock, not Parley's
    connect = signed_client(strict.url)
    if accepted:
        connect.describe_instance(InstanceId=target[0].instance_id)
        return
    with pytest.raises(ClientError) as refused:
        connect.describe_instance(InstanceId=target[0].instance_id)
    assert refused.value.response["Error"]["Code"] == "RequestExpired"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_js_sdk_clock_20_minutes_off_is_refused_then_corrected(
    strict: RunningParley, target: tuple[Setup, str]
) -> None:
    """...and the SDK corrects its clock from the refusal's Date header, so its next call is accepted."""
    first, second = jssdk_calls(strict.url, *target, offset_ms=-20 * 60 * 1000)
    assert (first["error"], first["status"]) == ("RequestExpired", 400)
    assert second["ok"], second


def test_the_participant_service_stays_unsigned_under_strict_auth(
    strict: RunningParley, target: tuple[Setup, str]
) -> None:
    setup, _ = target
    chat = signed_client(strict.url).start_chat_contact(
        InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "Customer"}
    )
    participant = boto3.client(
        "connectparticipant",
        endpoint_url=strict.url,
        region_name=REGION,
        aws_access_key_id="anything",
        aws_secret_access_key="wrong",
    )
    connection = participant.create_participant_connection(
        ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )
    token = connection["ConnectionCredentials"]["ConnectionToken"]
    participant.send_message(ConnectionToken=token, ContentType="text/plain", Content="hello")
    unsigned = replay(
        strict.url,
        Raw(
            "POST",
            "/participant/transcript",
            (("Host", "x"), ("X-Amz-Bearer", token), ("Content-Type", "application/json"), ("Content-Length", "2")),
            b"{}",
        ),
    )
    assert unsigned.status == 200, unsigned.body


def test_unsigned_connect_calls_are_refused(strict: RunningParley, target: tuple[Setup, str]) -> None:
    raw = Raw("GET", f"/instance/{target[0].instance_id}", (("Host", "x"),), b"")
    reply = replay(strict.url, raw)
    assert (reply.status, reply.code) == (403, "MissingAuthenticationToken") and _wire_error(reply)


def test_the_default_server_still_accepts_any_signature(parley: RunningParley) -> None:
    signed_client(parley.url, secret="anything").list_instances()


def test_credentials_setting() -> None:
    settings = load({"strict_auth": "1", "credentials": "AKID:se:cret, 123456789012:x"}, environ={})
    assert settings.strict_auth and dict(settings.credentials) == {"AKID": "se:cret", "123456789012": "x"}
    assert load({}, environ={"PARLEY_CREDENTIALS": "a:b"}).credentials == {"a": "b"}
    assert load({}, environ={}).credentials == {"test": "test"} and not load({}, environ={}).strict_auth
    for bad in ("nocolon", ":secret", "key:", ","):
        with pytest.raises(SettingsError, match="--credentials"):
            load({"credentials": bad}, environ={})
