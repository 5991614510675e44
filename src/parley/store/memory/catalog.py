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
from parley.store.memory.copies import copy
from parley.store.memory.state import MISSING, MemoryState, Owned

T = TypeVar("T")
UNIQUE_NAMES = frozenset({"flows", "queues"})  # tables with a UNIQUE (…, instance_id, name) index


def page(rows: list[T], keys: list[str], limit: int) -> Page[T]:
    if len(rows) > limit:
        return Page(rows[:limit], keys[limit - 1])
    return Page(rows, None)


class MemoryCatalog(MemoryState):
    # instances ---------------------------------------------------------------------------------------
    def get_instance(self, scope: Scope, instance_id: str) -> Instance | None:
        found = self.instances.get((scope.account, scope.region, instance_id))
        return copy(found) if found is not None else None

    def put_instance(self, scope: Scope, instance: Instance) -> None:
        self._put(self.instances, (scope.account, scope.region, instance.id), copy(instance))
        self._add(self.scope_instances, (scope.account, scope.region), instance.id)

    def delete_instance(self, scope: Scope, instance_id: str) -> None:
        account, region = scope.account, scope.region
        self._drop(self.instances, (account, region, instance_id))
        self._discard(self.scope_instances, (account, region), instance_id)
        for kind, table in self._owned_tables():
            for row_id in self.members(self.instance_rows, (kind, account, region, instance_id)):
                self._drop_owned(kind, table, (account, region, instance_id, row_id))
        for key, row in list(self.queued.items()):
            if key[:2] == (account, region) and row.instance_id == instance_id:
                self.drop_queued(key)

    def list_instances(self, scope: Scope, after: str | None, limit: int) -> Page[Instance]:
        ids = sorted(i for i in self.members(self.scope_instances, (scope.account, scope.region)) if i > (after or ""))
        ids = ids[: limit + 1]
        return page([copy(self.instances[(scope.account, scope.region, i)]) for i in ids], ids, limit)

    def count_instances(self, scope: Scope) -> int:
        return len(self.scope_instances.get((scope.account, scope.region), ()))

    def alias_taken(self, scope: Scope, alias: str) -> bool:
        ids = self.members(self.scope_instances, (scope.account, scope.region))
        return any(self.instances[(scope.account, scope.region, i)].alias == alias for i in ids)

    # what an instance owns ---------------------------------------------------------------------------
    def _owned_tables(self) -> tuple[tuple[str, dict[Owned, Any]], ...]:
        return (
            ("flows", self.flows),
            ("queues", self.queues),
            ("hours", self.hours),
            ("lambda_functions", self.lambda_functions),
        )

    def _put_owned(self, kind: str, table: dict[Owned, Any], scope: Scope, record: Any, row_id: str) -> None:
        """INSERT OR REPLACE: a row with the same key or (for flows and queues) the same name is replaced."""
        account, region, instance_id = scope.account, scope.region, record.instance_id
        name = getattr(record, "name", None) if kind in UNIQUE_NAMES else None
        if name is not None:
            other = self.unique_names.get((kind, account, region, instance_id, name))
            if other is not None and other != row_id:
                self._drop_owned(kind, table, (account, region, instance_id, other))
        old = self._put(table, (account, region, instance_id, row_id), copy(record))
        if name is not None:
            if old is not MISSING and old.name != name:
                self._drop(self.unique_names, (kind, account, region, instance_id, old.name))
            self._put(self.unique_names, (kind, account, region, instance_id, name), row_id)
        self._add(self.instance_rows, (kind, account, region, instance_id), row_id)

    def _drop_owned(self, kind: str, table: dict[Owned, Any], key: Owned) -> bool:
        old = self._drop(table, key)
        if old is MISSING:
            return False
        account, region, instance_id, row_id = key
        self._discard(self.instance_rows, (kind, account, region, instance_id), row_id)
        if kind in UNIQUE_NAMES:
            self._drop(self.unique_names, (kind, account, region, instance_id, old.name))
        return True

    def _get_owned(self, table: dict[Owned, T], scope: Scope, instance_id: str, row_id: str) -> T | None:
        found = table.get((scope.account, scope.region, instance_id, row_id))
        return copy(found) if found is not None else None

    def _named(self, kind: str, table: dict[Owned, T], scope: Scope, instance_id: str, name: str) -> T | None:
        row_id = self.unique_names.get((kind, scope.account, scope.region, instance_id, name))
        return None if row_id is None else self._get_owned(table, scope, instance_id, row_id)

    def _list_owned(
        self,
        kind: str,
        table: dict[Owned, T],
        scope: Scope,
        instance_id: str,
        after: str | None,
        limit: int,
        wanted: Callable[[T], bool] = lambda row: True,
    ) -> Page[T]:
        account, region = scope.account, scope.region
        rows, keys = [], []
        for row_id in sorted(self.members(self.instance_rows, (kind, account, region, instance_id))):
            row = table[(account, region, instance_id, row_id)]
            if row_id > (after or "") and wanted(row):
                rows.append(copy(row))
                keys.append(row_id)
                if len(rows) > limit:
                    break
        return page(rows, keys, limit)

    # flows -------------------------------------------------------------------------------------------
    def get_flow(self, scope: Scope, instance_id: str, flow_id: str) -> ContactFlow | None:
        return self._get_owned(self.flows, scope, instance_id, flow_id)

    def put_flow(self, scope: Scope, flow: ContactFlow) -> None:
        self._put_owned("flows", self.flows, scope, flow, flow.id)

    def flow_name_taken(self, scope: Scope, instance_id: str, name: str) -> bool:
        return ("flows", scope.account, scope.region, instance_id, name) in self.unique_names

    def list_flows(
        self, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
    ) -> Page[ContactFlow]:
        return self._list_owned(
            "flows", self.flows, scope, instance_id, after, limit, lambda f: not types or f.type in types
        )

    # queues ------------------------------------------------------------------------------------------
    def get_queue(self, scope: Scope, instance_id: str, queue_id: str) -> Queue | None:
        return self._get_owned(self.queues, scope, instance_id, queue_id)

    def queue_by_name(self, scope: Scope, instance_id: str, name: str) -> Queue | None:
        return self._named("queues", self.queues, scope, instance_id, name)

    def put_queue(self, scope: Scope, queue: Queue) -> None:
        self._put_owned("queues", self.queues, scope, queue, queue.id)

    def list_queues(
        self, scope: Scope, instance_id: str, types: frozenset[str], after: str | None, limit: int
    ) -> Page[Queue]:
        return self._list_owned(
            "queues", self.queues, scope, instance_id, after, limit, lambda q: not types or q.type in types
        )

    # hours of operation ------------------------------------------------------------------------------
    def get_hours(self, scope: Scope, instance_id: str, hours_id: str) -> HoursOfOperation | None:
        return self._get_owned(self.hours, scope, instance_id, hours_id)

    def hours_by_name(self, scope: Scope, instance_id: str, name: str) -> HoursOfOperation | None:
        """Names need not be unique here: the first by id, as SQLite's ORDER BY id LIMIT 1."""
        account, region = scope.account, scope.region
        for row_id in sorted(self.members(self.instance_rows, ("hours", account, region, instance_id))):
            found = self.hours[(account, region, instance_id, row_id)]
            if found.name == name:
                return copy(found)
        return None

    def put_hours(self, scope: Scope, hours: HoursOfOperation) -> None:
        self._put_owned("hours", self.hours, scope, hours, hours.id)

    def list_hours(self, scope: Scope, instance_id: str, after: str | None, limit: int) -> Page[HoursOfOperation]:
        return self._list_owned("hours", self.hours, scope, instance_id, after, limit)

    # Lambda functions --------------------------------------------------------------------------------
    def get_lambda_function(self, scope: Scope, instance_id: str, arn: str) -> LambdaFunction | None:
        return self._get_owned(self.lambda_functions, scope, instance_id, arn)

    def put_lambda_function(self, scope: Scope, function: LambdaFunction) -> None:
        self._put_owned("lambda_functions", self.lambda_functions, scope, function, function.arn)

    def delete_lambda_function(self, scope: Scope, instance_id: str, arn: str) -> bool:
        key = (scope.account, scope.region, instance_id, arn)
        return self._drop_owned("lambda_functions", self.lambda_functions, key)

    def list_lambda_functions(
        self, scope: Scope, instance_id: str, after: str | None, limit: int
    ) -> Page[LambdaFunction]:
        return self._list_owned("lambda_functions", self.lambda_functions, scope, instance_id, after, limit)

    # views -------------------------------------------------------------------------------------------
    def put_view(self, scope: Scope, view: View) -> None:
        self._put(self.views, (scope.account, scope.region, view.token), copy(view))

    def get_view(self, scope: Scope, token: str) -> View | None:
        found = self.views.get((scope.account, scope.region, token))
        return copy(found) if found is not None else None

    # the queued index (kept by put_contact; dropped with its instance) -------------------------------
    def drop_queued(self, key: tuple[str, str, str]) -> None:
        old = self._drop(self.queued, key)
        if old is not MISSING:
            self._discard(self.queue_waiting, (key[0], key[1], old.instance_id, old.queue_id), key[2])
