"""Contact flows: created, described, listed and updated; published content is validated as flows.md §2 says."""

from __future__ import annotations

import dataclasses
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


def check_content(content: str, mode: str = "aws") -> None:
    """Published content must pass PARLEY_FLOW_VALIDATION (`aws`, `structure` or `json`; flows.md §2)."""
    from parley.chat.flowlang.validation import problems  # the flow language: loaded by the first flow, not at start-up

    found = problems(content, mode)
    if found:
        summary = found[0] if len(found) == 1 else f"{found[0]} (and {len(found) - 1} more problems)"
        raise InvalidFlowContent(summary, [{"message": message} for message in found])


def create_flow(
    repo: Repo, scope: Scope, instance_id: str, spec: NewFlow, now: datetime, ids: IdSource, validation: str = "aws"
) -> ContactFlow:
    instance = require_instance(repo, scope, instance_id)
    if spec.status == "PUBLISHED":
        check_content(spec.content, validation)
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
    saved = flow_ref(flow_id)[1]
    if flow.status == "SAVED" and not saved:
        raise NotPublished(f"Flow {flow.id} is SAVED, not published; describe {flow.id}{SAVED_SUFFIX} to read it")
    if saved and flow.saved_content is not None:
        draft = flow.saved_content
        return dataclasses.replace(flow, content=draft, status="SAVED", content_sha256=sha256(draft))
    return flow


def update_flow_content(
    repo: Repo, scope: Scope, instance_id: str, flow_id: str, content: str, now: datetime, validation: str = "aws"
) -> ContactFlow:
    """UpdateContactFlowContent. On a PUBLISHED flow the content is validated and published; with `:$SAVED` it is
    kept as the flow's SAVED draft instead, unvalidated. A SAVED flow's content is replaced, unvalidated."""
    flow = find_flow(repo, scope, instance_id, flow_id)
    if flow.status == "PUBLISHED" and flow_ref(flow_id)[1]:
        flow.saved_content = content
    elif flow.status == "PUBLISHED":
        check_content(content, validation)
        flow.content, flow.content_sha256, flow.saved_content = content, sha256(content), None
    else:
        flow.content, flow.content_sha256 = content, sha256(content)
    flow.modified_at = now
    repo.put_flow(scope, flow)
    return flow


def list_flows(
    repo: Repo, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
) -> Page[ContactFlow]:
    instance = require_instance(repo, scope, instance_id)
    return repo.list_flows(scope, instance.id, types, after, limit)
