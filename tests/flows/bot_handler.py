"""The custom-bot pattern's first Lambda function, as deployed code writes it (AWS's chat-customize-flow
recipe): clients built at import time from the environment, `handler(event, context)` adds a CUSTOM_BOT to
the contact, connects it within the 15 s window and greets the customer, then answers a STRING_MAP.

The test reads the bot's ConnectionToken from BOT_TOKEN_DIR (a test-only side channel: in AWS the second
function would act on streamed messages instead)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3

connect = boto3.client("connect")
participant = boto3.client("connectparticipant")


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    data = event["Details"]["ContactData"]
    instance_id = data["InstanceARN"].rsplit("/", 1)[1]
    contact_id = data["ContactId"]
    created = connect.create_participant(
        InstanceId=instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": event["Details"]["Parameters"]["botName"]},
    )
    connection = participant.create_participant_connection(
        ParticipantToken=created["ParticipantCredentials"]["ParticipantToken"],
        Type=["CONNECTION_CREDENTIALS"],
        ConnectParticipant=True,
    )
    token = connection["ConnectionCredentials"]["ConnectionToken"]
    participant.send_message(ConnectionToken=token, ContentType="text/plain", Content="Hello from the bot")
    folder = os.environ.get("BOT_TOKEN_DIR")
    if folder:
        record = {
            "participantId": created["ParticipantId"],
            "connectionToken": token,
            "requestId": context.aws_request_id,
        }
        Path(folder, f"{contact_id}.json").write_text(json.dumps(record))
    return {"status": "success", "botParticipantId": created["ParticipantId"]}


def failing(event: dict[str, Any], context: Any) -> dict[str, str]:
    raise RuntimeError("the bot could not start")
