"""Instances and the contact flows every new instance starts with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from parley.chat.errors import Invalid, NotFound, QuotaExceeded
from parley.chat.model import ContactFlow, Instance, Page, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

# The flows a new Amazon Connect instance is created with (name, type).
DEFAULT_FLOWS: tuple[tuple[str, str], ...] = (
    ("Default agent hold", "AGENT_HOLD"),
    ("Default agent transfer", "AGENT_TRANSFER"),
    ("Default agent whisper", "AGENT_WHISPER"),
    ("Default customer hold", "CUSTOMER_HOLD"),
    ("Default customer queue", "CUSTOMER_QUEUE"),
    ("Default customer whisper", "CUSTOMER_WHISPER"),
    ("Default outbound", "OUTBOUND_WHISPER"),
    ("Default queue transfer", "CONTACT_FLOW"),
    ("Sample inbound flow (first contact experience)", "CONTACT_FLOW"),
    ("Sample queue customer", "CONTACT_FLOW"),
    ("Sample Lambda integration", "CONTACT_FLOW"),
    ("Sample secure input with agent", "CONTACT_FLOW"),
    ("Sample disconnect flow", "CONTACT_FLOW"),
    ("Basic Settings", "CONTACT_FLOW"),
    ("Default inbound flow", "CONTACT_FLOW"),
)

ALIAS_REQUIRED = frozenset({"CONNECT_MANAGED", "SAML"})


@dataclass(frozen=True, slots=True)
class NewInstance:
    identity_management_type: str
    inbound_calls: bool
    outbound_calls: bool
    alias: str | None = None
    directory_id: str | None = None
    tags: dict[str, str] | None = None


def default_flow_content(name: str) -> str:
    # A minimal, valid flow document: one action that ends the flow.
    return (
        '{"Version":"2019-10-30","StartAction":"end","Metadata":{"name":"'
        + name
        + '"},"Actions":[{"Identifier":"end","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}'
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def require_instance(repo: Repo, scope: Scope, instance_id: str) -> Instance:
    instance = repo.get_instance(scope, instance_ref(instance_id))
    if instance is None:
        raise NotFound(f"Instance not found: {instance_id}")
    return instance


def instance_ref(instance_id: str) -> str:
    """Connect takes an instance id or its ARN wherever it takes an instance."""
    if instance_id.startswith("arn:") and "instance/" in instance_id:
        return instance_id.split("instance/", 1)[1].split("/", 1)[0]
    return instance_id


def _check_new(repo: Repo, scope: Scope, spec: NewInstance, policy: Policy) -> None:
    if spec.identity_management_type in ALIAS_REQUIRED and not spec.alias:
        raise Invalid(f"InstanceAlias is required when IdentityManagementType is {spec.identity_management_type}")
    if spec.identity_management_type == "EXISTING_DIRECTORY" and not spec.directory_id:
        raise Invalid("DirectoryId is required when IdentityManagementType is EXISTING_DIRECTORY")
    if spec.alias and repo.alias_taken(scope, spec.alias):
        raise Invalid(f"An instance with the alias {spec.alias} already exists in this account and region")
    if policy.quota_instances and repo.count_instances(scope) >= policy.quota_instances:
        raise QuotaExceeded(
            f"The quota of {policy.quota_instances} instances per account and region is reached "
            "(PARLEY_QUOTA_INSTANCES)"
        )


def create_instance(
    repo: Repo, scope: Scope, spec: NewInstance, now: datetime, ids: IdSource, policy: Policy
) -> Instance:
    _check_new(repo, scope, spec, policy)
    instance = Instance(
        id=ids(),
        alias=spec.alias,
        identity_management_type=spec.identity_management_type,
        inbound_calls=spec.inbound_calls,
        outbound_calls=spec.outbound_calls,
        directory_id=spec.directory_id,
        created_at=now,
        tags=dict(spec.tags or {}),
    )
    repo.put_instance(scope, instance)
    for name, flow_type in DEFAULT_FLOWS:
        content = default_flow_content(name)
        flow = ContactFlow(
            id=ids(),
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
    return instance


def delete_instance(repo: Repo, scope: Scope, instance_id: str, now: datetime) -> None:
    """Removes the instance; its active contacts end first (connect-api.md §4)."""
    instance = require_instance(repo, scope, instance_id)
    for contact in repo.active_contacts(scope, instance.id):
        if not contact.ended(now):
            contact.ended_at = now
            contact.disconnect_reason = "OTHER"
            contact.last_updated = now
            repo.put_contact(scope, contact)
    repo.delete_instance(scope, instance.id)


def list_instances(repo: Repo, scope: Scope, after: str | None, limit: int) -> Page[Instance]:
    return repo.list_instances(scope, after, limit)
