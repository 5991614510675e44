"""Helpers for streaming tests: moto's server in a subprocess, a webhook receiver, waiting for deliveries."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:chatStreaming"
EVENT = "application/vnd.amazonaws.connect.event."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Moto:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_moto() -> Moto:
    """`moto_server` (moto[server], a dev dependency) on a free port; waits until it answers."""
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return Moto(url, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto_server did not start")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """An HTTP endpoint in the test: records every POST; `answer()` decides the status (200 by default)."""

    answer: Callable[[Received], int] = lambda _: 200
    received: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/sns"

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
                receiver.received.append(got)
                status = receiver.answer(got)
                if 200 <= status < 300:
                    receiver.accepted.append(got)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def messages_of(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(note["Message"]) for note in notes]


def expected_attributes(item: dict[str, Any], instance_id: str, account: str = ACCOUNT) -> dict[str, str]:
    """streaming.md §3's eight attributes for a pushed item (ParticipantRole omitted without a participant)."""
    found = {
        "InitialContactId": item["InitialContactId"],
        "ContactId": item["ContactId"],
        "ParticipantRole": item.get("ParticipantRole"),
        "InstanceId": instance_id,
        "AccountId": account,
        "Type": item["Type"],
        "ContentType": item.get("ContentType"),
        "MessageVisibility": "ALL",
    }
    return {k: v for k, v in found.items() if v is not None}


def sns_attributes(note: dict[str, Any]) -> dict[str, str]:
    """`{"Name": {"Type": "String", "Value": v}}` -> `{"Name": v}`, checking every Type is String."""
    attributes = note["MessageAttributes"]
    assert {a["Type"] for a in attributes.values()} == {"String"}
    return {name: a["Value"] for name, a in attributes.items()}


def transcript_ids(cp: Any, token: str) -> list[str]:
    ids: list[str] = []
    kwargs: dict[str, Any] = {"ConnectionToken": token, "SortOrder": "ASCENDING", "MaxResults": 100}
    while True:
        page = cp.get_transcript(**kwargs)
        ids += [item["Id"] for item in page["Transcript"]]
        if not page.get("NextToken"):
            return ids
        kwargs["NextToken"] = page["NextToken"]


def iter_unique(ids: list[str]) -> Iterator[str]:
    seen: set[str] = set()
    for item_id in ids:
        if item_id not in seen:
            seen.add(item_id)
            yield item_id
