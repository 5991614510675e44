"""Tags on instances, contact flows and queues, addressed by ARN."""

from __future__ import annotations

from parley.chat.errors import ConstraintViolation, NotFound
from parley.chat.model import ContactFlow, Instance, Queue, Scope
from parley.chat.ports import Repo

MAX_TAGS = 50


Tagged = Instance | ContactFlow | Queue


def _resolve(repo: Repo, scope: Scope, arn: str) -> Tagged:
    prefix = scope.arn("instance/")
    if not arn.startswith(prefix):
        raise NotFound(
            f"Resource not found: {arn} (not an instance, flow or queue of account {scope.account} in {scope.region})"
        )
    parts = arn[len(prefix) :].split("/")
    instance = repo.get_instance(scope, parts[0])
    if instance is not None and len(parts) == 1:
        return instance
    if instance is not None and len(parts) == 3 and parts[1] == "contact-flow":
        flow = repo.get_flow(scope, instance.id, parts[2])
        if flow is not None:
            return flow
    if instance is not None and len(parts) == 3 and parts[1] == "queue":
        queue = repo.get_queue(scope, instance.id, parts[2])
        if queue is not None:
            return queue
    raise NotFound(f"Resource not found: {arn}")


def _save(repo: Repo, scope: Scope, resource: Tagged) -> None:
    if isinstance(resource, Instance):
        repo.put_instance(scope, resource)
    elif isinstance(resource, Queue):
        repo.put_queue(scope, resource)
    else:
        repo.put_flow(scope, resource)


def list_tags(repo: Repo, scope: Scope, arn: str) -> dict[str, str]:
    return dict(_resolve(repo, scope, arn).tags)


def tag_resource(repo: Repo, scope: Scope, arn: str, tags: dict[str, str]) -> None:
    resource = _resolve(repo, scope, arn)
    merged = {**resource.tags, **tags}
    if len(merged) > MAX_TAGS:
        raise ConstraintViolation(f"A resource can have at most {MAX_TAGS} tags; this would make {len(merged)}")
    resource.tags = merged
    _save(repo, scope, resource)


def untag_resource(repo: Repo, scope: Scope, arn: str, keys: list[str]) -> None:
    resource = _resolve(repo, scope, arn)
    resource.tags = {k: v for k, v in resource.tags.items() if k not in set(keys)}
    _save(repo, scope, resource)
