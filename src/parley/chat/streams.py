"""Chat message streaming, the domain part (streaming.md §1-§2): a contact chain's streams, the rules of
StartContactStreaming and StopContactStreaming, and which items a stream carries.

Queuing an item on its chain's streams happens in the store, inside the unit of work that records the item
(`Repo.stream_item`), so an item and its outbox rows commit together. Delivery is not the domain's business:
`services/streams.py` does it after commit. No I/O, no clock reads here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from parley.chat.errors import ActiveLimitExceeded, Invalid, NotFound
from parley.chat.instances import require_instance
from parley.chat.model import ACTIVE, ENDED, STOPPED, Contact, Scope, Stream
from parley.chat.policy import IdSource, Policy
from parley.chat.ports import Repo, UnitOfWork

MAX_STREAMS = 2  # "a hard limit of max 2 streaming endpoints per chat"
TOPIC_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<name>[\w.-]{1,256})$"
)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a topic's messages go, decided by the service from the settings when a stream starts."""

    target: str
    filter: dict[str, object] | None = None


def check_topic(arn: str, scope: Scope) -> None:
    """A standard or FIFO topic ARN in the instance's Region (streaming.md §1); another account is fine."""
    match = TOPIC_ARN.match(arn)
    if match is None:
        raise Invalid(f"StreamingEndpointArn {arn} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
    if match["region"] != scope.region:
        raise Invalid(f"StreamingEndpointArn {arn} is not in the instance's Region {scope.region}")


def kinds(policy: Policy) -> list[str]:
    """The item Types a new stream carries (§2): MESSAGE and EVENT, attachments and receipts by setting."""
    chosen = ["MESSAGE", "EVENT"]
    if policy.stream_attachments:
        chosen.append("ATTACHMENT")
    if policy.stream_receipts:
        chosen.append("MESSAGEMETADATA")
    return chosen


def open_stream(
    repo: Repo, scope: Scope, contact: Contact, arn: str, route: Route, now: datetime, ids: IdSource, policy: Policy
) -> Stream:
    """A stream on the contact's chain; an active one on the same topic is answered again (`same`)."""
    check_topic(arn, scope)
    active = [s for s in repo.chain_streams(scope, contact.chain_id) if s.state == ACTIVE]
    if policy.stream_duplicate == "same":
        for stream in active:
            if stream.topic_arn == arn:
                return stream
    if len(active) >= MAX_STREAMS:
        raise ActiveLimitExceeded(
            f"Contact {contact.chain_id} already streams to {MAX_STREAMS} endpoints, the most a chat can have"
        )
    stream = Stream(
        id=ids(),
        instance_id=contact.instance_id,
        contact_id=contact.id,
        chain_id=contact.chain_id,
        topic_arn=arn,
        target=route.target,
        started_at=now,
        kinds=kinds(policy),
        filter=route.filter,
    )
    repo.put_stream(scope, stream)
    return stream


def start(
    repo: Repo,
    scope: Scope,
    instance_id: str,
    contact_id: str,
    arn: str,
    route: Route,
    now: datetime,
    ids: IdSource,
    policy: Policy,
) -> Stream:
    """StartContactStreaming: any contact of a live chat chain; the stream covers the whole chain."""
    contact = _chain_contact(repo, scope, instance_id, contact_id)
    if contact.channel != "CHAT":
        raise Invalid(f"Contact {contact_id} is not a chat contact; only chats can stream messages")
    if contact.ended(now):
        raise Invalid(f"Contact {contact_id} has ended")
    return open_stream(repo, scope, contact, arn, route, now, ids, policy)


def stop(repo: Repo, scope: Scope, instance_id: str, contact_id: str, streaming_id: str, now: datetime) -> Stream:
    """StopContactStreaming: nothing new is queued; what is queued is still delivered. Stopped or ended: 200."""
    contact = _chain_contact(repo, scope, instance_id, contact_id)
    stream = repo.get_stream(scope, streaming_id)
    if stream is None or stream.chain_id != contact.chain_id:
        raise NotFound(f"StreamingId {streaming_id} is not a stream of contact {contact_id}")
    if stream.state == ACTIVE:
        stream.state = STOPPED
        stream.stopped_at = now
        repo.put_stream(scope, stream)
    return stream


def close_chain(repo: Repo, scope: Scope, contact: Contact, now: datetime) -> None:
    """The chat has ended (after `chat.ended` was queued): its streams end with it."""
    latest = repo.latest_in_chain(scope, contact.chain_id)
    if latest is not None and latest.id != contact.id:
        return  # an earlier segment of a chain that goes on
    for stream in repo.chain_streams(scope, contact.chain_id):
        if stream.state == ACTIVE:
            stream.state = ENDED
            stream.stopped_at = now
            repo.put_stream(scope, stream)


def _chain_contact(repo: Repo, scope: Scope, instance_id: str, contact_id: str) -> Contact:
    """The named contact, resolved to the latest segment of its chain (whose state decides)."""
    instance = require_instance(repo, scope, instance_id)
    contact = repo.get_contact(scope, contact_id)
    if contact is None or contact.instance_id != instance.id:
        raise NotFound(f"Contact not found: {contact_id}")
    latest = repo.latest_in_chain(scope, contact.chain_id)
    return latest if latest is not None and latest.instance_id == contact.instance_id else contact


def pause(repo: UnitOfWork, streaming_id: str) -> None:
    """PARLEY_STREAM_ON_DEAD=pause: the stream is held after a dead message until a redrive. The hold is kept
    with the stream, so a restart, or another node taking the stream over, keeps it held."""
    found = repo.find_stream(streaming_id)
    if found is not None and not found[1].paused:
        found[1].paused = True
        repo.put_stream(*found)


def redrive(repo: UnitOfWork, streaming_id: str) -> int | None:
    """The stream's dead messages are pending again and a held stream goes on; how many moved (None: no stream)."""
    found = repo.find_stream(streaming_id)
    if found is None:
        return None
    if found[1].paused:
        found[1].paused = False
        repo.put_stream(*found)
    return repo.outbox_redrive(streaming_id)
