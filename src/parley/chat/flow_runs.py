"""A chat's flows against the store (flows.md §3, §7): when a run starts or resumes, one advance of the
interpreter, and the effects it asks for applied in the same unit of work.

`step` runs inside a unit of work the runner (services/flows.py) holds; it reads and writes only through the
Repo port, decides nothing about time or randomness on its own (both come in), and answers what must happen
after commit: items to push, Lambda functions to invoke, the wait deadline to arm. Resumption is level-
triggered: each step looks at the contact as it is (the bot gone, a customer message newer than the wait,
a deadline passed), so a lost wake-up or a restart is repaired by the next look.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from parley.chat import events, queues
from parley.chat.conversation import end_contact, record
from parley.chat.flow_record import FlowRecord
from parley.chat.flow_world import RepoWorld, as_ref, contact_data, find_published
from parley.chat.flowlang import interpreter as fl
from parley.chat.flowlang.validation import problems
from parley.chat.model import Contact, Item, Participant, Scope
from parley.chat.policy import IdSource

CUT_OFF = "the invocation was cut off by a restart of Parley; it is never rerun"
DEFAULT_QUEUE_FLOW = "Default customer queue"


@dataclass(frozen=True, slots=True)
class FlowConfig:
    options: fl.FlowOptions
    draw: random.Random = field(default_factory=random.Random)  # DistributeByPercentage: seeded by --seed
    start: str = "connect"  # connect | start (flows.md §3.1)
    disconnect_reason: str | None = None  # a chat a flow ends: None or CONTACT_FLOW_DISCONNECT


@dataclass(slots=True)
class Step:
    """What one step did, for the runner to carry out after commit."""

    items: list[Item] = field(default_factory=list)
    invocations: list[fl.InvokeLambda] = field(default_factory=list)
    deadline: datetime | None = None
    progressed: bool = False  # something ran: look again
    live: bool = False  # the contact still has a flow that may run
    waiting_lambda: bool = False
    notes: list[str] = field(default_factory=list)  # log lines (flow.invalid, flow.unsupported, ...)
    record: FlowRecord | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    """What woke the runner for this contact, beyond what the store shows."""

    reason: str  # connected | started | deadline | agent-left | accepted | restart | item | ended | lambda
    answer: fl.LambdaAnswer | None = None
    detail: tuple[str, str, str, str | None, str] | None = None  # a trail entry: (flow, action, type, branch, detail)
    record_id: str = ""  # the Lambda invocation's record, when the signal carries its answer


def step(
    repo: Any, scope: Scope, contact_id: str, signal: Signal, now: datetime, ids: IdSource, config: FlowConfig
) -> Step:
    out = Step()
    contact: Contact | None = repo.get_contact(scope, contact_id)
    if contact is None or contact.channel != "CHAT":
        return out
    rec: FlowRecord | None = repo.get_flow_record(scope, contact.id)
    if contact.ended(now):
        if rec is not None and rec.live:
            _finish(rec, "contact ended", now)
            repo.put_flow_record(scope, rec)
        return out
    if rec is None:
        rec = _maybe_start(repo, scope, contact, signal, now, ids, config, out)
        if rec is None:
            return out
    elif signal.reason == "agent-left":
        _agent_left(repo, scope, contact, rec, now, ids, out)
    elif signal.reason == "accepted":
        accept(rec, now)
    if signal.detail:
        rec.note([_trail(now, *signal.detail)])
    _advance(repo, scope, contact, rec, signal, now, ids, config, out)
    rec.updated = now
    repo.put_flow_record(scope, rec)
    out.live, out.record, out.deadline = rec.live, rec, rec.deadline
    return out


def wants_step(repo: Any, scope: Scope, contact_id: str, now: datetime, config: FlowConfig) -> bool:
    """Whether a step would do something now (read only): a run to start, resume or close. Several nodes
    sweep with it for runs whose node died (a run nobody holds that is due)."""
    contact: Contact | None = repo.get_contact(scope, contact_id)
    if contact is None or contact.channel != "CHAT":
        return False
    rec: FlowRecord | None = repo.get_flow_record(scope, contact.id)
    if contact.ended(now):
        return rec is not None and rec.live
    if rec is None:
        customer = next((p for p in repo.participants(scope, contact.id) if p.role == "CUSTOMER"), None)
        return config.start == "start" or (customer is not None and customer.connected_at is not None)
    if not rec.live:
        return False
    state = None if rec.run is None else fl.RunState.from_json(rec.run)
    if state is None or state.status == "ended":
        return bool(rec.pending)
    if state.status != "waiting":
        return True  # cut off mid-run
    return _resume(repo, scope, contact, rec, state, Signal("restart"), now) is not None


def _maybe_start(
    repo: Any,
    scope: Scope,
    contact: Contact,
    signal: Signal,
    now: datetime,
    ids: IdSource,
    config: FlowConfig,
    out: Step,
) -> FlowRecord | None:
    """The inbound flow starts at the customer's first connection (or at StartChatContact: --flow-start)."""
    customer = next((p for p in repo.participants(scope, contact.id) if p.role == "CUSTOMER"), None)
    connected = customer is not None and customer.connected_at is not None
    if not (connected or (config.start == "start" and signal.reason in ("started", "restart"))):
        return None
    rec = FlowRecord(contact_id=contact.id, instance_id=contact.instance_id, system_id=ids(), updated=now)
    flow = find_published(repo, scope, contact.instance_id, contact.flow_id)
    found = [] if flow is None else runnable_problems(flow.content)
    if flow is None or found:
        why = "it is not published" if flow is None else "; ".join(found[:3])
        out.notes.append(f"flow.invalid flow={contact.flow_id} contact={contact.id}: {why}; the chat stays open")
        _finish(rec, f"flow not run: {why}", now)
        repo.put_flow_record(scope, rec)
        return None
    rec.run = fl.start(as_ref(scope, flow), contact_data(repo, scope, contact, rec, None, config.options)).to_json()
    rec.kind = "inbound"
    return rec


