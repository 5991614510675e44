"""What every service shares: the request context, and running a domain unit of work with
ClientToken replay and the translation of domain errors into the service's wire errors.

A replayable answer is stored WITHOUT secrets: a handler's `present` builds the storable part and
its `reveal` adds the tokens and signed URLs, re-derived (tokens.py) on the first answer and on every
replay alike, so a leaked idempotency table holds no live credential."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from parley.chat.errors import DomainError, IdempotencyMismatch, InvalidFlowContent
from parley.chat.model import Scope
from parley.chat.ports import UnitOfWork
from parley.protocol import idempotency
from parley.protocol.errors import ServiceError, modelled
from parley.protocol.pagination import InvalidToken, PageTokens
from parley.protocol.spec import OperationSpec
from parley.services.effects import Aftermath, Committed
from parley.settings import Settings
from parley.store.port import Store as Store  # the one store port; services name it from here

T = TypeVar("T")
Output = dict[str, Any]
VALIDATION = "<validation>"  # in an error table: the operation's own validation error


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Complete before a handler runs."""

    request_id: str
    operation: OperationSpec
    scope: Scope
    now: datetime
    base_url: str = "http://127.0.0.1:4599"  # where this server is reached, for URLs it hands out


Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[Output]]
Reveal = Callable[[Output], Output]  # a stored (secret-free) answer -> the answer with its credentials


def validation_code(op: OperationSpec, settings: Settings) -> str:
    """PARLEY_VALIDATION_ERROR: `auto` picks the model's choice for the operation."""
    if settings.validation_error == "auto" or op.service != "connect":
        return op.validation_error
    return settings.validation_error


# ClientToken reused with other parameters: the first of these the operation declares (issue 12).
MISMATCH_PREFERENCE = (
    "IdempotencyException",
    "ConflictException",
    "InvalidParameterException",
    "InvalidRequestException",
)


def mismatch_code(op: OperationSpec, settings: Settings) -> str:
    """PARLEY_IDEMPOTENCY_MISMATCH_ERRORS names it per operation; else the first declared preference."""
    chosen = settings.idempotency_mismatch_errors.get(op.name)
    if chosen:
        return chosen
    return next((code for code in MISMATCH_PREFERENCE if code in op.error_codes), op.validation_error)


def translate(
    op: OperationSpec, error: DomainError, table: Mapping[type[DomainError], str], settings: Settings
) -> ServiceError:
    if isinstance(error, IdempotencyMismatch):
        return modelled(op.service, mismatch_code(op, settings), error.message)
    code = next((table[cls] for cls in type(error).__mro__ if cls in table), None)
    if code is None:
        raise error
    if code == VALIDATION:
        code = validation_code(op, settings)
    members = {"problems": error.problems} if isinstance(error, InvalidFlowContent) else {}
    return modelled(op.service, code, error.message, **members)


class UnitRunner:
    """Runs a unit of work for a handler; replays ClientToken retries; translates domain errors; carries out
    what a committed unit left to do (`commit`)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        errors: Mapping[type[DomainError], str],
        after: Aftermath,
        mismatch_is_new: bool | None = None,
    ) -> None:
        self.store = store
        self.after = after
        self._settings = settings
        self._errors = errors
        self._mismatch_is_new = settings.idempotency_mismatch == "new" if mismatch_is_new is None else mismatch_is_new

    async def write(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        unit: Callable[[UnitOfWork], T],
        present: Callable[[T], Output],
        owner: Scope | None = None,
        reveal: Reveal | None = None,
    ) -> Output:
        """`owner` scopes ClientTokens (default: the caller's account and region, and the InstanceId).
        `present` must return no secret: what it returns is stored for replay; `reveal` adds them."""
        member = ctx.operation.idempotency_member
        token = (params.get(member) or None) if member else None  # an empty ClientToken is no token
        try:
            if token is None or member is None:
                stored = present(await self.store.run(unit))
            else:
                stored = await self.store.run(self._idempotent(ctx, params, member, token, unit, present, owner))
            return reveal(stored) if reveal else stored
        except DomainError as error:
            raise translate(ctx.operation, error, self._errors, self._settings) from None

    async def commit(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        unit: Callable[[UnitOfWork], Committed],
        owner: Scope | None = None,
        reveal: Reveal | None = None,
    ) -> Output:
        """A unit that answers with its output and its effects together; the effects are carried out once it
        has committed. A ClientToken replay answers the stored output and has no effects. As for `write`, the
        output holds no secret; `reveal` adds them to the first answer and to every replay."""
        effects: list[Committed] = []

        def run(uow: UnitOfWork) -> Committed:
            done = unit(uow)
            effects.append(done)
            return done

        output = await self.write(ctx, params, run, _output, owner, reveal)
        if effects:  # none on a replay
            self.after.apply(effects[-1].effects)
        return output

    async def read(
        self, ctx: RequestContext, unit: Callable[[UnitOfWork], T], present: Callable[[T], Output]
    ) -> Output:
        try:
            return present(await self.store.read(unit))
        except DomainError as error:
            raise translate(ctx.operation, error, self._errors, self._settings) from None

    def _idempotent(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        member: str,
        token: str,
        unit: Callable[[UnitOfWork], T],
        present: Callable[[T], Output],
        owner: Scope | None,
    ) -> Callable[[UnitOfWork], Output]:
        key = idempotency.key(ctx.operation.qualified_name, str(params.get("InstanceId", "")), token)
        print_ = idempotency.fingerprint(params, member, idempotency.plain_input(ctx.operation))
        expires = ctx.now + timedelta(seconds=self._settings.idempotency_ttl_seconds)
        mismatch_is_new = self._mismatch_is_new
        scope = owner or ctx.scope

        def replaying(uow: UnitOfWork) -> Output:
            found = uow.get_idempotent(scope, key, ctx.now)
            if found is not None:
                if found[0] == print_:
                    return idempotency.decode_output(found[1])
                if not mismatch_is_new:
                    raise IdempotencyMismatch(
                        f"ClientToken {token!r} was already used with different parameters for {ctx.operation.name}"
                    )
            output = present(unit(uow))
            uow.put_idempotent(scope, key, print_, idempotency.encode_output(output), expires)
            return output

        return replaying


def _output(done: Committed) -> Output:
    return done.output


class Paging:
    """NextTokens bound to the caller's account and region and to what was listed (`binding`)."""

    def __init__(self, pages: PageTokens, settings: Settings) -> None:
        self._pages = pages
        self._settings = settings

    def after(self, ctx: RequestContext, binding: str, token: str | None) -> str | None:
        """The key to continue after; a token that is not ours is the operation's validation error."""
        if token is None:
            return None
        try:
            return self._pages.decode(f"{ctx.scope.account}/{ctx.scope.region}/{binding}", token)
        except InvalidToken as exc:
            code = validation_code(ctx.operation, self._settings)
            raise modelled(ctx.operation.service, code, f"{exc}: {token[:16]}...") from None

    def next(self, ctx: RequestContext, binding: str, after: str | None) -> str | None:
        if after is None:
            return None
        return self._pages.encode(f"{ctx.scope.account}/{ctx.scope.region}/{binding}", after)
