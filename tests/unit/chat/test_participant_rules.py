"""CreateParticipant's rules in the pure domain, including those no HTTP path reaches yet
(an agent or Lex bot present, VOICE contacts, expiry by the clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from parley.chat import contacts, instances, participants
from parley.chat.errors import Invalid, NotFound, QuotaExceeded, StateConflict
from parley.chat.model import Contact, Participant, Scope
from parley.chat.policy import Policy
from parley.store.sql_repo import SqlRepo
from tests.unit.chat.conftest import NOW, SCOPE, sequential_ids

POLICY = Policy()
BOT = participants.NewParticipant("CUSTOM_BOT", "Bot")


def setup_chat(repo: SqlRepo, ids: Any) -> Contact:
    instance = instances.create_instance(
        repo, SCOPE, instances.NewInstance("CONNECT_MANAGED", True, True, alias="x"), NOW, ids, POLICY
    )
    flow = repo.list_flows(SCOPE, instance.id, frozenset({"CONTACT_FLOW"}), None, 1).items[0]
    started = contacts.start_chat(repo, SCOPE, contacts.NewChat(instance.id, flow.id, "Customer"), NOW, ids, POLICY)
    return started.contact


def add(repo: SqlRepo, contact: Contact, ids: Any, spec: participants.NewParticipant = BOT, **kw: Any) -> Any:
    return participants.add_participant(
        repo, SCOPE, contact.instance_id, contact.id, spec, kw.get("now", NOW), ids, kw.get("policy", POLICY)
    )


def join(repo: SqlRepo, contact: Contact, role: str, ident: str) -> None:
    repo.put_participant(SCOPE, Participant(ident, contact.id, contact.instance_id, role, role.title(), NOW))


@pytest.mark.parametrize("role", ["AGENT", "LEX_BOT"])
def test_a_bot_cannot_join_while_an_agent_or_lex_is_present(repo: SqlRepo, role: str) -> None:
    ids = sequential_ids()
    contact = setup_chat(repo, ids)
    join(repo, contact, role, "00000000-0000-4000-8000-0000000000aa")
    with pytest.raises(StateConflict, match=role):
        add(repo, contact, ids)


def test_a_bot_that_left_frees_the_slot(repo: SqlRepo) -> None:
    ids = sequential_ids()
    contact = setup_chat(repo, ids)
    first = add(repo, contact, ids).participant
    first.left_at = NOW
    repo.put_participant(SCOPE, first)
    assert add(repo, contact, ids).participant.id != first.id


def test_second_bot_exceeds_quota(repo: SqlRepo) -> None:
    ids = sequential_ids()
    contact = setup_chat(repo, ids)
    add(repo, contact, ids)
    with pytest.raises(QuotaExceeded):
        add(repo, contact, ids)


def test_expired_chat_is_ended_by_the_clock(repo: SqlRepo) -> None:
    ids = sequential_ids()
    contact = setup_chat(repo, ids)
    later = contact.scheduled_end + timedelta(seconds=1)
    with pytest.raises(StateConflict, match="ended"):
        add(repo, contact, ids, now=later)
    stored = repo.get_contact(SCOPE, contact.id)
    assert stored is not None
    assert stored.end_reason(later) == "EXPIRED" and stored.end_time(later) == contact.scheduled_end
    assert add(repo, contact, ids, now=contact.scheduled_end - timedelta(seconds=1)).participant


def test_capabilities_on_a_chat_can_be_rejected(repo: SqlRepo) -> None:
    ids = sequential_ids()
    contact = setup_chat(repo, ids)
    spec = participants.NewParticipant("CUSTOM_BOT", "Bot", {"Video": "SEND"})
    with pytest.raises(Invalid, match="PARLEY_CHAT_CAPABILITIES"):
        add(repo, contact, ids, spec, policy=Policy(chat_capabilities="reject"))
    assert add(repo, contact, ids, spec).participant.capabilities == {}


def voice_contact(repo: SqlRepo, ids: Any, allowed: dict[str, dict[str, str]] | None = None) -> Contact:
    chat = setup_chat(repo, ids)
    contact = Contact(
        id=ids(),
        instance_id=chat.instance_id,
        channel="VOICE",
        initiation_method="WEBRTC_API",
        flow_id=chat.flow_id,
        initiated_at=NOW,
        scheduled_end=NOW + timedelta(hours=2),
        allowed_capabilities=allowed or {"Customer": {"Video": "SEND"}},
    )
    repo.put_contact(SCOPE, contact)
    return contact


CUSTOMER = participants.NewParticipant("CUSTOMER", "Guest")


def test_voice_accepts_only_customers_once_an_agent_is_connected(repo: SqlRepo) -> None:
    ids = sequential_ids()
    call = voice_contact(repo, ids)
    with pytest.raises(Invalid, match="CUSTOMER"):
        add(repo, call, ids, BOT)
    with pytest.raises(Invalid, match="agent"):
        add(repo, call, ids, CUSTOMER)
    join(repo, call, "AGENT", "00000000-0000-4000-8000-0000000000ab")
    assert add(repo, call, ids, CUSTOMER).participant.role == "CUSTOMER"


def test_voice_capabilities_must_be_allowed(repo: SqlRepo) -> None:
    ids = sequential_ids()
    call = voice_contact(repo, ids)
    join(repo, call, "AGENT", "00000000-0000-4000-8000-0000000000ac")
    with pytest.raises(Invalid, match="ScreenShare"):
        add(repo, call, ids, participants.NewParticipant("CUSTOMER", "G", {"ScreenShare": "SEND"}))
    video = add(repo, call, ids, participants.NewParticipant("CUSTOMER", "G", {"Video": "SEND"}))
    assert video.participant.capabilities == {"Video": "SEND"}


def test_voice_participant_cap(repo: SqlRepo) -> None:
    ids = sequential_ids()
    call = voice_contact(repo, ids)
    join(repo, call, "AGENT", "00000000-0000-4000-8000-0000000000ad")
    for _ in range(5):
        add(repo, call, ids, CUSTOMER)
    with pytest.raises(QuotaExceeded):
        add(repo, call, ids, CUSTOMER)


def test_voice_requires_the_initial_contact(repo: SqlRepo) -> None:
    ids = sequential_ids()
    call = voice_contact(repo, ids)
    call.initial_contact_id = "00000000-0000-4000-8000-0000000000ff"
    repo.put_contact(SCOPE, call)
    with pytest.raises(Invalid, match="initial contact"):
        add(repo, call, ids, CUSTOMER)


def test_other_scopes_see_nothing(repo: SqlRepo) -> None:
    ids = sequential_ids()
    contact = setup_chat(repo, ids)
    with pytest.raises(NotFound):
        participants.add_participant(
            repo, Scope("999988887777", "us-east-1"), contact.instance_id, contact.id, BOT, NOW, ids, POLICY
        )
