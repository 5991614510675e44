"""The Lambda side of InvokeLambdaFunction (flows.md §5): the ContactFlowEvent a function receives, and what
its response makes of `$.External`."""

from __future__ import annotations

import json
from typing import Any

from parley.chat.flowlang.state import ContactData

STRING_MAP, JSON = "STRING_MAP", "JSON"


def _instance_id(instance_arn: str) -> str:
    return instance_arn.split("instance/", 1)[1].split("/", 1)[0] if "instance/" in instance_arn else ""


def contact_data(data: ContactData) -> dict[str, Any]:
    """`Details.ContactData` as in AWS's documented example and a captured chat event."""
    tags = {"aws:connect:instanceId": _instance_id(data.instance_arn), **data.tags}
    return {
        "Attributes": dict(data.attributes),
        "Channel": data.channel,
        "ContactId": data.contact_id,
        "CustomerEndpoint": None,
        "CustomerId": data.customer_id,
        "Description": data.description,
        "InitialContactId": data.initial_contact_id or data.contact_id,
        "InitiationMethod": data.initiation_method,
        "InstanceARN": data.instance_arn,
        "LanguageCode": data.language_code,
        "MediaStreams": {"Customer": {"Audio": None}},
        "Name": data.name,
        "PreviousContactId": data.previous_contact_id or data.contact_id,
        "Queue": None if data.queue is None else {"ARN": data.queue.arn, "Name": data.queue.name},
        "References": dict(data.references),
        "RelatedContactId": data.related_contact_id,
        "SegmentAttributes": dict(data.segment_attributes),
        "SystemEndpoint": None,
        "Tags": tags,
    }


def lambda_event(data: ContactData, parameters: dict[str, str]) -> dict[str, Any]:
    return {"Name": "ContactFlowEvent", "Details": {"ContactData": contact_data(data), "Parameters": dict(parameters)}}


def _string_value(value: Any, string_map: str) -> tuple[bool, str | None]:
    """(acceptable, the value as a string or None to drop it) for one STRING_MAP member."""
    if isinstance(value, str):
        return True, value
    if string_map == "strict" or isinstance(value, dict | list):
        return False, None
    if value is None:
        return True, None
    return True, json.dumps(value)


def external_from_response(payload: Any, response_type: str, string_map: str) -> dict[str, Any] | None:
    """The new `$.External` (flows.md §5.3), or None when the response takes the Error branch.

    The payload must be a JSON object. JSON keeps it as it is; STRING_MAP wants a flat map of strings: under
    `coerce` numbers and booleans become their JSON text, nulls are dropped and nested values are refused;
    under `strict` any non-string is refused. The 32 KB limit is the invoker's."""
    if not isinstance(payload, dict):
        return None
    if response_type == JSON:
        return dict(payload)
    external: dict[str, Any] = {}
    for key, value in payload.items():
        accepted, text = _string_value(value, string_map)
        if not accepted:
            return None
        if text is not None:
            external[str(key)] = text
    return external
