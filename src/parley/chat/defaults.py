"""What every instance starts with (flows.md §7.1): Basic Hours, BasicQueue and AWS's default flows, with
contents written in the flow language; and bringing an instance stored by an older Parley up to date (§7.2).

The default flows keep AWS's names and types. Their contents are Parley's, chosen so that a chat started
on an unconfigured instance waits in BasicQueue for an agent instead of ending. They name the instance's
own queue and flows by ARN, as a flow exported from the console does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.chat.model import ContactFlow, HoursOfOperation, Instance, Queue, Scope
from parley.chat.policy import IdSource
from parley.chat.ports import Repo

FLOW_LANGUAGE_VERSION = "2019-10-30"
BASIC_QUEUE = "BasicQueue"
BASIC_HOURS = "Basic Hours"
DISCONNECT_FLOW = "Sample disconnect flow"
WAIT_FOR_RETURN_SECONDS = "900"  # Sample disconnect flow: 15 minutes for the customer to come back
AGENT_LEFT = (
    "The agent has left the chat. Send a message within 15 minutes to be connected to an agent again; "
    "otherwise the chat ends."
)

# The flows a new Amazon Connect instance is created with (name, type).
DEFAULT_FLOWS: tuple[tuple[str, str], ...] = (
    ("Default agent hold", "AGENT_HOLD"),
    ("Default agent transfer", "AGENT_TRANSFER"),
    ("Default agent whisper", "AGENT_WHISPER"),
    ("Default customer hold", "CUSTOMER_HOLD"),
    ("Default customer queue", "CUSTOMER_QUEUE"),
    ("Default customer whisper", "CUSTOMER_WHISPER"),
    ("Default outbound", "OUTBOUND_WHISPER"),
    ("Default queue transfer", "QUEUE_TRANSFER"),
    ("Sample inbound flow (first contact experience)", "CONTACT_FLOW"),
    ("Sample queue customer", "CONTACT_FLOW"),
    ("Sample Lambda integration", "CONTACT_FLOW"),
    ("Sample secure input with agent", "CONTACT_FLOW"),
    (DISCONNECT_FLOW, "CONTACT_FLOW"),
    ("Basic Settings", "CONTACT_FLOW"),
    ("Default inbound flow", "CONTACT_FLOW"),
)
INBOUND_FLOWS = frozenset({"Sample inbound flow (first contact experience)", "Default inbound flow"})
V1_TYPES = {"Default queue transfer": "CONTACT_FLOW"}  # what v1 stored where AWS's type differs


@dataclass(frozen=True, slots=True)
class Refs:
    """What the default contents name: the instance's BasicQueue and its disconnect flow (by ARN)."""

    queue_arn: str
    disconnect_flow_arn: str | None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def v1_placeholder_content(name: str) -> str:
    """The content v1 gave every default flow (one DisconnectParticipant): kept to recognize it, never written."""
    return (
        '{"Version":"2019-10-30","StartAction":"end","Metadata":{"name":"'
        + name
        + '"},"Actions":[{"Identifier":"end","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}'
    )


# -- the flow documents ---------------------------------------------------------------------------------
def _action(identifier: str, kind: str, parameters: dict[str, Any], transitions: dict[str, Any]) -> dict[str, Any]:
    return {"Identifier": identifier, "Type": kind, "Parameters": parameters, "Transitions": transitions}


def _on_error(target: str, *types: str) -> list[dict[str, str]]:
    return [{"NextAction": target, "ErrorType": kind} for kind in (*types, "NoMatchingError")]


def _document(name: str, actions: list[dict[str, Any]]) -> str:
    body = {
        "Version": FLOW_LANGUAGE_VERSION,
        "StartAction": actions[0]["Identifier"],
        "Metadata": {"name": name, "createdBy": "parley"},
        "Actions": actions,
    }
    return json.dumps(body, separators=(",", ":"))


def _disconnect() -> dict[str, Any]:
    return _action("disconnect", "DisconnectParticipant", {}, {})


def _to_queue(queue_arn: str) -> list[dict[str, Any]]:
    """Set working queue → Transfer to queue; at capacity or on an error, disconnect. A transfer that
    succeeds ends the flow with the contact in the queue, so it has no NextAction."""
    return [
        _action(
            "set-queue",
            "UpdateContactTargetQueue",
            {"QueueId": queue_arn},
            {"NextAction": "transfer", "Errors": _on_error("disconnect")},
        ),
        _action("transfer", "TransferContactToQueue", {}, {"Errors": _on_error("disconnect", "QueueAtCapacity")}),
        _disconnect(),
    ]


def _inbound(refs: Refs) -> list[dict[str, Any]]:
    """Set disconnect flow (Sample disconnect flow) → the queue, as AWS's sample inbound flow does for chat."""
    queue = _to_queue(refs.queue_arn)
    if refs.disconnect_flow_arn is None:
        return queue
    hook = _action(
        "set-disconnect-flow",
        "UpdateContactEventHooks",
        {"EventHooks": {"CustomerRemaining": refs.disconnect_flow_arn}},
        {"NextAction": "set-queue", "Errors": _on_error("disconnect")},
    )
    return [hook, *queue]