def _advance(
    repo: Any,
    scope: Scope,
    contact: Contact,
    rec: FlowRecord,
    signal: Signal,
    now: datetime,
    ids: IdSource,
    config: FlowConfig,
    out: Step,
) -> None:
    """Runs the current run as far as it goes, then any runs waiting their turn, while the chat lasts."""
    for _ in range(8):  # a run, then hooks it queued (queue flow, whispers): a handful at most
        state = None if rec.run is None else fl.RunState.from_json(rec.run)
        if state is None or state.status == "ended":
            if not _next_pending(repo, scope, contact, rec, now, config):
                return
            signal = Signal("next")
            state = fl.RunState.from_json(rec.run or {})
        resume = _resume(repo, scope, contact, rec, state, signal, now)
        if state.status == "waiting" and resume is None:
            out.waiting_lambda = state.waiting == "lambda"
            return
        data = contact_data(repo, scope, contact, rec, state, config.options)
        world = RepoWorld(repo, scope, contact, now, config.draw)
        done = fl.advance(state, data, world, config.options, now, resume)
        out.progressed = True
        _note(rec, done, now, out)
        _apply_all(repo, scope, contact, rec, done, now, ids, config, out)
        rec.run = done.state.to_json()
        _park(repo, scope, contact, rec, done.state, now, resumed=resume is not None)
        if contact.ended(now) or done.state.status == "waiting":
            out.waiting_lambda = done.state.waiting == "lambda"
            return
        signal = Signal("next")


def _resume(
    repo: Any, scope: Scope, contact: Contact, rec: FlowRecord, state: fl.RunState, signal: Signal, now: datetime
) -> fl.Resume | None:
    if state.status != "waiting":
        return None
    if state.waiting == "lambda":
        # The runner awaits each invocation under the contact's lock, so a step that finds a run waiting on a
        # function without its answer comes after a restart: the call was cut off.
        return signal.answer or fl.LambdaAnswer(ok=False, payload=None, error=CUT_OFF)
    if state.waiting == "input":
        text = _customer_message_after(repo, scope, contact, rec.watermark)
        if text is not None:
            return fl.CustomerInput(text)
        return fl.CustomerInput(None) if _due(rec, now) else None
    if "BotParticipantDisconnected" in state.events and rec.bot_id and not _present(repo, scope, contact, rec.bot_id):
        return fl.WaitEvent("BotParticipantDisconnected")
    if "CustomerReturned" in state.events and _customer_message_after(repo, scope, contact, rec.watermark) is not None:
        return fl.WaitEvent("CustomerReturned")
    return fl.WaitEvent("WaitCompleted") if _due(rec, now) else None


