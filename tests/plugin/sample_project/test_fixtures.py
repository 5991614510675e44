"""A user's tests, using only the fixtures and marker the installed Parley plugin provides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

INSTANCE: dict[str, Any] = {
    "IdentityManagementType": "CONNECT_MANAGED",
    "InboundCallsEnabled": True,
    "OutboundCallsEnabled": True,
}


def test_the_session_server_answers_at_its_endpoint(parley_server: Any, parley_endpoint: str) -> None:
    assert parley_endpoint == parley_server.endpoint_url
    assert parley_server.admin.request("GET", "/_parley/health")[0] == 200


def test_connect_client_talks_to_parley(connect_client: Any, parley_endpoint: str) -> None:
    assert connect_client.meta.endpoint_url == parley_endpoint
    instance_id = connect_client.create_instance(InstanceAlias="sample", **INSTANCE)["Id"]
    assert connect_client.describe_instance(InstanceId=instance_id)["Instance"]["InstanceStatus"] == "ACTIVE"


def test_participant_client_is_unsigned_and_talks_to_parley(participant_client: Any, parley_endpoint: str) -> None:
    assert participant_client.meta.endpoint_url == parley_endpoint
    with pytest.raises(ClientError) as refused:
        participant_client.send_message(ConnectionToken="not-a-token", ContentType="text/plain", Content="hi")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_parley_env_points_plain_sdk_clients_at_parley(parley_env: dict[str, str], parley_endpoint: str) -> None:
    assert os.environ["AWS_ENDPOINT_URL_CONNECT"] == parley_endpoint
    assert os.environ["AWS_ENDPOINT_URL_CONNECTPARTICIPANT"] == parley_endpoint
    assert parley_env["AWS_ACCESS_KEY_ID"] == os.environ["AWS_ACCESS_KEY_ID"] == "test"
    client = boto3.client("connect")  # no endpoint, credentials or region given
    assert client.meta.endpoint_url == parley_endpoint
    assert isinstance(client.list_instances()["InstanceSummaryList"], list)


def test_parley_env_is_restored_after_the_test() -> None:
    assert "AWS_ENDPOINT_URL_CONNECT" not in os.environ
    assert os.environ.get("AWS_ACCESS_KEY_ID") != "test"


@pytest.mark.parley(settings={"quota_instances": 1}, region="eu-west-1")
def test_the_marker_gives_a_test_its_own_server(parley: Any, parley_server: Any, connect_client: Any) -> None:
    assert parley is not parley_server
    assert connect_client.meta.endpoint_url == parley.endpoint_url
    assert connect_client.meta.region_name == "eu-west-1"
    connect_client.create_instance(InstanceAlias="first", **INSTANCE)
    with pytest.raises(ClientError):
        connect_client.create_instance(InstanceAlias="second", **INSTANCE)


@pytest.mark.parametrize("n", range(6))
def test_one_server_per_worker(n: int, parley_endpoint: str) -> None:
    """Writes WORKER.txt lines (endpoint, pid) where the outer test asked, to compare across xdist workers."""
    record = os.environ.get("SAMPLE_RECORD_DIR")
    if record:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with (Path(record) / f"{worker}.txt").open("a") as lines:
            lines.write(f"{parley_endpoint} {os.getpid()}\n")