def _disconnect_flow(refs: Refs) -> list[dict[str, Any]]:
    """Tell the customer the agent left; a message within 15 minutes queues the chat again, else it ends."""
    wait_branches = [
        {"NextAction": "set-queue", "Condition": {"Operator": "Equals", "Operands": ["CustomerReturned"]}},
        {"NextAction": "disconnect", "Condition": {"Operator": "Equals", "Operands": ["WaitCompleted"]}},
    ]
    return [
        _action(
            "agent-left",
            "MessageParticipant",
            {"Text": AGENT_LEFT},
            {"NextAction": "wait-for-customer", "Errors": _on_error("wait-for-customer")},
        ),
        _action(
            "wait-for-customer",
            "Wait",
            {"TimeoutSeconds": WAIT_FOR_RETURN_SECONDS, "Events": ["CustomerReturned"]},
            {"Conditions": wait_branches, "Errors": _on_error("disconnect")},
        ),
        *_to_queue(refs.queue_arn),
    ]


def flow_content(name: str, flow_type: str, refs: Refs) -> str:
    """The §7.1 content of default flow `name`."""
    if name in INBOUND_FLOWS:
        actions = _inbound(refs)
    elif name == DISCONNECT_FLOW:
        actions = _disconnect_flow(refs)
    elif flow_type == "CONTACT_FLOW":
        actions = _to_queue(refs.queue_arn)
    else:  # queue, whisper, hold, transfer and outbound flows: end at once (a queued chat waits silently)
        actions = [_action("end", "EndFlowExecution", {}, {})]
    return _document(name, actions)


# -- creating them --------------------------------------------------------------------------------------
def basic_hours(instance: Instance, now: datetime, ids: IdSource) -> HoursOfOperation:
    return HoursOfOperation(
        id=ids(), instance_id=instance.id, name=BASIC_HOURS, modified_at=now, description="Basic Hours"
    )


def basic_queue(instance: Instance, hours: HoursOfOperation, now: datetime, ids: IdSource) -> Queue:
    return Queue(
        id=ids(),
        instance_id=instance.id,
        name=BASIC_QUEUE,
        hours_id=hours.id,
        modified_at=now,
        description="BasicQueue",
    )


def create_defaults(repo: Repo, scope: Scope, instance: Instance, now: datetime, ids: IdSource) -> None:
    """Basic Hours, BasicQueue, then the default flows (their ids first: contents name one another)."""
    hours = basic_hours(instance, now, ids)
    queue = basic_queue(instance, hours, now, ids)
    repo.put_hours(scope, hours)
    repo.put_queue(scope, queue)
    flow_ids = {name: ids() for name, _ in DEFAULT_FLOWS}
    disconnect_arn = scope.arn(f"instance/{instance.id}/contact-flow/{flow_ids[DISCONNECT_FLOW]}")
    refs = Refs(queue.arn(scope), disconnect_arn)
    for name, flow_type in DEFAULT_FLOWS:
        content = flow_content(name, flow_type, refs)
        flow = ContactFlow(
            id=flow_ids[name],
            instance_id=instance.id,
            name=name,
            type=flow_type,
            content=content,
            status="PUBLISHED",
            description=f"{name} (created with the instance)",
            content_sha256=sha256(content),
            modified_at=now,
        )
        repo.put_flow(scope, flow)


# -- an instance stored by an older Parley (§7.2) ----------------------------------------------------------
def _ensure_queue(repo: Repo, scope: Scope, instance: Instance, now: datetime, ids: IdSource) -> list[str]:
    changes = []
    hours = repo.hours_by_name(scope, instance.id, BASIC_HOURS)
    if hours is None:
        hours = basic_hours(instance, now, ids)
        repo.put_hours(scope, hours)
        changes.append(f"hours.created instance={instance.id} name={BASIC_HOURS!r}")
    if repo.queue_by_name(scope, instance.id, BASIC_QUEUE) is None:
        repo.put_queue(scope, basic_queue(instance, hours, now, ids))
        changes.append(f"queue.created instance={instance.id} name={BASIC_QUEUE!r}")
    return changes


def upgrade_instance(
    repo: Repo, scope: Scope, instance: Instance, flows: list[ContactFlow], now: datetime, ids: IdSource
) -> list[str]:
    """Adds Basic Hours and BasicQueue when missing, and replaces every default flow whose content is still
    byte-identical to the v1 placeholder (fixing its type where v1 got it wrong). Returns one line per change."""
    changes = _ensure_queue(repo, scope, instance, now, ids)
    queue = repo.queue_by_name(scope, instance.id, BASIC_QUEUE)
    assert queue is not None  # _ensure_queue made sure
    by_name = {flow.name: flow for flow in flows}
    disconnect = by_name.get(DISCONNECT_FLOW)
    refs = Refs(queue.arn(scope), disconnect.arn(scope) if disconnect else None)
    for name, flow_type in DEFAULT_FLOWS:
        flow = by_name.get(name)
        if flow is None or flow.content != v1_placeholder_content(name):
            continue
        if flow.type == V1_TYPES.get(name, flow_type):
            flow.type = flow_type
        flow.content = flow_content(name, flow.type, refs)
        flow.content_sha256 = sha256(flow.content)
        flow.modified_at = now
        repo.put_flow(scope, flow)
        changes.append(f"flow.upgraded instance={instance.id} flow={flow.id} name={name!r} type={flow.type}")
    return changes
