"""What the fuzz test and `bench/fuzz.py` share: the operations Parley implements, real stored things for
the strategies to aim at, a keep-alive HTTP sender, and the server-log check.

The sender signs nothing: Parley's default auth accepts any SigV4, and a fixed 12-digit access key id in
the Authorization header scopes every request to the account where the real things were made.
"""

from __future__ import annotations

import http.client
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from parley.app import build_app
from parley.protocol.spec import OperationSpec, load_operations
from parley.settings import Settings
from tests.contract.fuzz_strategies import Outcome, WireRequest

ACCOUNT = "246813579024"
AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential={ACCOUNT}/20260101/us-east-1/connect/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)
# A line a healthy server never logs, whatever it is sent.
BAD_LOG = re.compile(r"Traceback|Exception in ASGI|\bERROR\b|RecursionError|Internal", re.IGNORECASE)


def implemented_operations() -> list[OperationSpec]:
    """Every operation Parley serves (each other one answers 501 and is not fuzzed)."""
    app = build_app(Settings())
    try:
        names = {service: set(table) for service, table in app.aws._handlers.items()}
    finally:
        app.close()
    return [
        op
        for service in ("connect", "connectparticipant")
        for name, op in sorted(load_operations(service).items())
        if name in names[service]
    ]


def known_things(url: str) -> dict[str, list[Any]]:
    """Real ids and tokens in ACCOUNT, by the member names that carry them, for the strategies to use."""
    config = Config(retries={"max_attempts": 1})
    connect = boto3.client(
        "connect",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="x",
        config=config,
    )
    participant = boto3.client(
        "connectparticipant",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=config,
    )
    instance = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=f"fuzz{uuid.uuid4().hex[:20]}",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    flow = connect.list_contact_flows(InstanceId=instance["Id"])["ContactFlowSummaryList"][0]
    chats = [
        connect.start_chat_contact(
            InstanceId=instance["Id"], ContactFlowId=flow["Id"], ParticipantDetails={"DisplayName": "c"}
        )
        for _ in range(3)
    ]
    tokens = [
        participant.create_participant_connection(
            ParticipantToken=c["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        for c in chats
    ]
    contacts = [c["ContactId"] for c in chats]
    queues = connect.list_queues(InstanceId=instance["Id"])["QueueSummaryList"]
    hours = connect.list_hours_of_operations(InstanceId=instance["Id"])["HoursOfOperationSummaryList"]
    return {
        "InstanceId": [instance["Id"]],
        "ContactFlowId": [flow["Id"]],
        "ContactId": contacts,
        "InitialContactId": contacts,
        "ParticipantId": [c["ParticipantId"] for c in chats],
        "ParticipantToken": [c["ParticipantToken"] for c in chats],
        "ConnectionToken": tokens,
        "resourceArn": [instance["Arn"], flow["Arn"], *(q["Arn"] for q in queues)],
        "QueueId": [q["Id"] for q in queues],
        "HoursOfOperationId": [h["Id"] for h in hours],
        "ContentType": [
            "text/plain",
            "text/markdown",
            "application/json",
            "application/vnd.amazonaws.connect.event.typing",
            "application/vnd.amazonaws.connect.event.message.read",
        ],
    }


class Sender:
    """One keep-alive connection to Parley, reopened whenever the server closes it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self._address = (parts.hostname, parts.port)
        self._connection: http.client.HTTPConnection | None = None

    def send(self, op: OperationSpec, request: WireRequest) -> Outcome:
        for attempt in (1, 2):
            connection = self._connection or http.client.HTTPConnection(*self._address, timeout=60)
            self._connection = connection
            try:
                headers = {"authorization": AUTHORIZATION, "content-length": str(len(request.body)), **request.headers}
                headers["content-length"] = str(len(request.body))
                connection.request(request.method, request.target, body=request.body, headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.will_close:
                    self.close()
                return Outcome(op, request, response.status, {k.lower(): v for k, v in response.getheaders()}, body)
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def bad_log_lines(lines: Iterable[str]) -> list[str]:
    return [line for line in lines if BAD_LOG.search(line)]
