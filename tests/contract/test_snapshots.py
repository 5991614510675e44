"""State snapshots: `parley export` / `parley import`, `POST /_parley/state/import`, `--import` and `--init`,
against real servers with boto3, the AWS CLI in an init script, and plain HTTP for the downloads."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningParley, client, start_parley
from tests.contract.admin_helpers import admin, ok
from tests.contract.chat_helpers import Chat, join, new_chat, participant_client
from tests.contract.test_attachments_views_auth import PDF, attach, http

PARLEY = [sys.executable, "-m", "parley"]


@pytest.fixture
def server() -> Iterator[RunningParley]:
    running = start_parley()
    yield running
    running.stop()


def cli(url: str, *words: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PARLEY, *words, "--endpoint-url", url],
        input=None if stdin is None else stdin.decode(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def raw_state(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/_parley/state", timeout=30) as response:
        return bytes(response.read())


def chat_with_history(server: RunningParley) -> tuple[Chat, str]:
    chat = new_chat(server)
    chat.cp.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain", Content="hello")
    return chat, attach(chat)


def transcript_contents(cp: Any, connection_token: str) -> list[str]:
    items = cp.get_transcript(ConnectionToken=connection_token, SortOrder="ASCENDING")["Transcript"]
    return [item.get("Content") or item["Type"] for item in items if item["Type"] in ("MESSAGE", "ATTACHMENT")]


def download(cp: Any, attachment_id: str, connection_token: str) -> bytes:
    got = cp.get_attachment(AttachmentId=attachment_id, ConnectionToken=connection_token)
    status, _, body = http("GET", got["Url"])
    assert status == 200
    return bytes(body)


def test_export_reset_import_gives_the_same_state_transcript_and_attachments(
    server: RunningParley, tmp_path: Path
) -> None:
    chat, attachment_id = chat_with_history(server)
    before = raw_state(server.url)
    snapshot = tmp_path / "state.json"
    exported = cli(server.url, "export", str(snapshot))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(snapshot.read_text())
    assert (document["format"], document["version"]) == ("parley-state", 1)
    tables = document["tables"]
    assert {"instances", "flows", "contacts", "participants", "items", "attachments"} <= set(tables)
    assert "idempotency" not in tables and "meta" not in tables  # ClientToken answers hold tokens; meta the secret
    assert chat.started["ParticipantToken"] not in snapshot.read_text()  # no token is ever exported
    assert [row["data"] for row in tables["attachments"]] == [{"base64": base64.b64encode(PDF).decode()}]

    ok(server.url, "POST", "reset")
    assert raw_state(server.url) != before
    imported = cli(server.url, "import", str(snapshot))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"]["attachments"] == 1

    assert raw_state(server.url) == before  # byte-identical
    token = chat.customer.connection_token  # same server, same secret: the participant's tokens resolve again
    assert transcript_contents(chat.cp, token) == ["hello", "ATTACHMENT"]
    assert download(chat.cp, attachment_id, token) == PDF


def test_a_snapshot_moves_a_chat_to_another_server(server: RunningParley) -> None:
    """A bug shared as a file: the other server has another secret, so an agent joins to read it."""
    chat, attachment_id = chat_with_history(server)
    status, document = admin(server.url, "GET", "state/export")
    assert status == 200
    other = start_parley()
    try:
        assert ok(other.url, "POST", "state/import", document)["imported"]["contacts"] == 1
        agent = ok(other.url, "POST", f"contacts/{chat.contact_id}/agent", {"action": "join"})
        cp = participant_client(other.url)
        party = join(cp, agent["ParticipantToken"], agent["ParticipantId"], websocket=False)
        assert transcript_contents(cp, party.connection_token)[:2] == ["hello", "ATTACHMENT"]
        assert download(cp, attachment_id, party.connection_token) == PDF
        assert [c["id"] for c in ok(other.url, "GET", "state")["contacts"]] == [chat.contact_id]
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "the snapshot is not JSON"),
        (b'{"format":"parley-state","version":2,"tables":{}}', "snapshot version 2 is not supported"),
        (b'{"version":1,"tables":{}}', "not a Parley state snapshot"),
        (b'{"format":"parley-state","version":1,"tables":{"nope":[]}}', "unknown table 'nope'"),
        (b'{"format":"parley-state","version":1,"tables":{"instances":[{"bogus":1}]}}', "no column 'bogus'"),
        (
            b'{"format":"parley-state","version":1,"tables":{"instances":[{"account":"1","region":"r","id":"i",'
            b'"doc":{"id":"i"}}]}}',
            "a record does not decode",
        ),
        (
            b'{"format":"parley-state","version":1,"tables":{"attachments":[{"data":{"base64":"%%%"}}]}}',
            "not valid base64",
        ),
    ],
)
def test_a_bad_snapshot_is_refused_and_changes_nothing(server: RunningParley, raw: bytes, message: str) -> None:
    chat_with_history(server)
    before = raw_state(server.url)
    status, answer = admin(server.url, "POST", "state/import", raw=raw)
    assert status == 400 and answer["error"] == "InvalidSnapshot" and message in answer["message"], answer
    refused = cli(server.url, "import", "-", stdin=raw)
    assert refused.returncode == 1 and message in refused.stderr
    assert raw_state(server.url) == before


def test_a_failing_row_rolls_back_the_rows_before_it(server: RunningParley) -> None:
    """One unit of work: the good instance before the broken row is not kept either."""
    new_chat(server)
    status, document = admin(server.url, "GET", "state/export")
    ok(server.url, "POST", "reset")
    document["tables"]["contacts"].append({"account": "1", "region": "r"})  # NOT NULL columns missing
    status, answer = admin(server.url, "POST", "state/import", document)
    assert status == 400 and "cannot be stored" in answer["message"], answer
    assert ok(server.url, "GET", "state") == {"instances": [], "contacts": []}


def test_replace_makes_the_snapshot_the_whole_state(server: RunningParley) -> None:
    new_chat(server)
    status, document = admin(server.url, "GET", "state/export")
    ok(server.url, "POST", "reset")
    later = new_chat(server)
    status, answer = admin(server.url, "POST", "state/import?replace=true", document)
    assert status == 200 and answer["replaced"] is True
    contacts = [contact["id"] for contact in ok(server.url, "GET", "state")["contacts"]]
    assert later.contact_id not in contacts and len(contacts) == 1


def test_import_at_start(server: RunningParley, tmp_path: Path) -> None:
    chat, _ = chat_with_history(server)
    snapshot = tmp_path / "state.json"
    assert cli(server.url, "export", str(snapshot)).returncode == 0
    started = start_parley("--import", str(snapshot))
    try:
        wait_ready(started.url)  # the import runs once the server listens, before it reports ready
        contacts = ok(started.url, "GET", "state")["contacts"]
        assert [c["id"] for c in contacts] == [chat.contact_id]
    finally:
        started.stop()


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while admin(url, "GET", "ready") != (200, {"ready": True}):
        assert time.monotonic() < deadline, "the server never reported ready"
        time.sleep(0.05)


def run_serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`parley serve` expected to stop by itself (a start-up failure)."""
    return subprocess.run([*PARLEY, "serve", "--port", "0", *args], capture_output=True, text=True, timeout=timeout)