def _park(
    repo: Any, scope: Scope, contact: Contact, rec: FlowRecord, state: fl.RunState, now: datetime, resumed: bool
) -> None:
    """Notes what a wait that just began must compare against later; a run that moved on clears it. A wait
    begun by a run that was just resumed is a new one even with the deadline of the one before (a virtual
    clock that did not move): it hears only the messages after it."""
    if state.status != "waiting" or state.waiting == "lambda":
        rec.deadline, rec.bot_id = None, None
        rec.phase = "queued" if contact.waiting_in_queue(now) and state.status == "ended" else state.status
        return
    if resumed or rec.phase != "waiting" or rec.deadline != state.deadline:
        rec.watermark = _newest_customer_message(repo, scope, contact)
        bots = [p for p in repo.participants(scope, contact.id) if p.present and p.role == "CUSTOM_BOT"]
        rec.bot_id = bots[0].id if bots else None
    rec.deadline, rec.phase = state.deadline, "waiting"


def _apply_all(
    repo: Any,
    scope: Scope,
    contact: Contact,
    rec: FlowRecord,
    done: fl.Advance,
    now: datetime,
    ids: IdSource,
    config: FlowConfig,
    out: Step,
) -> None:
    for effect in done.effects:
        if contact.ended(now):
            return
        if isinstance(effect, fl.InvokeLambda):
            out.invocations.append(effect)
        else:
            _apply(repo, scope, contact, rec, effect, now, ids, config, out)


def _apply(
    repo: Any,
    scope: Scope,
    contact: Contact,
    rec: FlowRecord,
    effect: Any,
    now: datetime,
    ids: IdSource,
    config: FlowConfig,
    out: Step,
) -> None:
    if isinstance(effect, fl.SendMessage):
        sender = _system(rec, contact, now)
        record(repo, scope, out.items, events.message(contact, sender, "text/plain", effect.text, now, ids))
    elif isinstance(effect, fl.SetAttributes):
        root = repo.get_contact(scope, contact.chain_id) or contact
        root.attributes = {**root.attributes, **effect.attributes}
        root.last_updated = now
        repo.put_contact(scope, root)
        if root.id == contact.id:
            contact.attributes = root.attributes
    elif isinstance(effect, fl.SetTargetQueue):
        rec.queue = {"id": effect.queue.id, "name": effect.queue.name, "arn": effect.queue.arn}
    elif isinstance(effect, fl.Enqueue):
        queues.enqueue(repo, scope, contact, effect.queue.id, now)
        rec.queue = {"id": effect.queue.id, "name": effect.queue.name, "arn": effect.queue.arn}
        rec.pending = [("queue", _queue_flow(repo, scope, contact, rec))]
    elif isinstance(effect, fl.SetEventHook):
        rec.hooks[effect.key] = effect.flow_id
    elif isinstance(effect, fl.UpdateContactData):
        _update_data(repo, scope, contact, rec, effect, now)
    elif isinstance(effect, fl.EndContact):
        out.items += end_contact(repo, scope, contact, config.disconnect_reason, now, ids)
        rec.pending = []


def _update_data(
    repo: Any, scope: Scope, contact: Contact, rec: FlowRecord, effect: fl.UpdateContactData, now: datetime
) -> None:
    if effect.name is not None:
        rec.name = effect.name
    if effect.language_code is not None:
        rec.language_code = effect.language_code
    if effect.description is not None:
        contact.description = effect.description
        contact.last_updated = now
        repo.put_contact(scope, contact)


def _queue_flow(repo: Any, scope: Scope, contact: Contact, rec: FlowRecord) -> str:
    """The CustomerQueue hook's flow, else the instance's Default customer queue (flows.md §7.3)."""
    hooked = rec.hooks.get("CustomerQueue")
    if hooked:
        return hooked
    page = repo.list_flows(scope, contact.instance_id, frozenset({"CUSTOMER_QUEUE"}), None, 1000)
    named = [f for f in page.items if f.name == DEFAULT_QUEUE_FLOW] or page.items
    return named[0].id if named else ""


def _next_pending(
    repo: Any, scope: Scope, contact: Contact, rec: FlowRecord, now: datetime, config: FlowConfig
) -> bool:
    """Starts the next run waiting its turn (a queue flow, a whisper, the disconnect flow)."""
    while rec.pending:
        kind, flow_id = rec.pending.pop(0)
        flow = find_published(repo, scope, contact.instance_id, flow_id) if flow_id else None
        if flow is None or runnable_problems(flow.content):
            rec.note([_trail(now, flow_id or "-", "-", "-", None, f"{kind} flow {flow_id or '(none)'} not run")])
            continue
        rec.kind = kind
        rec.run = fl.start(as_ref(scope, flow), contact_data(repo, scope, contact, rec, None, config.options)).to_json()
        rec.phase = "running"
        return True
    return False


