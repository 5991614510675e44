"""Contact flows: stored and referenced, never executed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from parley.chat.errors import Duplicate, InvalidFlowContent, NotFound, NotPublished
from parley.chat.instances import require_instance, sha256
from parley.chat.model import ContactFlow, Page, Scope
from parley.chat.policy import IdSource
from parley.chat.ports import Repo

SAVED_SUFFIX = ":$SAVED"


@dataclass(frozen=True, slots=True)
class NewFlow:
    name: str
    type: str
    content: str
    status: str = "PUBLISHED"
    description: str | None = None
    tags: dict[str, str] | None = None


def check_content(content: str) -> None:
    """Parley checks only that a published flow's content is a JSON object (connect-api.md §4)."""
    try:
        document = json.loads(content)
    except ValueError as exc:
        problem = f"Content is not valid JSON: {exc}"
        raise InvalidFlowContent(problem, [{"message": problem}]) from None
    if not isinstance(document, dict):
        problem = "Content must be a JSON object"
        raise InvalidFlowContent(problem, [{"message": problem}])


def create_flow(repo: Repo, scope: Scope, instance_id: str, spec: NewFlow, now: datetime, ids: IdSource) -> ContactFlow:
    instance = require_instance(repo, scope, instance_id)
    if spec.status == "PUBLISHED":
        check_content(spec.content)
    if repo.flow_name_taken(scope, instance.id, spec.name):
        raise Duplicate(f"A flow named {spec.name} already exists in instance {instance.id}")
    flow = ContactFlow(
        id=ids(),
        instance_id=instance.id,
        name=spec.name,
        type=spec.type,
        content=spec.content,
        status=spec.status,
        description=spec.description,
        content_sha256=sha256(spec.content),
        modified_at=now,
        tags=dict(spec.tags or {}),
    )
    repo.put_flow(scope, flow)
    return flow


def flow_ref(flow_id: str) -> tuple[str, bool]:
    """(flow id, whether `:$SAVED` was asked for); accepts a flow ARN too."""
    saved = flow_id.endswith(SAVED_SUFFIX)
    if saved:
        flow_id = flow_id[: -len(SAVED_SUFFIX)]
    if flow_id.startswith("arn:") and "contact-flow/" in flow_id:
        flow_id = flow_id.split("contact-flow/", 1)[1]
    return flow_id, saved


def find_flow(repo: Repo, scope: Scope, instance_id: str, flow_id: str) -> ContactFlow:
    instance = require_instance(repo, scope, instance_id)
    ident, _ = flow_ref(flow_id)
    flow = repo.get_flow(scope, instance.id, ident)
    if flow is None:
        raise NotFound(f"Contact flow not found: {flow_id}")
    return flow


def describe_flow(repo: Repo, scope: Scope, instance_id: str, flow_id: str) -> ContactFlow:
    flow = find_flow(repo, scope, instance_id, flow_id)
    if flow.status == "SAVED" and not flow_ref(flow_id)[1]:
        raise NotPublished(f"Flow {flow.id} is SAVED, not published; describe {flow.id}{SAVED_SUFFIX} to read it")
    return flow


def list_flows(
    repo: Repo, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
) -> Page[ContactFlow]:
    instance = require_instance(repo, scope, instance_id)
    return repo.list_flows(scope, instance.id, types, after, limit)
