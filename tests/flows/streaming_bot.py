"""The two Lambda functions of AWS's custom-bot sample, as deployed code writes them: `start_bot` (the flow's
InvokeLambdaFunction) adds a CUSTOM_BOT, starts message streaming to the topic and greets; `chat_bot`, the
topic's subscriber, answers each customer message it hears (typing, then a message) and leaves on "quit".
The bot's ConnectionToken is kept per chat in this module (AWS's sample keeps it in DynamoDB)."""

from __future__ import annotations

import json
from typing import Any

import boto3

connect = boto3.client("connect")
participant = boto3.client("connectparticipant")
TOPIC = "arn:aws:sns:us-east-1:210987654321:chatStreaming"
TYPING = "application/vnd.amazonaws.connect.event.typing"
TOKENS: dict[str, str] = {}


def start_bot(event: dict[str, Any], context: Any) -> dict[str, str]:
    data = event["Details"]["ContactData"]
    instance_id, contact_id = data["InstanceARN"].rsplit("/", 1)[1], data["ContactId"]
    created = connect.create_participant(
        InstanceId=instance_id,
        ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": event["Details"]["Parameters"]["botName"]},
    )
    connect.start_contact_streaming(
        InstanceId=instance_id, ContactId=contact_id, ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC}
    )
    token = participant.create_participant_connection(
        ParticipantToken=created["ParticipantCredentials"]["ParticipantToken"],
        Type=["CONNECTION_CREDENTIALS"],
        ConnectParticipant=True,
    )["ConnectionCredentials"]["ConnectionToken"]
    TOKENS[data["InitialContactId"]] = token
    participant.send_message(ConnectionToken=token, ContentType="text/plain", Content="Hello from the bot")
    return {"status": "success"}


def chat_bot(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        token = TOKENS[message["InitialContactId"]]
        participant.send_event(ConnectionToken=token, ContentType=TYPING)
        if message["Content"].strip().lower() == "quit":
            participant.send_message(ConnectionToken=token, ContentType="text/plain", Content="Bye")
            participant.disconnect_participant(ConnectionToken=token)
        else:
            participant.send_message(
                ConnectionToken=token, ContentType="text/plain", Content=f"Heard: {message['Content']}"
            )
