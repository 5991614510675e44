"""`parley serve`: its URL line, one log line per request, env twins, failing fast."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, client, make_instance, start_parley

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO connect\.CreateInstance 200 \d+\.\dms req=[0-9a-f-]{36}$"
)


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_one_log_line_per_request_names_service_operation_status_and_ms() -> None:
    server = start_parley()
    try:
        make_instance(client("connect", server.url))
        assert wait_for(lambda: any(LINE.match(line) for line in server.lines)), list(server.lines)
        with pytest.raises(ClientError):
            client("connect", server.url).describe_instance(InstanceId="nope")
        assert wait_for(lambda: any(" connect.DescribeInstance 404 " in line for line in server.lines))
    finally:
        server.stop()


def test_log_level_warning_silences_request_lines() -> None:
    server = start_parley(env={"PARLEY_LOG_LEVEL": "warning"})
    try:
        make_instance(client("connect", server.url))
        time.sleep(0.2)
        assert not any("connect.CreateInstance" in line for line in server.lines)
    finally:
        server.stop()


def test_port_and_host_env_twins(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_parley(env={"PARLEY_PORT": str(port), "PARLEY_HOST": "127.0.0.1"})
    try:
        # The flag (--port 0 from start_parley) wins over the environment.
        assert server.url != f"http://127.0.0.1:{port}"
    finally:
        server.stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "parley"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PARLEY_PORT": str(port), "PARLEY_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"parley: listening on http://127.0.0.1:{port}"
        assert (tmp_path / "parley.sqlite3").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_a_taken_port_fails_at_once_with_a_clear_message(parley: RunningParley) -> None:
    port = parley.url.rsplit(":", 1)[1]
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "parley", "serve", "--port", port], capture_output=True, text=True, timeout=20
    )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert time.monotonic() - started < 10


def test_a_bad_setting_is_named() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parley", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=20,
        env={"PARLEY_QUOTA_INSTANCES": "-3", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and "PARLEY_QUOTA_INSTANCES" in result.stderr


def test_health_answers(parley: RunningParley) -> None:
    with urllib.request.urlopen(parley.url + "/_parley/health") as response:
        body = json.loads(response.read())
    assert body["status"] == "ok" and body["version"]
