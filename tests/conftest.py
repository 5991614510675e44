"""Shared fixtures: a real `parley serve` on a free port, and boto3 clients pointed at it."""

from __future__ import annotations

import collections
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config


@dataclass
class RunningParley:
    url: str
    process: subprocess.Popen[str]
    lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=5000))
    drain: threading.Thread | None = None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.drain is not None:
            self.drain.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def _drain(stream: Any, lines: collections.deque[str]) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))


def start_parley(*args: str, env: dict[str, str] | None = None, timeout: float = 20.0) -> RunningParley:
    """Starts `python -m parley serve --port 0 ARGS` and waits for its `listening on` line."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    full_env.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("parley: listening on "):
            running = RunningParley(line.split("listening on ", 1)[1].strip(), process)
            running.lines.extend(seen_line.rstrip("\n") for seen_line in seen)  # what startup logged, too
            running.drain = threading.Thread(target=_drain, args=(process.stdout, running.lines), daemon=True)
            running.drain.start()
            return running
    process.kill()
    process.wait()
    process.stdout.close()
    raise RuntimeError("parley did not start:\n" + "".join(seen))


@pytest.fixture(scope="session")
def parley() -> Iterator[RunningParley]:
    running = start_parley("--quota-active-chats", "0")
    yield running
    running.stop()


def account_key() -> str:
    """A fresh 12-digit access key id: Parley scopes state by it, so each test gets an empty account."""
    return "".join(random.choice("0123456789") for _ in range(12))


def key_of(boto_client: Any) -> str:
    """The access key id a client signs with (its account, for Parley)."""
    return str(boto_client._request_signer._credentials.access_key)


def client(service: str, url: str, key: str | None = None, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key or account_key(),
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture
def connect(parley: RunningParley) -> Any:
    return client("connect", parley.url)


@dataclass(frozen=True)
class Setup:
    instance_id: str
    flow_id: str


def make_instance(connect: Any) -> Setup:
    instance_id = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=f"t{random.getrandbits(40):x}",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    flows = connect.list_contact_flows(InstanceId=instance_id, ContactFlowTypes=["CONTACT_FLOW"])
    # The instance's own inbound flow: it queues the chat in BasicQueue, silently (flows.md §7.1)
    inbound = next(f for f in flows["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow")
    return Setup(instance_id, inbound["Id"])


@pytest.fixture
def instance(connect: Any) -> Setup:
    return make_instance(connect)


def start_chat(connect: Any, setup: Setup, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = connect.start_chat_contact(
        InstanceId=setup.instance_id,
        ContactFlowId=setup.flow_id,
        ParticipantDetails={"DisplayName": "Customer"},
        **extra,
    )
    return result
