"""The AWS CLI (v1, `.venv/bin/aws`) against a running Parley: real subprocesses, real sockets, no mocks.

Each test gets a fresh 12-digit access key id (a fresh, empty Parley account) and an environment with
no profile and no config files, so nothing on the machine can change what the CLI sends.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningParley, account_key

AWS = Path(sys.executable).with_name("aws")
# AWS CLI v1 exits 255 for any error raised by the service (botocore ClientError); v2 would use 254.
# Verified against awscli 1.46.3: `aws connect describe-contact` on an unknown contact -> 255.
SERVICE_ERROR_EXIT = 255
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, f"exit {self.code}: {self.stderr}"
        return json.loads(self.stdout)


@dataclass
class Cli:
    url: str
    key: str
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PARLEY_"))}
        env.update(
            HOME=str(self.home),
            AWS_ACCESS_KEY_ID=self.key,
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=str(self.home / "absent" / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.home / "absent" / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
        )
        env.update(extra)
        return env

    def run(self, *args: str, endpoint: bool = True, **env: str) -> Result:
        command = [str(AWS), "connect", *args, "--region", "us-east-1", "--output", "json"]
        if endpoint:
            command += ["--endpoint-url", self.url]
        done = subprocess.run(command, env=self.env(**env), capture_output=True, text=True, timeout=60, check=False)
        return Result(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str) -> Any:
        return self.run(*args).json()

    def make_instance(self) -> tuple[str, str]:
        created = self.ok(
            "create-instance",
            "--identity-management-type",
            "CONNECT_MANAGED",
            "--instance-alias",
            f"cli-{self.key}",
            "--inbound-calls-enabled",
            "--outbound-calls-enabled",
        )
        flows = self.ok("list-contact-flows", "--instance-id", created["Id"], "--contact-flow-types", "CONTACT_FLOW")
        inbound = next(f for f in flows["ContactFlowSummaryList"] if f["Name"] == "Default inbound flow")
        return created["Id"], inbound["Id"]

    def start_chat(self, instance_id: str, flow_id: str) -> Any:
        return self.ok(
            "start-chat-contact",
            "--instance-id",
            instance_id,
            "--contact-flow-id",
            flow_id,
            "--participant-details",
            "DisplayName=Customer",
        )

    def create_participant(self, instance_id: str, contact_id: str, details: str) -> Result:
        return self.run(
            "create-participant",
            "--instance-id",
            instance_id,
            "--contact-id",
            contact_id,
            "--participant-details",
            details,
        )


@pytest.fixture
def cli(parley: RunningParley, tmp_path: Path) -> Cli:
    assert AWS.exists(), f"the AWS CLI is not installed at {AWS}"
    return Cli(parley.url, account_key(), tmp_path)


def assert_service_error(result: Result, code: str, operation: str, *fragments: str) -> None:
    assert result.code == SERVICE_ERROR_EXIT, (result.code, result.stderr)
    assert result.stdout == ""
    assert f"An error occurred ({code}) when calling the {operation} operation" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert "Traceback" not in result.stderr


def test_chat_lifecycle_through_the_cli(cli: Cli) -> None:
    created = cli.ok(
        "create-instance",
        "--identity-management-type",
        "CONNECT_MANAGED",
        "--instance-alias",
        f"cli-{cli.key}",
        "--inbound-calls-enabled",
        "--outbound-calls-enabled",
    )
    instance_id = created["Id"]
    assert created["Arn"] == f"arn:aws:connect:us-east-1:{cli.key}:instance/{instance_id}"

    flows = cli.ok("list-contact-flows", "--instance-id", instance_id)["ContactFlowSummaryList"]
    assert flows, "a new instance has its default flows"
    flow = next(f for f in flows if f["Name"] == "Default inbound flow")
    assert flow["Arn"].startswith(f"arn:aws:connect:us-east-1:{cli.key}:instance/{instance_id}/contact-flow/")

    chat = cli.start_chat(instance_id, flow["Id"])
    assert set(chat) >= {"ContactId", "ParticipantId", "ParticipantToken"}
    contact_id = chat["ContactId"]

    before = datetime.now(UTC)
    bot = cli.create_participant(instance_id, contact_id, "ParticipantRole=CUSTOM_BOT,DisplayName=Bot").json()
    assert set(bot) == {"ParticipantId", "ParticipantCredentials"}
    assert bot["ParticipantId"] and bot["ParticipantId"] != chat["ParticipantId"]
    credentials = bot["ParticipantCredentials"]
    assert isinstance(credentials["ParticipantToken"], str) and credentials["ParticipantToken"]
    assert credentials["ParticipantToken"] != chat["ParticipantToken"]
    expiry = credentials["Expiry"]
    assert isinstance(expiry, str) and ISO_MS.match(expiry), expiry
    assert datetime.fromisoformat(expiry.replace("Z", "+00:00")) > before

    described = cli.ok("describe-contact", "--instance-id", instance_id, "--contact-id", contact_id)["Contact"]
    assert described["Id"] == contact_id
    assert described["Arn"] == f"arn:aws:connect:us-east-1:{cli.key}:instance/{instance_id}/contact/{contact_id}"
    assert described["Channel"] == "CHAT"
    assert described["InitiationMethod"] == "API"
    assert isinstance(described["InitiationTimestamp"], int | float)  # CLI v1 prints epoch seconds as sent
    assert "DisconnectTimestamp" not in described

    stopped = cli.run("stop-contact", "--instance-id", instance_id, "--contact-id", contact_id)
    assert stopped.code == 0, stopped.stderr
    assert stopped.stdout.strip() in ("", "{}")

    ended = cli.ok("describe-contact", "--instance-id", instance_id, "--contact-id", contact_id)["Contact"]
    assert ended["Id"] == contact_id
    assert ended["DisconnectTimestamp"] >= ended["InitiationTimestamp"]

    refused = cli.create_participant(instance_id, contact_id, "ParticipantRole=CUSTOM_BOT,DisplayName=Bot")
    assert_service_error(refused, "ConflictException", "CreateParticipant", contact_id)


def test_display_name_of_257_characters_is_refused_and_256_accepted(cli: Cli) -> None:
    instance_id, flow_id = cli.make_instance()
    contact_id = cli.start_chat(instance_id, flow_id)["ContactId"]

    refused = cli.create_participant(instance_id, contact_id, f"ParticipantRole=CUSTOM_BOT,DisplayName={'b' * 257}")
    assert_service_error(
        refused,
        "InvalidRequestException",
        "CreateParticipant",
        "participantDetails.displayName",
        "length less than or equal to 256",
    )
    assert "b" * 100 not in refused.stderr, "the message quotes a short excerpt, not the whole value"

    accepted = cli.create_participant(instance_id, contact_id, f"ParticipantRole=CUSTOM_BOT,DisplayName={'b' * 256}")
    assert accepted.json()["ParticipantCredentials"]["ParticipantToken"]


def test_unknown_participant_role_is_refused_by_the_server(cli: Cli) -> None:
    instance_id, flow_id = cli.make_instance()
    contact_id = cli.start_chat(instance_id, flow_id)["ContactId"]

    refused = cli.create_participant(instance_id, contact_id, "ParticipantRole=ROBOT,DisplayName=Bot")
    assert_service_error(
        refused,
        "InvalidRequestException",
        "CreateParticipant",
        "'ROBOT'",
        "participantDetails.participantRole",
        "enum value set",
        "CUSTOM_BOT",
    )

    # Nothing was added: the one allowed custom bot can still join.
    assert cli.create_participant(instance_id, contact_id, "ParticipantRole=CUSTOM_BOT,DisplayName=Bot").code == 0


def test_unknown_contact_is_a_resource_not_found(cli: Cli) -> None:
    instance_id, _ = cli.make_instance()
    missing = "00000000-0000-4000-8000-000000000000"
    result = cli.run("describe-contact", "--instance-id", instance_id, "--contact-id", missing)
    assert_service_error(result, "ResourceNotFoundException", "DescribeContact", missing)


def test_endpoint_from_aws_endpoint_url_connect(cli: Cli) -> None:
    alias = f"env-{cli.key}"
    created = cli.run(
        "create-instance",
        "--identity-management-type",
        "CONNECT_MANAGED",
        "--instance-alias",
        alias,
        "--inbound-calls-enabled",
        "--outbound-calls-enabled",
        endpoint=False,
        AWS_ENDPOINT_URL_CONNECT=cli.url,
    ).json()
    assert created["Arn"] == f"arn:aws:connect:us-east-1:{cli.key}:instance/{created['Id']}"

    # The same instance is visible through --endpoint-url: both reached this Parley.
    described = cli.ok("describe-instance", "--instance-id", created["Id"])["Instance"]
    assert described["InstanceAlias"] == alias

    again = cli.run(
        "describe-instance", "--instance-id", created["Id"], endpoint=False, AWS_ENDPOINT_URL_CONNECT=cli.url
    )
    assert again.json()["Instance"]["Id"] == created["Id"]

    # Errors come back through the variable too.
    missing = cli.run(
        "describe-instance",
        "--instance-id",
        "00000000-0000-4000-8000-000000000000",
        endpoint=False,
        AWS_ENDPOINT_URL_CONNECT=cli.url,
    )
    assert_service_error(missing, "ResourceNotFoundException", "DescribeInstance")


def test_queues_and_lambda_functions_through_the_cli(cli: Cli) -> None:
    instance_id, _ = cli.make_instance()
    [hours] = cli.ok("list-hours-of-operations", "--instance-id", instance_id)["HoursOfOperationSummaryList"]
    assert hours["Name"] == "Basic Hours"
    created = cli.ok(
        "create-queue", "--instance-id", instance_id, "--name", "Billing", "--hours-of-operation-id", hours["Id"],
        "--max-contacts", "10",
    )  # fmt: skip
    queue = cli.ok("describe-queue", "--instance-id", instance_id, "--queue-id", created["QueueId"])["Queue"]
    assert queue["QueueArn"] == created["QueueArn"] and queue["MaxContacts"] == 10
    assert isinstance(queue["LastModifiedTime"], float)  # CLI v1 prints timestamps as it reads them: epoch seconds
    listed = cli.ok("list-queues", "--instance-id", instance_id, "--queue-types", "STANDARD", "--page-size", "1")
    assert sorted(q["Name"] for q in listed["QueueSummaryList"]) == ["BasicQueue", "Billing"]  # the CLI pages

    arn = "arn:aws:lambda:us-east-1:123456789012:function:startBot"
    assert cli.run("associate-lambda-function", "--instance-id", instance_id, "--function-arn", arn).code == 0
    again = cli.run("associate-lambda-function", "--instance-id", instance_id, "--function-arn", arn)
    assert_service_error(again, "ResourceConflictException", "AssociateLambdaFunction", arn)
    assert cli.ok("list-lambda-functions", "--instance-id", instance_id)["LambdaFunctions"] == [arn]
    assert cli.run("disassociate-lambda-function", "--instance-id", instance_id, "--function-arn", arn).code == 0
    assert cli.ok("list-lambda-functions", "--instance-id", instance_id)["LambdaFunctions"] == []
