"""An instance and what it owns (flows, queues, hours of operation, Lambda functions), and views: the
`Repo` methods over them, in memory. Listing pages go by id (or ARN) order, as the SQLite store's do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from parley.chat.model import (
    ContactFlow,
    HoursOfOperation,
    Instance,
    LambdaFunction,
    Page,
    Queue,
    Scope,
    View,
)
from parley.store.memory.copies import Row, freeze, thaw
from parley.store.memory.state import MISSING, MemoryState, Owned

T = TypeVar("T")
UNIQUE_NAMES = frozenset({"flows", "queues"})  # tables with a UNIQUE (…, instance_id, name) index
OWNED_CLASSES: dict[str, type[Any]] = {
    "flows": ContactFlow,
    "queues": Queue,
    "hours": HoursOfOperation,
    "lambda_functions": LambdaFunction,
}


def page(rows: list[T], keys: list[str], limit: int) -> Page[T]:
    if len(rows) > limit:
        return Page(rows[:limit], keys[limit - 1])
    return Page(rows, None)


class MemoryCatalog(MemoryState):
    # instances ---------------------------------------------------------------------------------------
    def get_instance(self, scope: Scope, instance_id: str) -> Instance | None:
        found = self.instances.get((scope.account, scope.region, instance_id))
        return thaw(Instance, found) if found is not None else None

    def put_instance(self, scope: Scope, instance: Instance) -> None:
        self._put(self.instances, (scope.account, scope.region, instance.id), freeze(instance))
        self._add(self.scope_instances, (scope.account, scope.region), instance.id)

    def delete_instance(self, scope: Scope, instance_id: str) -> None:
        account, region = scope.account, scope.region
        self._drop(self.instances, (account, region, instance_id))
        self._discard(self.scope_instances, (account, region), instance_id)
        for kind, table in self._owned_tables():
            for row_id in self.members(self.instance_rows, (kind, account, region, instance_id)):
                self._drop_owned(kind, table, (account, region, instance_id, row_id))
        for key, row in list(self.queued.items()):
            if key[:2] == (account, region) and row[0] == instance_id:
                self.drop_queued(key)

    def hold_instance(self, scope: Scope, instance_id: str) -> None:
        """Units run one at a time here: nothing to hold."""

    def list_instances(self, scope: Scope, after: str | None, limit: int) -> Page[Instance]:
        ids = sorted(i for i in self.members(self.scope_instances, (scope.account, scope.region)) if i > (after or ""))
        ids = ids[: limit + 1]
        return page([thaw(Instance, self.instances[(scope.account, scope.region, i)]) for i in ids], ids, limit)

    def count_instances(self, scope: Scope) -> int:
        return len(self.scope_instances.get((scope.account, scope.region), ()))

    def alias_taken(self, scope: Scope, alias: str) -> bool:
        ids = self.members(self.scope_instances, (scope.account, scope.region))
        return any(thaw(Instance, self.instances[(scope.account, scope.region, i)]).alias == alias for i in ids)

    # what an instance owns ---------------------------------------------------------------------------
    def _owned_tables(self) -> tuple[tuple[str, dict[Owned, Row]], ...]:
        return (
            ("flows", self.flows),
            ("queues", self.queues),
            ("hours", self.hours),
            ("lambda_functions", self.lambda_functions),
        )

    def _put_owned(self, kind: str, table: dict[Owned, Row], scope: Scope, record: Any, row_id: str) -> None:
        """INSERT OR REPLACE: a row with the same key or (for flows and queues) the same name is replaced."""
        account, region, instance_id = scope.account, scope.region, record.instance_id
        name = getattr(record, "name", None) if kind in UNIQUE_NAMES else None
        if name is not None:
            other = self.unique_names.get((kind, account, region, instance_id, name))
            if other is not None and other != row_id:
                self._drop_owned(kind, table, (account, region, instance_id, other))
        old = self._put(table, (account, region, instance_id, row_id), freeze(record))
        if name is not None:
            old_name = None if old is MISSING else thaw(type(record), old).name
            if old_name is not None and old_name != name:
                self._drop(self.unique_names, (kind, account, region, instance_id, old_name))
            self._put(self.unique_names, (kind, account, region, instance_id, name), row_id)
        self._add(self.instance_rows, (kind, account, region, instance_id), row_id)

    def _drop_owned(self, kind: str, table: dict[Owned, Row], key: Owned) -> bool:
        old = self._drop(table, key)
        if old is MISSING:
            return False
        account, region, instance_id, row_id = key
        self._discard(self.instance_rows, (kind, account, region, instance_id), row_id)
        if kind in UNIQUE_NAMES:
            name = thaw(OWNED_CLASSES[kind], old).name
            self._drop(self.unique_names, (kind, account, region, instance_id, name))
        return True

    def _get_owned(self, kind: str, scope: Scope, instance_id: str, row_id: str) -> Any:
        found = self._owned(kind).get((scope.account, scope.region, instance_id, row_id))
        return thaw(OWNED_CLASSES[kind], found) if found is not None else None

    def _owned(self, kind: str) -> dict[Owned, Row]:
        table: dict[Owned, Row] = getattr(self, kind)
        return table

    def _named(self, kind: str, scope: Scope, instance_id: str, name: str) -> Any:
        row_id = self.unique_names.get((kind, scope.account, scope.region, instance_id, name))
        return None if row_id is None else self._get_owned(kind, scope, instance_id, row_id)

    def _list_owned(
        self,
        kind: str,
        scope: Scope,
        instance_id: str,
        after: str | None,
        limit: int,
        wanted: Callable[[Any], bool] = lambda row: True,
    ) -> Page[Any]:
        account, region, table, cls = scope.account, scope.region, self._owned(kind), OWNED_CLASSES[kind]
        rows, keys = [], []
        for row_id in sorted(self.members(self.instance_rows, (kind, account, region, instance_id))):
            row = thaw(cls, table[(account, region, instance_id, row_id)])
            if row_id > (after or "") and wanted(row):
                rows.append(row)
                keys.append(row_id)
                if len(rows) > limit:
                    break
        return page(rows, keys, limit)

    # flows -------------------------------------------------------------------------------------------
    def get_flow(self, scope: Scope, instance_id: str, flow_id: str) -> ContactFlow | None:
        found: ContactFlow | None = self._get_owned("flows", scope, instance_id, flow_id)
        return found

    def put_flow(self, scope: Scope, flow: ContactFlow) -> None:
        self._put_owned("flows", self.flows, scope, flow, flow.id)

    def flow_name_taken(self, scope: Scope, instance_id: str, name: str) -> bool:
        return ("flows", scope.account, scope.region, instance_id, name) in self.unique_names

    def list_flows(
        self, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
    ) -> Page[ContactFlow]:
        return self._list_owned("flows", scope, instance_id, after, limit, lambda f: not types or f.type in types)

    # queues ------------------------------------------------------------------------------------------
    def get_queue(self, scope: Scope, instance_id: str, queue_id: str) -> Queue | None:
        found: Queue | None = self._get_owned("queues", scope, instance_id, queue_id)
        return found

    def queue_by_name(self, scope: Scope, instance_id: str, name: str) -> Queue | None:
        found: Queue | None = self._named("queues", scope, instance_id, name)
        return found

    def put_queue(self, scope: Scope, queue: Queue) -> None:
        self._put_owned("queues", self.queues, scope, queue, queue.id)

    def list_queues(
        self, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
    ) -> Page[Queue]:
        return self._list_owned("queues", scope, instance_id, after, limit, lambda q: not types or q.type in types)

    # hours of operation ------------------------------------------------------------------------------
    def get_hours(self, scope: Scope, instance_id: str, hours_id: str) -> HoursOfOperation | None:
        found: HoursOfOperation | None = self._get_owned("hours", scope, instance_id, hours_id)
        return found

    def hours_by_name(self, scope: Scope, instance_id: str, name: str) -> HoursOfOperation | None:
        """Names need not be unique here: the first by id, as SQLite's ORDER BY id LIMIT 1."""
        account, region = scope.account, scope.region
        for row_id in sorted(self.members(self.instance_rows, ("hours", account, region, instance_id))):
            found = thaw(HoursOfOperation, self.hours[(account, region, instance_id, row_id)])
            if found.name == name:
                return found
        return None

    def put_hours(self, scope: Scope, hours: HoursOfOperation) -> None:
        self._put_owned("hours", self.hours, scope, hours, hours.id)

    def list_hours(self, scope: Scope, instance_id: str, after: str | None, limit: int) -> Page[HoursOfOperation]:
        return self._list_owned("hours", scope, instance_id, after, limit)

    # Lambda functions --------------------------------------------------------------------------------
    def get_lambda_function(self, scope: Scope, instance_id: str, arn: str) -> LambdaFunction | None:
        found: LambdaFunction | None = self._get_owned("lambda_functions", scope, instance_id, arn)
        return found

    def put_lambda_function(self, scope: Scope, function: LambdaFunction) -> None:
        self._put_owned("lambda_functions", self.lambda_functions, scope, function, function.arn)

    def delete_lambda_function(self, scope: Scope, instance_id: str, arn: str) -> bool:
        key = (scope.account, scope.region, instance_id, arn)
        return self._drop_owned("lambda_functions", self.lambda_functions, key)

    def list_lambda_functions(
        self, scope: Scope, instance_id: str, after: str | None, limit: int
    ) -> Page[LambdaFunction]:
        return self._list_owned("lambda_functions", scope, instance_id, after, limit)

    # views -------------------------------------------------------------------------------------------
    def put_view(self, scope: Scope, view: View) -> None:
        self._put(self.views, (scope.account, scope.region, view.token), freeze(view))

    def get_view(self, scope: Scope, token: str) -> View | None:
        found = self.views.get((scope.account, scope.region, token))
        return thaw(View, found) if found is not None else None

    # the queued index (kept by put_contact; dropped with its instance) -------------------------------
    def drop_queued(self, key: tuple[str, str, str]) -> None:
        old = self._drop(self.queued, key)
        if old is not MISSING:
            self._discard(self.queue_waiting, (key[0], key[1], old[0], old[1]), key[2])
