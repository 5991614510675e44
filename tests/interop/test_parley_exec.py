"""`parley exec [serve flags] -- CMD …` as a JS test suite uses it: a JS SDK v3 script that is given nothing
but the environment, the command's exit status passed through, and Parley stopped with the command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.interop.test_jssdk import JSSDK, node_or_skip

PARLEY = [sys.executable, "-m", "parley"]


def clean_env() -> dict[str, str]:
    """No AWS_* or PARLEY_* from the caller: only what parley exec sets can point the SDK at Parley."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PARLEY_"))}
    env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"
    return env


def refused(url: str) -> bool:
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


def test_a_js_sdk_script_reads_everything_from_the_environment() -> None:
    node = node_or_skip()
    done = subprocess.run(
        [*PARLEY, "exec", "--region", "eu-west-2", "--", node, "from_environment.mjs"],
        cwd=JSSDK,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])  # the command's stdout is its own
    assert report["region"] == "eu-west-2" and report["transcript"] == ["from env"]
    assert "parley: listening on http://127.0.0.1:" in done.stderr  # Parley's lines go to stderr
    assert "connectparticipant.SendMessage 200" in done.stderr


def test_a_failing_command_s_exit_status_is_passed_through() -> None:
    node = node_or_skip()
    done = subprocess.run(
        [*PARLEY, "exec", "--", node, "-e", "process.exit(7)"], env=clean_env(), capture_output=True, timeout=60
    )
    assert done.returncode == 7


def test_a_killed_command_stops_parley(tmp_path: Path) -> None:
    seen = tmp_path / "endpoint"
    script = f'echo "$AWS_ENDPOINT_URL_CONNECT" > {seen}; kill -9 $$'
    done = subprocess.run([*PARLEY, "exec", "--", "sh", "-c", script], env=clean_env(), capture_output=True, timeout=60)
    assert done.returncode == 128 + signal.SIGKILL  # as a shell reports a killed command
    assert refused(seen.read_text().strip())


def test_stopping_parley_exec_stops_the_command_then_parley(tmp_path: Path) -> None:
    port_file = tmp_path / "url"
    process = subprocess.Popen(
        [*PARLEY, "exec", "--port-file", str(port_file), "--", "sleep", "60"],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not port_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    url = port_file.read_text()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM  # the command got it, and its status is ours
    assert process.stderr is not None
    process.stderr.close()
    assert refused(url)
    assert not port_file.exists()  # a stopped server leaves no file pointing at it


def test_a_missing_command_is_127() -> None:
    done = subprocess.run(
        [*PARLEY, "exec", "--", "no-such-command-here"], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 127 and "cannot run no-such-command-here" in done.stderr


def test_exec_needs_a_command() -> None:
    done = subprocess.run([*PARLEY, "exec", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "usage: parley exec [serve flags] -- CMD" in done.stderr