def _agent_left(
    repo: Any, scope: Scope, contact: Contact, rec: FlowRecord, now: datetime, ids: IdSource, out: Step
) -> None:
    """flows.md §7.5: with only the customer left, the disconnect flow runs; without one the chat ends."""
    people = [p for p in repo.participants(scope, contact.id) if p.present]
    if any(p.role in ("AGENT", "SUPERVISOR") for p in people) or not any(p.role == "CUSTOMER" for p in people):
        return
    hooked = rec.hooks.get("CustomerRemaining")
    if hooked:
        rec.pending = [("disconnect", hooked)]
        _finish_run(rec, "the agent left", now)
        return
    out.items += end_contact(repo, scope, contact, "AGENT_DISCONNECT", now, ids)
    _finish(rec, "the agent left; no disconnect flow is set", now)


def accept(rec: FlowRecord, now: datetime) -> None:
    """An agent accepted the queued chat: the queue flow stops; whisper hooks run when set (flows.md §7.4)."""
    _finish_run(rec, "an agent accepted the chat", now)
    rec.pending = [("whisper", rec.hooks[key]) for key in ("CustomerWhisper", "AgentWhisper") if rec.hooks.get(key)]
    rec.phase = "ended" if not rec.pending else "running"


def _finish_run(rec: FlowRecord, why: str, now: datetime) -> None:
    if rec.run is not None:
        state = fl.RunState.from_json(rec.run)
        if state.status != "ended":
            state.status, state.waiting, state.outcome = "ended", None, why
            rec.run = state.to_json()
            rec.note([_trail(now, state.flow_name, state.action or "-", "-", None, f"run stopped: {why}")])
    rec.deadline, rec.bot_id = None, None


def _finish(rec: FlowRecord, why: str, now: datetime) -> None:
    _finish_run(rec, why, now)
    rec.pending, rec.phase, rec.closed = [], "ended", True


def _note(rec: FlowRecord, done: fl.Advance, now: datetime, out: Step) -> None:
    rec.note([_trail(now, t.flow, t.action, t.type, t.branch, t.detail) for t in done.trail])
    for t in done.trail:
        if t.unsupported:
            branch = t.branch or "end"
            out.notes.append(
                f"flow.unsupported type={t.type} action={t.action} flow={t.flow} contact={rec.contact_id} → {branch}"
            )


def _trail(now: datetime, flow: str, action: str, kind: str, branch: str | None, detail: str) -> dict[str, Any]:
    return {"time": now, "flow": flow, "action": action, "type": kind, "branch": branch, "detail": detail}


@lru_cache(maxsize=256)
def _problems(content: str) -> tuple[str, ...]:
    return tuple(problems(content, "structure"))


def runnable_problems(content: str) -> list[str]:
    """Why stored content cannot run (flows.md §2 rows 1-6), remembered per content: flows run far more
    often than they change."""
    return list(_problems(content))


def _system(rec: FlowRecord, contact: Contact, now: datetime) -> Participant:
    """The sender of a flow's own messages: role SYSTEM (participant-api.md §4); never a stored participant."""
    return Participant(
        id=rec.system_id,
        contact_id=contact.id,
        instance_id=contact.instance_id,
        role="SYSTEM",
        display_name="SYSTEM_MESSAGE",
        joined_at=now,
    )


def _due(rec: FlowRecord, now: datetime) -> bool:
    return rec.deadline is not None and rec.deadline <= now


def _present(repo: Any, scope: Scope, contact: Contact, participant_id: str) -> bool:
    return any(p.id == participant_id and p.present for p in repo.participants(scope, contact.id))


def _customer_messages(repo: Any, scope: Scope, contact: Contact) -> list[Item]:
    found = repo.chain_items(scope, contact.chain_id, frozenset({"MESSAGE"}))
    return [i for i in found if i.role == "CUSTOMER" and i.contact_id == contact.id]


def _newest_customer_message(repo: Any, scope: Scope, contact: Contact) -> int:
    return max((i.seq for i in _customer_messages(repo, scope, contact)), default=0)


def _customer_message_after(repo: Any, scope: Scope, contact: Contact, seq: int) -> str | None:
    later = [i for i in _customer_messages(repo, scope, contact) if i.seq > seq]
    return min(later, key=lambda i: i.seq).content or "" if later else None


__all__ = ["FlowConfig", "Signal", "Step", "accept", "step", "wants_step"]
