"""`parley.Server`: the `parley serve` stack in a thread, ready on return, stopped cleanly, never hanging."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import parley
from parley.serving import BindError
from parley.settings import SettingsError
from parley.testing import ParleyServer, ParleyServerError


def health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url + "/_parley/health", timeout=5) as response:
        return dict(json.loads(response.read()))


def parley_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("parley-server-")]


def test_parley_server_is_the_testing_class() -> None:
    assert parley.Server is ParleyServer is parley.ParleyServer


def test_with_block_serves_on_a_free_port_and_answers_at_once() -> None:
    with parley.Server(port=0) as server:
        assert server.running
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        assert server.host == "127.0.0.1" and server.port > 0
        assert health(server.endpoint_url)["status"] == "ok"
    assert not server.running
    assert parley_threads() == []


def test_stop_joins_the_thread_and_frees_the_port_for_a_new_server() -> None:
    server = parley.Server().start()
    port = server.port
    server.client("connect").list_instances()
    server.stop()
    server.stop()  # idempotent
    assert not server.running and parley_threads() == []
    with pytest.raises(ParleyServerError, match="not running"):
        _ = server.endpoint_url
    with parley.Server(port=port) as again:
        assert again.port == port


def test_a_taken_port_fails_fast_with_the_address_in_the_message() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(BindError, match=f"cannot listen on 127.0.0.1:{port}"):
            parley.Server(port=port).start()
        assert time.monotonic() - started < 2
    assert parley_threads() == []


def test_settings_are_the_cli_settings_by_python_name(tmp_path: Path) -> None:
    with parley.Server(data_dir=tmp_path, account_id="111122223333", region="eu-west-2", quota_instances=1) as server:
        assert server.settings.policy.quota_instances == 1
        assert server.region == "eu-west-2"
        connect = server.client("connect")
        assert connect.meta.region_name == "eu-west-2"
        connect.create_instance(
            IdentityManagementType="CONNECT_MANAGED", InstanceAlias="one", InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )  # fmt: skip
        arn = connect.list_instances()["InstanceSummaryList"][0]["Arn"]
        assert arn.startswith("arn:aws:connect:eu-west-2:111122223333:instance/")
        with pytest.raises(ClientError):
            connect.create_instance(
                IdentityManagementType="CONNECT_MANAGED", InstanceAlias="two", InboundCallsEnabled=True,
                OutboundCallsEnabled=True,
            )  # fmt: skip
    assert (tmp_path / "parley.sqlite3").exists()
    # The store was closed cleanly: a new server on the same directory sees the instance.
    with parley.Server(data_dir=str(tmp_path), account_id="111122223333", region="eu-west-2") as again:
        assert [i["Arn"] for i in again.client("connect").list_instances()["InstanceSummaryList"]] == [arn]


def test_bad_or_unknown_settings_are_named_before_anything_starts() -> None:
    with pytest.raises(SettingsError, match="unknown setting bogus"):
        parley.Server(bogus=1)
    with pytest.raises(SettingsError, match="--quota-instances"):
        parley.Server(quota_instances=-1)
    with pytest.raises(SettingsError, match="--cors-origins"):
        parley.Server(cors_origins=["localhost:3000/path"])
    assert parley.Server(strict=True, cors_origins=["*"]).settings.cors_origins == ("*",)


def test_a_second_start_is_refused() -> None:
    with parley.Server() as server, pytest.raises(ParleyServerError, match="already started"):
        server.start()


def test_a_server_that_cannot_start_in_time_raises_instead_of_hanging() -> None:
    server = parley.Server(startup_timeout=0.0)
    started = time.monotonic()
    try:
        server.start()
    except ParleyServerError as exc:
        assert "did not start within 0.0 s" in str(exc)
    else:  # this machine was fast enough; still a running, stoppable server
        server.stop()
    assert time.monotonic() - started < 10
    assert not server.running and parley_threads() == []


def test_clients_env_and_admin_point_at_the_server() -> None:
    with parley.Server() as server:
        participant = server.client("connectparticipant")
        assert participant.meta.endpoint_url == server.endpoint_url
        with pytest.raises(ClientError) as refused:
            participant.send_message(ConnectionToken="not-a-token", ContentType="text/plain", Content="hi")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert server.env["AWS_ENDPOINT_URL_CONNECT"] == server.endpoint_url
        assert server.env["AWS_ENDPOINT_URL_CONNECTPARTICIPANT"] == server.endpoint_url
        assert server.admin.request("GET", "/_parley/health")[0] == 200
        with pytest.raises(ValueError, match="not 's3'"):
            server.client("s3")


def test_a_subprocess_sdk_finds_parley_through_env() -> None:
    with parley.Server() as server:
        code = "import boto3; print(boto3.client('connect').list_instances()['InstanceSummaryList'])"
        result = subprocess.run(
            [sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin", **server.env}, capture_output=True, text=True
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
