"""Instances: creating one (with what it starts with, `defaults`), finding, listing and deleting them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.chat.defaults import create_defaults
from parley.chat.defaults import sha256 as sha256  # flows hash their content the same way
from parley.chat.errors import Invalid, NotFound, QuotaExceeded
from parley.chat.model import Instance, Page, Scope
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo

ALIAS_REQUIRED = frozenset({"CONNECT_MANAGED", "SAML"})


@dataclass(frozen=True, slots=True)
class NewInstance:
    identity_management_type: str
    inbound_calls: bool
    outbound_calls: bool
    alias: str | None = None
    directory_id: str | None = None
    tags: dict[str, str] | None = None


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
    create_defaults(repo, scope, instance, now, ids)
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
