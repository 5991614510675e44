"""Lambda handlers as deployed code is written: a boto3 client built at import time, from the environment alone
(`parley serve` points AWS_ENDPOINT_URL_CONNECT at itself before importing them, flows.md §6.4)."""

from __future__ import annotations

import time
from typing import Any

import boto3

connect = boto3.client("connect")


def describe_contact(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Calls Parley back while the flow waits for it: possible only if Parley's event loop is free."""
    data = event["Details"]["ContactData"]
    instance_id = data["InstanceARN"].rsplit("/", 1)[1]
    contact = connect.describe_contact(InstanceId=instance_id, ContactId=data["ContactId"])["Contact"]
    return {
        "status": "success",
        "contactId": contact["Id"],
        "channel": contact["Channel"],
        "function": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
    }


def sleeps(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(float(event.get("seconds", 2)))
    return {"late": True}
