"""Flow documents the flow tests publish, in the form the AWS console exports them (numbers as strings,
`TimeLimitSeconds`, empty members omitted)."""

from __future__ import annotations

import json
from typing import Any


def custom_bot_flow(queue_arn: str, function: str = "startBot") -> str:
    """greeting → InvokeLambdaFunction → Compare $.External.status → Wait (BotParticipantDisconnected) →
    Set working queue → Transfer to queue; every error ends in Disconnect."""
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
    to_end = [{"NextAction": "bye", "ErrorType": "NoMatchingError"}]
    actions: list[dict[str, Any]] = [
        {
            "Identifier": "greet",
            "Type": "MessageParticipant",
            "Parameters": {"Text": "Welcome $.Attributes.customerName, connecting you to our assistant."},
            "Transitions": {"NextAction": "startBot", "Errors": to_end},
        },
        {
            "Identifier": "startBot",
            "Type": "InvokeLambdaFunction",
            "Parameters": {
                "LambdaFunctionARN": arn,
                "InvocationTimeLimitSeconds": "8",
                "LambdaInvocationAttributes": {"botName": "HelperBot"},
                "ResponseValidation": {"ResponseType": "STRING_MAP"},
            },
            "Transitions": {"NextAction": "checkBot", "Errors": to_end},
        },
        {
            "Identifier": "checkBot",
            "Type": "Compare",
            "Parameters": {"ComparisonValue": "$.External.status"},
            "Transitions": {
                "NextAction": "bye",
                "Conditions": [
                    {"NextAction": "waitForBot", "Condition": {"Operator": "Equals", "Operands": ["success"]}}
                ],
                "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingCondition"}],
            },
        },
        {
            "Identifier": "waitForBot",
            "Type": "Wait",
            "Parameters": {"TimeLimitSeconds": "900", "Events": ["BotParticipantDisconnected"]},
            "Transitions": {
                "NextAction": "bye",
                "Conditions": [
                    {
                        "NextAction": "setQueue",
                        "Condition": {"Operator": "Equals", "Operands": ["BotParticipantDisconnected"]},
                    },
                    {"NextAction": "bye", "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}},
                ],
                "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingError"}],
            },
        },
        {
            "Identifier": "setQueue",
            "Type": "UpdateContactTargetQueue",
            "Parameters": {"QueueId": queue_arn},
            "Transitions": {"NextAction": "toQueue", "Errors": to_end},
        },
        {
            "Identifier": "toQueue",
            "Type": "TransferContactToQueue",
            "Transitions": {
                "NextAction": "bye",
                "Errors": [
                    {"NextAction": "bye", "ErrorType": "QueueAtCapacity"},
                    {"NextAction": "bye", "ErrorType": "NoMatchingError"},
                ],
            },
        },
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
    ]
    document = {
        "Version": "2019-10-30",
        "StartAction": "greet",
        "Metadata": {"entryPointPosition": {"x": 40, "y": 40}, "ActionMetadata": {}},
        "Actions": actions,
    }
    return json.dumps(document)
