"""Flow documents the test suites publish: they pass PARLEY_FLOW_VALIDATION=aws (flows.md §2).

CONSOLE_EXPORT is shaped like a flow exported from the Amazon Connect console for the custom-bot pattern: UUID
identifiers, numbers as strings, Wait's `TimeLimitSeconds`, editor metadata, empty members omitted."""

from __future__ import annotations

import json
from typing import Any

# One action that ends the chat: the smallest valid document.
FLOW = json.dumps(
    {
        "Version": "2019-10-30",
        "StartAction": "end",
        "Actions": [{"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}],
    }
)

GREET = "6f1d4c1e-5b7e-4a51-9d0a-0c7f1f2b9a01"
INVOKE = "a3c95c0e-0b4f-4f1c-8a53-3e8f3f6f5a02"
CHECK = "0d2f7d3a-7c55-4d08-b8a8-2b0f4e1d6c03"
WAIT = "9e4b2a61-3f0c-4b7a-a1e2-5d6c7b8a9f04"
QUEUE = "c7a1e5d2-8b3f-4e6a-9c0d-1f2e3a4b5c05"
SORRY = "2b8c4d6e-1a3f-4c5b-8d7e-9f0a1b2c3d06"
BYE = "f5e4d3c2-b1a0-4987-8654-3210fedcba07"


SET_QUEUE = "4d5e6f70-8192-4a3b-9c4d-5e6f7a8b9c08"


def console_export(
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:startBot", queue_arn: str | None = None
) -> dict[str, Any]:
    """The custom-bot flow; with `queue_arn`, a Set working queue block runs before Transfer to queue."""
    flow = _export(function_arn)
    if queue_arn is not None:
        wait = flow["Actions"][3]
        wait["Transitions"]["Conditions"][0]["NextAction"] = SET_QUEUE
        flow["Actions"].insert(
            4,
            {
                "Parameters": {"QueueId": queue_arn},
                "Identifier": SET_QUEUE,
                "Type": "UpdateContactTargetQueue",
                "Transitions": {"NextAction": QUEUE, "Errors": [{"NextAction": SORRY, "ErrorType": "NoMatchingError"}]},
            },
        )
    return flow


def _export(function_arn: str) -> dict[str, Any]:
    return {
        "Version": "2019-10-30",
        "StartAction": GREET,
        "Metadata": {
            "entryPointPosition": {"x": 40, "y": 40},
            "ActionMetadata": {
                GREET: {"position": {"x": 160, "y": 40}},
                INVOKE: {"position": {"x": 400, "y": 40}, "dynamicMetadata": {}},
                CHECK: {
                    "position": {"x": 640, "y": 40},
                    "conditionMetadata": [
                        {"id": "1", "operator": {"name": "Equals", "value": "Equals"}, "value": "success"}
                    ],
                },
                WAIT: {"position": {"x": 880, "y": 40}, "timeoutUnit": {"display": "Minutes", "value": "minute"}},
                QUEUE: {"position": {"x": 1120, "y": 40}},
                SORRY: {"position": {"x": 880, "y": 300}},
                BYE: {"position": {"x": 1360, "y": 300}},
            },
            "Annotations": [],
            "name": "Custom bot chat",
            "description": "",
            "type": "contactFlow",
            "status": "published",
            "hash": {},
        },
        "Actions": [
            {
                "Parameters": {"Text": "Hello $.Attributes.customerName, connecting you to our assistant."},
                "Identifier": GREET,
                "Type": "MessageParticipant",
                "Transitions": {
                    "NextAction": INVOKE,
                    "Errors": [{"NextAction": INVOKE, "ErrorType": "NoMatchingError"}],
                },
            },
            {
                "Parameters": {
                    "LambdaFunctionARN": function_arn,
                    "InvocationTimeLimitSeconds": "8",
                    "ResponseValidation": {"ResponseType": "STRING_MAP"},
                },
                "Identifier": INVOKE,
                "Type": "InvokeLambdaFunction",
                "Transitions": {"NextAction": CHECK, "Errors": [{"NextAction": SORRY, "ErrorType": "NoMatchingError"}]},
            },
            {
                "Parameters": {"ComparisonValue": "$.External.status"},
                "Identifier": CHECK,
                "Type": "Compare",
                "Transitions": {
                    "NextAction": SORRY,
                    "Conditions": [{"NextAction": WAIT, "Condition": {"Operator": "Equals", "Operands": ["success"]}}],
                    "Errors": [{"NextAction": SORRY, "ErrorType": "NoMatchingCondition"}],
                },
            },
            {
                "Parameters": {"TimeLimitSeconds": "900", "Events": ["BotParticipantDisconnected"]},
                "Identifier": WAIT,
                "Type": "Wait",
                "Transitions": {
                    "NextAction": SORRY,
                    "Conditions": [
                        {
                            "NextAction": QUEUE,
                            "Condition": {"Operator": "Equals", "Operands": ["BotParticipantDisconnected"]},
                        },
                        {"NextAction": BYE, "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}},
                    ],
                    "Errors": [
                        {"NextAction": SORRY, "ErrorType": "ParticipantNotFound"},
                        {"NextAction": SORRY, "ErrorType": "NoMatchingError"},
                    ],
                },
            },
            {
                "Parameters": {},
                "Identifier": QUEUE,
                "Type": "TransferContactToQueue",
                "Transitions": {
                    "NextAction": SORRY,
                    "Errors": [
                        {"NextAction": SORRY, "ErrorType": "QueueAtCapacity"},
                        {"NextAction": SORRY, "ErrorType": "NoMatchingError"},
                    ],
                },
            },
            {
                "Parameters": {"Text": "Sorry, something went wrong."},
                "Identifier": SORRY,
                "Type": "MessageParticipant",
                "Transitions": {"NextAction": BYE, "Errors": [{"NextAction": BYE, "ErrorType": "NoMatchingError"}]},
            },
            {"Parameters": {}, "Identifier": BYE, "Type": "DisconnectParticipant", "Transitions": {}},
        ],
    }


CONSOLE_EXPORT = json.dumps(console_export(), indent=2)
