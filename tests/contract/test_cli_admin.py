"""The admin subcommands (`parley state`, `parley faults add`, …) as a user runs them: subprocesses
against a running server, JSON on stdout, a clear message and exit status 1 when there is no answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningParley, client, key_of, make_instance, start_chat, start_parley
from tests.contract.chat_helpers import new_chat

DEAD_ENDPOINT = "http://127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture(scope="module")
def server() -> Iterator[RunningParley]:
    running = start_parley()
    yield running
    running.stop()


def parley(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "parley", *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def answer(server: RunningParley, *args: str) -> Any:
    done = parley(*args, "--endpoint-url", server.url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_state_requests_and_reset(server: RunningParley) -> None:
    connect = client("connect", server.url)
    setup = make_instance(connect)
    contact_id = start_chat(connect, setup)["ContactId"]
    account = key_of(connect)

    state = answer(server, "state", "--account", account)
    assert [i["id"] for i in state["instances"]] == [setup.instance_id]
    assert [c["id"] for c in answer(server, "state", "--contact", contact_id)["contacts"]] == [contact_id]
    [started] = answer(server, "requests", "--operation", "StartChatContact", "--contact", contact_id)["requests"]
    assert started["status"] == 200
    assert len(answer(server, "requests", "--limit", "1")["requests"]) == 1

    removed = answer(server, "reset", "--account", account, "--region", "us-east-1")["removed"]
    assert removed["instances"] == 1 and removed["contacts"] == 1
    assert answer(server, "state", "--account", account) == {"instances": [], "contacts": []}
    assert answer(server, "requests", "--clear")["cleared"] >= 1


def test_faults_add_list_clear(server: RunningParley) -> None:
    connect = client("connect", server.url)
    rule = answer(
        server, "faults", "add", "--service", "connect", "--operation", "ListInstances",
        "--error", "ThrottlingException", "--times", "2",
    )  # fmt: skip
    assert rule["error"]["status"] == 429 and rule["remaining"] == 2
    with pytest.raises(ClientError) as excinfo:
        connect.list_instances()  # the test client retries once: both throttled
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"
    [listed] = answer(server, "faults", "list")["faults"]
    assert (listed["id"], listed["remaining"], listed["fired"]) == (rule["id"], 0, 2)
    assert answer(server, "faults", "clear", rule["id"]) == {"removed": 1}

    answer(server, "faults", "add", "--operation", "DescribeInstance", "--latency-ms", "5")
    chat = new_chat(server)
    dropped = answer(server, "faults", "add", "--ws-drop", "--contact", chat.contact_id)
    assert dropped["ws"] == "drop" and dropped["dropped"] == 0
    answer(server, "faults", "add", "--ws-drop", "--contact", chat.contact_id, "--after-frames", "3")
    assert len(answer(server, "faults", "list")["faults"]) == 2
    assert answer(server, "faults", "clear") == {"removed": 2}


def test_agent_supervisor_and_sockets(server: RunningParley) -> None:
    chat = new_chat(server)
    agent = answer(server, "agent", "join", chat.contact_id, "--display-name", "Ann")
    assert agent["ParticipantId"] and agent["ParticipantToken"]
    supervisor = answer(server, "supervisor", "join", chat.contact_id)
    assert answer(server, "supervisor", "leave", chat.contact_id, supervisor["ParticipantId"]) == {}
    assert answer(server, "agent", "leave", chat.contact_id, agent["ParticipantId"]) == {}
    assert answer(server, "sockets", "drop", chat.contact_id) == {"dropped": 0}
    [contact] = answer(server, "state", "--contact", chat.contact_id)["contacts"]
    left = {p["role"]: p["leftAt"] is not None for p in contact["participants"]}
    assert left == {"CUSTOMER": False, "AGENT": True, "SUPERVISOR": True}
    assert answer(server, "health")["status"] == "ok"


def test_the_endpoint_comes_from_the_flag_then_the_environment(server: RunningParley) -> None:
    from_env = parley("health", env={"PARLEY_ENDPOINT_URL": server.url})
    assert from_env.returncode == 0 and json.loads(from_env.stdout)["status"] == "ok"
    flag_wins = parley("health", "--endpoint-url", server.url, env={"PARLEY_ENDPOINT_URL": DEAD_ENDPOINT})
    assert flag_wins.returncode == 0, flag_wins.stderr


def test_an_unreachable_server_is_a_clear_error() -> None:
    done = parley("state", "--endpoint-url", DEAD_ENDPOINT)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"parley: cannot reach Parley at {DEAD_ENDPOINT}: ")
    assert "Traceback" not in done.stderr


def test_an_error_answer_is_a_clear_error(server: RunningParley) -> None:
    done = parley("faults", "add", "--error", "NoSuchError", "--endpoint-url", server.url)
    assert done.returncode == 1 and done.stdout == ""
    assert "POST /_parley/faults answered HTTP 400 InvalidRequest: NoSuchError" in done.stderr
    done = parley("agent", "join", "no-such-contact", "--endpoint-url", server.url)
    assert done.returncode == 1 and "HTTP 404 NotFound: No contact no-such-contact" in done.stderr
    done = parley("health", "--endpoint-url", "ftp://example")
    assert done.returncode == 1 and "--endpoint-url: expected an http:// or https:// URL" in done.stderr


def test_parley_alone_still_serves() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "--port", "0"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("parley: listening on http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_clock_and_events() -> None:
    server = start_parley("--clock", "virtual", "--clock-start", "2030-01-01T00:00:00Z", "--seed", "3")
    try:
        assert answer(server, "clock") == {"now": "2030-01-01T00:00:00.000Z", "virtual": True}
        moved = answer(server, "clock", "--advance", "PT90S")
        assert moved["now"] == "2030-01-01T00:01:30.000Z" and moved["fired"] == 0
        assert answer(server, "clock", "--set", "2030-01-02T00:00:00Z")["now"] == "2030-01-02T00:00:00.000Z"
        backwards = parley("clock", "--set", "2030-01-01T00:00:00Z", "--endpoint-url", server.url)
        assert backwards.returncode == 1 and "backwards" in backwards.stderr
        chat = new_chat(server)
        injected = answer(server, "events", chat.contact_id, "transfer.succeeded", "--content", "queue=billing")
        assert len(injected["Ids"]) == 1
        items = chat.cp.get_transcript(ConnectionToken=chat.customer.connection_token)["Transcript"]
        assert injected["Ids"][0] in {i["Id"] for i in items}
        assert answer(server, "reset", "--seed", "3")["seed"] == 3
    finally:
        server.stop()
