"""What emulator users expect around `parley serve`: `parley wait`, `--port-file`, `GET /_parley/config` with
each setting's source, `--log-format json`, and the usage and setting errors a newcomer meets first."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import client, make_instance, start_parley
from tests.contract.admin_helpers import ok
from tests.contract.chat_helpers import Socket, join, participant_client
from tests.contract.test_serve import wait_for

PARLEY = [sys.executable, "-m", "parley"]


def run(*words: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PARLEY, *words], capture_output=True, text=True, timeout=timeout, env=env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_wait_returns_once_ready_and_times_out_with_a_reason(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    waiting = subprocess.Popen(
        [*PARLEY, "wait", "--timeout", "30"],
        env={"PARLEY_ENDPOINT_URL": url, "PATH": "/usr/bin:/bin"},
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # nothing listens yet: wait keeps polling
    assert waiting.poll() is None
    server = start_parley("--port", str(port))
    try:
        assert waiting.wait(timeout=30) == 0
    finally:
        server.stop()
        assert waiting.stderr is not None
        waiting.stderr.close()
    started = time.monotonic()
    late = run("wait", "--endpoint-url", url, "--timeout", "0.5")
    assert late.returncode == 1 and time.monotonic() - started < 10
    assert f"Parley at {url} is not ready after 0.5 s: cannot reach Parley" in late.stderr


def test_port_file_holds_the_url_once_listening(tmp_path: Path) -> None:
    port_file = tmp_path / "parley.url"
    server = start_parley("--port-file", str(port_file))
    try:
        assert port_file.read_text() == server.url
    finally:
        server.stop()
    assert not port_file.exists()


def test_config_names_each_setting_s_source_and_masks_secrets() -> None:
    env = {"PARLEY_REGION": "eu-west-2", "PARLEY_SECRET": "00" * 32}
    server = start_parley("--quota-instances", "5", "--cors-origins", "loopback,https://a.example", env=env)
    try:
        settings = ok(server.url, "GET", "config")["settings"]
        cli = json.loads(run("config", "--endpoint-url", server.url).stdout)["settings"]
    finally:
        server.stop()
    assert cli == settings
    assert settings["quota_instances"] == {
        "value": 5,
        "source": "flag",
        "flag": "--quota-instances",
        "env": "PARLEY_QUOTA_INSTANCES",
    }
    assert settings["region"]["value"] == "eu-west-2" and settings["region"]["source"] == "env"
    assert settings["account_id"]["value"] == "123456789012" and settings["account_id"]["source"] == "default"
    assert settings["secret"] == {"value": "***", "source": "env", "flag": "--secret", "env": "PARLEY_SECRET"}
    assert settings["cors_origins"]["value"] == ["loopback", "https://a.example"]
    assert settings["port"]["source"] == "flag"  # start_parley passes --port 0
    assert "00" * 32 not in json.dumps(settings)


def test_json_log_lines_parse_and_carry_the_text_line_s_fields() -> None:
    server = start_parley("--log-format", "json")
    try:
        connect = client("connect", server.url)
        setup = make_instance(connect)
        chat = connect.start_chat_contact(
            InstanceId=setup.instance_id, ContactFlowId=setup.flow_id, ParticipantDetails={"DisplayName": "C"}
        )
        customer = join(participant_client(server.url), chat["ParticipantToken"], chat["ParticipantId"])
        assert customer.websocket_url
        Socket(customer.websocket_url).close()
        assert wait_for(lambda: any('"ws.close"' in line for line in server.lines))
        connect.describe_instance(InstanceId=setup.instance_id)
        assert wait_for(lambda: any("DescribeInstance" in line for line in server.lines))
    finally:
        server.stop()
    announced = "parley: "  # `listening on …` and `console at …` stay text: every other line is JSON
    lines = [json.loads(line) for line in server.lines if not line.startswith(announced)]
    created = next(line for line in lines if line.get("operation") == "connect.CreateInstance")
    assert set(created) == {"time", "level", "operation", "status", "latencyMs", "requestId"}
    assert created["status"] == 200 and created["level"] == "INFO" and isinstance(created["latencyMs"], float)
    assert created["time"].endswith("Z") and len(created["requestId"]) == 36
    opened = next(line for line in lines if line.get("event") == "ws.open")
    assert opened["contact"] == chat["ContactId"] and opened["participant"] == chat["ParticipantId"]
    closed = next(line for line in lines if line.get("event") == "ws.close")
    assert isinstance(closed["code"], int)


def test_json_format_also_applies_to_warnings_and_errors(tmp_path: Path) -> None:
    done = run("serve", "--port", "0", "--log-format", "json", "--init", str(tmp_path / "missing"))
    assert done.returncode == 1
    assert all(json.loads(line) for line in done.stdout.splitlines() if not line.startswith("parley: "))
    assert all(json.loads(line) for line in done.stderr.splitlines() if not line.startswith("parley: "))


def stderr_of(*words: str, env: dict[str, Any] | None = None) -> str:
    done = run(*words, env=env, timeout=30)
    assert done.returncode == 2, done
    return done.stderr


def test_an_unknown_serve_flag_shows_serve_s_usage() -> None:
    for words in (["serve", "--bogus"], ["--bogus"]):
        message = stderr_of(*words)
        assert message.startswith("usage: parley serve ") and "unrecognized arguments: --bogus" in message
    assert stderr_of("faults", "add", "--bogus").startswith("usage: parley faults add ")


def test_create_participant_errors_as_documented_and_named_by_the_flag_used() -> None:
    helped = run("serve", "--help").stdout
    assert "not_found, invalid, conflict, quota" in " ".join(helped.split()) and "ended=" not in helped
    flag = stderr_of("serve", "--port", "0", "--create-participant-errors", "quota=NoSuchError")
    assert "--create-participant-errors: 'NoSuchError' is not a Connect error" in flag
    assert "PARLEY_" not in flag
    env = {"PARLEY_CREATE_PARTICIPANT_ERRORS": "ended=ConflictException", "PATH": "/usr/bin:/bin"}
    variable = stderr_of("serve", "--port", "0", env=env)
    assert "PARLEY_CREATE_PARTICIPANT_ERRORS: unknown situation 'ended'" in variable
    assert "not_found, invalid, conflict, quota" in variable
    server = start_parley("--create-participant-errors", "quota=ConflictException,conflict=InvalidRequestException")
    server.stop()


def test_an_in_process_server_s_settings_come_from_keywords() -> None:
    from parley.testing import ParleyServer

    with ParleyServer(quota_instances=3) as server:
        settings = server.admin.request("GET", "/_parley/config")[1]["settings"]
    assert settings["quota_instances"]["source"] == "keyword" and settings["quota_instances"]["value"] == 3
    assert settings["region"]["source"] == "default"