def test_import_at_start_refuses_a_future_snapshot(tmp_path: Path) -> None:
    future = tmp_path / "future.json"
    future.write_text('{"format":"parley-state","version":99,"tables":{}}')
    done = run_serve("--import", str(future))
    assert done.returncode == 1
    assert f"--import {future}: snapshot version 99 is not supported" in done.stderr


INIT_SCRIPT = """\
set -e
content='{"Version":"2019-10-30","StartAction":"end",'
content="$content"'"Actions":[{"Identifier":"end","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}'
iid=$(aws connect create-instance --identity-management-type CONNECT_MANAGED --instance-alias scripted \\
      --inbound-calls-enabled --outbound-calls-enabled --query Id --output text)
for name in Welcome Goodbye; do
  aws connect create-contact-flow --instance-id "$iid" --name "$name" --type CONTACT_FLOW \\
      --content "$content" \\
      --output text --query ContactFlowId
done
"""


def test_init_applies_snapshots_and_scripts_in_name_order(server: RunningParley, tmp_path: Path) -> None:
    chat, _ = chat_with_history(server)
    init = tmp_path / "init"
    init.mkdir()
    assert cli(server.url, "export", str(init / "10-state.json")).returncode == 0
    (init / "20-flows.sh").write_text(INIT_SCRIPT)
    (init / "30-check.py").write_text(
        "import os, boto3\n"
        "aliases = [i['InstanceAlias'] for i in boto3.client('connect').list_instances()['InstanceSummaryList']]\n"
        "assert 'scripted' in aliases, aliases\n"
        "assert os.environ['AWS_ENDPOINT_URL_CONNECTPARTICIPANT'] == os.environ['PARLEY_ENDPOINT_URL']\n"
    )
    (init / "notes.txt").write_text("ignored")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    started = start_parley("--init", str(init), "--quota-instances", "0", env=env, timeout=60)
    try:
        wait = subprocess.run([*PARLEY, "wait", "--endpoint-url", started.url, "--timeout", "60"], timeout=90)
        assert wait.returncode == 0
        state = ok(started.url, "GET", "state")
        assert chat.contact_id in [c["id"] for c in state["contacts"]]
        scripted = [i for i in state["instances"] if i["alias"] == "scripted"]
        assert len(scripted) == 1
        assert {"Welcome", "Goodbye"} <= {flow["name"] for flow in scripted[0]["flows"]}
        connect = client("connect", started.url, key="123456789012")
        assert "scripted" in [i.get("InstanceAlias") for i in connect.list_instances()["InstanceSummaryList"]]
    finally:
        started.stop()
    log = "\n".join(started.lines)
    assert "10-state.json" in log and "20-flows.sh" in log and "30-check.py" in log


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("01-broken.json", "{", "the snapshot is not JSON"),
        ("01-fails.sh", "echo about to fail >&2; exit 3", "the script failed (exit status 3)"),
        ("01-fails.py", "raise SystemExit(4)", "the script failed (exit status 4)"),
    ],
)
def test_a_bad_init_file_stops_start_up_naming_it(tmp_path: Path, name: str, content: str, problem: str) -> None:
    (tmp_path / name).write_text(content)
    (tmp_path / "02-never.sh").write_text("touch ran")
    done = run_serve("--init", str(tmp_path))
    assert done.returncode == 1
    assert f"--init {tmp_path / name}: {problem}" in done.stderr
    assert not (tmp_path / "ran").exists()


def test_init_needs_a_directory(tmp_path: Path) -> None:
    done = run_serve("--init", str(tmp_path / "missing"))
    assert done.returncode == 1 and "no such directory" in done.stderr


def test_the_in_process_server_imports_and_inits_too(server: RunningParley, tmp_path: Path) -> None:
    from parley.testing import ParleyServer, ParleyServerError

    chat, _ = chat_with_history(server)
    snapshot = tmp_path / "state.json"
    assert cli(server.url, "export", str(snapshot)).returncode == 0
    (tmp_path / "init").mkdir()
    (tmp_path / "init" / "check.py").write_text(
        "import os\nassert os.environ['AWS_ENDPOINT_URL_CONNECT'].startswith('http://127.0.0.1:')\n"
    )
    with ParleyServer(import_file=str(snapshot), init_dir=str(tmp_path / "init")) as started:
        contacts = started.admin.request("GET", "/_parley/state")[1]["contacts"]
        assert [c["id"] for c in contacts] == [chat.contact_id]
    (tmp_path / "init" / "check.py").write_text("raise SystemExit(5)")
    failing = ParleyServer(init_dir=str(tmp_path / "init"))
    with pytest.raises(ParleyServerError, match="the script failed"):
        failing.start()
