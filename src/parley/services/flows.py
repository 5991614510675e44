"""The flow runner (flows.md §3): drives each chat's flow off the request path.

A committed unit of work wakes it (`kick`, or an observed item); it then runs `flow_runs.step` in units of
its own, one contact at a time (a lock per contact, never a store lock across an await), and carries out
what each step leaves: items to the sockets, the wait's deadline to the timers, Lambda functions to the
invoker. A synchronous invocation is awaited outside any unit of work, so the function's own calls to
Parley are served meanwhile; its answer resumes the run in the next step. Runs' state lives in the store,
so a restarted durable Parley picks up every live run (`resume_all`).

Several nodes: a node steps a run only while it holds the run's lease (`flow:<contact>`, claimed in the
step's own unit of work, kept while a Lambda function runs, given up when the run waits or ends); every
node's `sweep` resumes the due runs nobody holds, so a run whose node died goes on elsewhere, in order.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from parley.chat import events
from parley.chat.flow_record import FlowRecord
from parley.chat.model import Item, Scope
from parley.chat.policy import IdSource
from parley.clock import Clock
from parley.collector import permanent
from parley.lazy import LazyModule
from parley.outbound.lambdas import Invocation, LambdaInvoker
from parley.services.base import Store
from parley.services.effects import Pushes, Timers
from parley.services.leases import NodeLeases, flow_lease
from parley.settings import Settings

if TYPE_CHECKING:  # imported on first use, not at start-up (parley/lazy.py)
    from parley.chat import lambda_functions
else:
    lambda_functions = LazyModule("parley.chat.lambda_functions", globals())

if TYPE_CHECKING:  # the flow language (~25 ms of imports) is loaded when a flow first runs, not at start-up
    from parley.chat import flow_runs
    from parley.chat.flowlang import interpreter as fl

log = logging.getLogger("parley.flows")
MAX_STEPS_PER_WAKE = 64  # steps one wake-up may take (each a run's stretch up to a wait): a runaway guard
Key = tuple[Scope, str]
EDGE_SIGNALS = frozenset({"accepted", "agent-left"})  # what a step cannot read back from the store


class Functions(Protocol):
    """Where the runner's Lambda calls go: the invoker (flows.md §6), behind the association rule."""

    async def call(self, scope: Scope, contact_id: str, invocation: fl.InvokeLambda) -> Called: ...
    def note_branch(self, record_id: str, branch: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Called:
    answer: fl.LambdaAnswer
    record_id: str  # the invocation's entry in /_parley/lambda/invocations
    summary: str  # for the trail: "<function>: ok via python in 12 ms"


class InvokerFunctions:
    """`Functions` over the LambdaInvoker; with --lambda-require-association, a function the instance has not
    associated takes the Error branch without being called."""

    def __init__(self, invoker: LambdaInvoker, store: Store, require_association: bool) -> None:
        self._invoker = invoker
        self._store = store
        self._require = require_association

    async def call(self, scope: Scope, contact_id: str, invocation: fl.InvokeLambda) -> Called:
        from parley.chat.flowlang import interpreter as fl

        arn = invocation.function_arn
        if self._require and not await self._store.read(lambda repo: _associated(repo, scope, contact_id, arn)):
            why = f"{arn} is not associated with the instance (--lambda-require-association)"
            return Called(fl.LambdaAnswer(ok=False, error=why), "", f"{arn}: not called: {why}")
        request = Invocation(
            arn, invocation.event, invocation.timeout_seconds, invocation.asynchronous, contact_id, scope
        )
        result = await self._invoker.invoke(request)
        answer = fl.LambdaAnswer(ok=result.ok, payload=result.payload, error=result.error)
        outcome = result.outcome if result.ok else f"{result.outcome}: {result.error}"
        return Called(answer, result.record_id, f"{arn}: {outcome} via {result.target} in {result.duration_ms:.0f} ms")

    def note_branch(self, record_id: str, branch: str) -> None:
        if record_id:
            self._invoker.note_branch(record_id, branch)


class FlowRunner:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        ids: IdSource,
        clock: Clock,
        pusher: Pushes,
        timers: Timers,
        leases: NodeLeases,
        functions: Functions | None = None,
    ) -> None:
        self._store = store
        self._leases = leases
        self._ids = ids
        self._clock = clock
        self._pusher = pusher
        self._timers = timers
        self._functions = functions
        self.enabled = settings.flows == "run"
        self.shared = False  # several nodes may share the store: runs this node never stepped may be live
        self._settings = settings
        self._loaded_config: flow_runs.FlowConfig | None = None
        self._locks: dict[Key, asyncio.Lock] = {}
        self._holders: dict[Key, int] = {}  # drives holding or awaiting each contact's lock
        self._queued: set[Key] = set()
        self._live: dict[str, Scope] = permanent({})  # contacts whose flow record may still run
        self._deadlines: dict[Key, datetime | None] = permanent({})
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def _config(self) -> flow_runs.FlowConfig:
        """Made when a run is first looked at: it loads the flow language."""
        if self._loaded_config is None:
            from parley.chat import flow_runs

            settings = self._settings
            reason = settings.flow_disconnect_reason
            self._loaded_config = flow_runs.FlowConfig(
                options=options(settings),
                draw=random.Random(settings.seed),
                start=settings.flow_start,
                disconnect_reason=None if reason == "none" else reason,
            )
        return self._loaded_config

    # -- waking ----------------------------------------------------------------------------------
    def kick(self, scope: Scope, contact_id: str, reason: str) -> None:
        """After a commit: look at this contact's flow (start it, resume it, stop it)."""
        if not self.enabled:
            return
        key = (scope, contact_id)
        if key in self._queued:
            return  # a look is already due, and it will see this commit too
        self._queued.add(key)
        from parley.chat import flow_runs

        self._spawn(self._drive(key, flow_runs.Signal(reason)))

    def observe(self, items: list[Item]) -> None:
        """Pushed items that may resume a waiting run: a customer's message, someone leaving, the end."""
        for item in items:
            reason = _wake_reason(item)
            if reason is None:
                continue
            scope = self._live.get(item.contact_id)
            if scope is not None:
                self.kick(scope, item.contact_id, reason)
            elif self.shared and self.enabled:
                self._spawn(self._kick_unknown(item.contact_id, reason))

    async def _kick_unknown(self, contact_id: str, reason: str) -> None:
        """Several nodes: a run another node stepped is live without this node knowing; the store says whether
        the item concerns it (an agent leaving always does: the store cannot show that later)."""
        from parley.chat import flow_runs

        now, config = self._clock.now(), self._config

        def unit(repo: Any) -> Scope | None:
            found = repo.find_contact_any(contact_id)
            rec = None if found is None else repo.get_flow_record(found[0], contact_id)
            if found is None or rec is None or not rec.live:
                return None
            due = reason == "agent-left" or flow_runs.wants_step(repo, found[0], contact_id, now, config)
            return found[0] if due else None

        scope = await self._store.read(unit)
        if scope is not None:
            self.kick(scope, contact_id, reason)

    async def check(self, scope: Scope, contact_id: str, now: datetime) -> datetime | None:
        """The flow channel's timer: a wait's deadline has come."""
        from parley.chat import flow_runs

        await self._drive((scope, contact_id), flow_runs.Signal("deadline"))
        return self._deadlines.get((scope, contact_id))

    async def accepted(self, scope: Scope, contact_id: str) -> None:
        """An agent accepted the queued chat: stop the queue flow, run the whisper hooks (flows.md §7.4)."""
        if self.enabled:
            from parley.chat import flow_runs

            await self._drive((scope, contact_id), flow_runs.Signal("accepted"))

    async def resume_all(self) -> None:
        """At start: every live contact is looked at again (waits resume, unstarted flows start)."""
        if not self.enabled:
            return
        keys = await self._store.read(lambda repo: [*repo.live_flow_records(), *_live_chats(repo)])
        for scope, contact_id in dict.fromkeys(keys):
            self.kick(scope, contact_id, "restart")

    async def sweep(self) -> int:
        """Several nodes: kicks the runs that are due and that no node holds (their node died mid-run, or
        before it looked at a commit, or with a wait's timer armed); answers how many."""
        if not self.enabled:
            return 0
        from parley.chat import flow_runs

        now, config = self._clock.now(), self._config

        def unit(repo: Any) -> list[Key]:
            held = self._leases.held_in(repo, flow_lease(""))
            keys = dict.fromkeys([*repo.live_flow_records(), *_live_chats(repo)])
            return [
                (scope, contact_id)
                for scope, contact_id in keys
                if flow_lease(contact_id) not in held and flow_runs.wants_step(repo, scope, contact_id, now, config)
            ]

        due = [key for key in await self._store.read(unit) if key not in self._queued and key not in self._holders]
        for scope, contact_id in due:
            log.info("flow.takeover contact=%s: due and held by no node", contact_id)
            self.kick(scope, contact_id, "restart")
        return len(due)

    async def idle(self, contact_id: str, timeout: float) -> bool:
        """Whether the contact's flow settles (waits, queues or ends, with nothing due) within `timeout`."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            if not any(key[1] == contact_id for key in (*self._queued, *self._holders)):  # none due or running
                return True
            await asyncio.sleep(0.01)
        return False

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- driving ---------------------------------------------------------------------------------
    async def _drive(self, key: Key, signal: flow_runs.Signal) -> None:
        """One drive at a time per contact: kicks, timers and accepts queue on the contact's lock, which lives
        as long as some drive holds or awaits it (so two can never hold two different locks of one contact)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                self._queued.discard(key)
                try:
                    await self._run(key, signal)
                except Exception:
                    log.exception("flow run of contact %s failed", key[1])
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]

    async def _run(self, key: Key, signal: flow_runs.Signal) -> None:
        from parley.chat import flow_runs

        for _ in range(MAX_STEPS_PER_WAKE):
            step = await self._claimed_step(key, signal)
            if step is None:
                return  # another node holds the run: it looks at the store again before it lets go
            self._after(key, step)
            self._note_branch(signal, step)
            answer = await self._invocations(key, step)
            if answer is not None:
                signal = answer
            elif not step.progressed:
                return
            else:
                signal = flow_runs.Signal("next")

    async def _claimed_step(self, key: Key, signal: flow_runs.Signal) -> flow_runs.Step | None:
        """A step, or None when another node holds the run. A signal the store does not show (an accept, an
        agent leaving) waits for the holder to let go, or for its lease to lapse, rather than be lost."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 2 * self._leases.ttl
        while True:
            step = await self._store.run(self._unit(key[0], key[1], signal, self._clock.now()))
            if step is not None or signal.reason not in EDGE_SIGNALS or loop.time() > give_up:
                return step
            await asyncio.sleep(min(0.1, self._leases.ttl / 10))

    def _unit(
        self, scope: Scope, contact_id: str, signal: flow_runs.Signal, now: datetime
    ) -> Callable[[Any], flow_runs.Step | None]:
        """One step under the run's lease (None: another node holds it); a step that finds nothing to do
        lets the lease go in the same unit, so a commit after it is seen by whichever node claims next."""
        from parley.chat import flow_runs

        lease = flow_lease(contact_id)

        def unit(repo: Any) -> flow_runs.Step | None:
            if not self._leases.claim_in(repo, lease):
                return None
            step = flow_runs.step(repo, scope, contact_id, signal, now, self._ids, self._config)
            if not step.progressed:
                self._leases.release_in(repo, lease)
            return step

        return unit

    def _after(self, key: Key, step: flow_runs.Step) -> None:
        for note in step.notes:
            log.warning(note)
        if step.live:
            self._live[key[1]] = key[0]
        else:
            self._live.pop(key[1], None)
        if step.deadline is None:  # as good as absent to `check`, and one key less a chat to keep
            self._deadlines.pop(key, None)
        else:
            self._deadlines[key] = step.deadline
        self._timers.arm(key[0], key[1], step.deadline)
        self._pusher.push(step.items)

    async def _invocations(self, key: Key, step: flow_runs.Step) -> flow_runs.Signal | None:
        """Fires the asynchronous invocations; awaits the synchronous one and answers the signal it resumes."""
        from parley.chat import flow_runs

        resume = None
        for invocation in step.invocations:
            if invocation.asynchronous:
                self._spawn(self._call_and_forget(key, invocation))
            elif step.waiting_lambda and resume is None:
                async with self._leases.renewing(flow_lease(key[1])):
                    called = await self._call(key, invocation)
                detail = _lambda_trail(step.record, called.summary)
                resume = flow_runs.Signal("lambda", answer=called.answer, detail=detail, record_id=called.record_id)
        return resume

    async def _call_and_forget(self, key: Key, invocation: fl.InvokeLambda) -> None:
        """ASYNCHRONOUS: the flow has gone on; the answer is recorded by the invoker and otherwise dropped."""
        await self._call(key, invocation)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call(self, key: Key, invocation: fl.InvokeLambda) -> Called:
        from parley.chat.flowlang import interpreter as fl

        if self._functions is None:
            return Called(fl.LambdaAnswer(ok=False, error="Lambda functions are not configured"), "", "not called")
        try:
            return await self._functions.call(key[0], key[1], invocation)
        except Exception as exc:  # the invoker answers errors itself; this only guards the run
            log.exception("lambda invocation for contact %s failed", key[1])
            return Called(fl.LambdaAnswer(ok=False, error=str(exc)), "", f"{invocation.function_arn}: {exc}")

    def _note_branch(self, signal: flow_runs.Signal, step: flow_runs.Step) -> None:
        """The invocation record learns which branch the flow took with its answer (flows.md §6.5)."""
        if self._functions is None or not signal.record_id or step.record is None:
            return
        taken = [t for t in step.record.trail if t["type"] == "InvokeLambdaFunction" and t["branch"]]
        if taken:
            self._functions.note_branch(signal.record_id, str(taken[-1]["branch"]))

    # -- the admin view --------------------------------------------------------------------------
    async def describe(self, contact_id: str) -> dict[str, Any] | None:
        def unit(repo: Any) -> FlowRecord | None:
            found = repo.find_contact_any(contact_id)
            return None if found is None else repo.get_flow_record(found[0], contact_id)

        return describe(await self._store.read(unit))


def _lambda_trail(rec: FlowRecord | None, detail: str) -> tuple[str, str, str, str | None, str]:
    from parley.chat.flowlang import interpreter as fl

    state = fl.RunState.from_json(rec.run) if rec is not None and rec.run else None
    flow = state.flow_name if state is not None else "-"
    action = (state.action or "-") if state is not None else "-"
    return (flow, action, "InvokeLambdaFunction", None, f"lambda {detail}")


def _wake_reason(item: Item) -> str | None:
    if item.content_type == events.LEFT and item.role in ("AGENT", "SUPERVISOR"):
        return "agent-left"
    if item.content_type in (events.LEFT, events.ENDED) or (item.type == "MESSAGE" and item.role == "CUSTOMER"):
        return "item"
    return None


def _associated(repo: Any, scope: Scope, contact_id: str, arn: str) -> bool:
    contact = repo.get_contact(scope, contact_id)
    return contact is not None and lambda_functions.is_associated(repo, scope, contact.instance_id, arn)


def _live_chats(repo: Any) -> list[Key]:
    return [(scope, contact.id) for scope, contact in repo.live_contacts() if contact.channel == "CHAT"]


def describe(rec: FlowRecord | None) -> dict[str, Any] | None:
    """GET /_parley/contacts/{id}/flow (flows.md §9)."""
    if rec is None:
        return None
    from parley.chat.flowlang import interpreter as fl

    state = fl.RunState.from_json(rec.run) if rec.run else None
    waiting = None
    if state is not None and state.status == "waiting":
        waiting = ["lambda"] if state.waiting == "lambda" else (state.events or [state.waiting or "wait"])
    return {
        "flow": state.flow_name if state else None,
        "flowId": state.flow_id if state else None,
        "kind": rec.kind,
        "action": state.action if state else None,
        "state": rec.phase,
        "waitingFor": waiting,
        "deadline": rec.deadline,
        "external": state.external if state else {},
        "hooks": rec.hooks,
        "queue": rec.queue,
        "trail": rec.trail,
    }


def options(settings: Settings) -> fl.FlowOptions:
    from parley.chat.flowlang import interpreter as fl

    return fl.FlowOptions(
        unsupported=settings.unsupported_action,
        chat_text_input=settings.chat_text_input,
        hours=settings.hours,
        max_steps=settings.flow_max_steps,
        string_map=settings.lambda_string_map,
        external_on_error=settings.external_on_error,
        language_code=settings.language_code,
    )
