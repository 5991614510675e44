"""A Lambda function for the console's flow test, run by Parley as `--lambda greeter=<this module>:handler`."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    contact = event.get("Details", {}).get("ContactData", {}).get("ContactId") or "none"
    return {"greeting": "Hello from the greeter", "contact": contact}
