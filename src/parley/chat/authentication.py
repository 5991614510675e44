"""Customer authentication inside a chat (participant-api.md §3.9).

Amazon Connect opens a session from a flow's Authenticate Customer block and sends
`authentication.initiated`; the customer then has one minute to ask for the sign-in URL
(GetAuthenticationUrl) or may cancel (CancelParticipantAuthentication). Parley has no flows:
the admin API opens the session. Parley's sign-in page signs the customer in at once.
"""

from __future__ import annotations

import json
from datetime import datetime

from parley.chat import events
from parley.chat.conversation import Caller, Outcome, record
from parley.chat.errors import Invalid, StateConflict
from parley.chat.model import Contact, Item, Scope
from parley.chat.policy import IdSource
from parley.chat.ports import Repo

URL_WINDOW_SECONDS = 60  # "within one minute of receiving the authenticationInitiated event" [M-P]
INITIATED, URL_ISSUED, SUCCEEDED, FAILED, CANCELLED = "INITIATED", "URL_ISSUED", "SUCCEEDED", "FAILED", "CANCELLED"
_OUTCOME_EVENTS = {SUCCEEDED: events.AUTH_SUCCEEDED, FAILED: events.AUTH_FAILED, CANCELLED: events.AUTH_CANCELLED}


def _content(session_id: str) -> str:
    return json.dumps({"SessionId": session_id}, separators=(",", ":"))


def open_session(repo: Repo, scope: Scope, contact: Contact, now: datetime, ids: IdSource) -> tuple[str, list[Item]]:
    """The admin API plays the flow block: a new session and its `authentication.initiated` event."""
    if contact.channel != "CHAT" or contact.ended(now):
        raise StateConflict(f"Contact {contact.id} is not a live chat")
    session_id = ids()
    contact.auth_sessions[session_id] = {"opened": now.timestamp(), "state": INITIATED}
    repo.put_contact(scope, contact)
    items: list[Item] = []
    record(repo, scope, items, events.system_event(contact, events.AUTH_INITIATED, now, ids, _content(session_id)))
    return session_id, items


def _session(caller: Caller, session_id: str) -> dict[str, object]:
    if caller.participant.role != "CUSTOMER":
        raise Invalid("Only the customer of the chat takes part in its authentication")
    session = caller.contact.auth_sessions.get(session_id)
    if session is None:
        raise Invalid(f"SessionId {session_id} is not an authentication session of this chat")
    return session


def request_url(repo: Repo, caller: Caller, session_id: str, now: datetime) -> None:
    """GetAuthenticationUrl: allowed once the session is open, for one minute."""
    session = _session(caller, session_id)
    if session["state"] not in (INITIATED, URL_ISSUED):
        raise Invalid(f"Authentication session {session_id} is {str(session['state']).lower()}")
    if now.timestamp() - float(str(session["opened"])) > URL_WINDOW_SECONDS:
        raise Invalid(f"Authentication session {session_id} was opened more than {URL_WINDOW_SECONDS} s ago")
    session["state"] = URL_ISSUED
    repo.put_contact(caller.scope, caller.contact)


def finish(
    repo: Repo, scope: Scope, contact: Contact, session_id: str, state: str, now: datetime, ids: IdSource
) -> list[Item]:
    """The session ends: signed in (the sign-in page), failed (admin) or cancelled (the customer)."""
    session = contact.auth_sessions.get(session_id)
    if session is None:
        raise Invalid(f"SessionId {session_id} is not an authentication session of this chat")
    if session["state"] not in (INITIATED, URL_ISSUED):
        raise Invalid(f"Authentication session {session_id} is already {str(session['state']).lower()}")
    if contact.ended(now):
        raise Invalid(f"Contact {contact.id} has ended")
    session["state"] = state
    repo.put_contact(scope, contact)
    items: list[Item] = []
    item = events.system_event(contact, _OUTCOME_EVENTS[state], now, ids, _content(session_id))
    record(repo, scope, items, item)
    return items


def cancel(repo: Repo, caller: Caller, session_id: str, now: datetime, ids: IdSource) -> Outcome:
    """CancelParticipantAuthentication."""
    _session(caller, session_id)
    outcome = Outcome(caller)
    outcome.items += finish(repo, caller.scope, caller.contact, session_id, CANCELLED, now, ids)
    return outcome
