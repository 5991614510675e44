"""State snapshots: the whole stored state as one versioned JSON document, and importing one back.

`export()` reads every table the store has (instances, flows, contacts, participants, transcripts,
attachments with their bytes in base64, views, and whatever tables are added later) in one consistent
read. `import_document()` checks the document, then loads it in ONE unit of work: a document this Parley
cannot read (not JSON, another format, an unknown version, an unknown table or column, a record that does
not decode) is refused with a message saying what is wrong, and the state is left as it was. Tokens are
never in a snapshot: they are derived from the server secret, which stays behind.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from parley import __version__
from parley.chat.errors import Invalid
from parley.chat.model import Removed, Scope, Selection
from parley.chat.ports import UnitOfWork
from parley.clock import Clock
from parley.protocol.restjson import iso_ms
from parley.services import state
from parley.services.base import Store
from parley.services.effects import Timers

FORMAT = "parley-state"
VERSION = 1  # the document's layout; bump it (and read the old one) when the layout changes
READABLE = frozenset({1})
BYTES = "base64"  # a BLOB travels as {"base64": "…"}
CLOSED_BY_REPLACE = 1000


class SnapshotError(ValueError):
    """A snapshot that cannot be imported; the message says why. Nothing was changed."""


class Sockets(Protocol):
    def drop(self, contact_id: str, code: int, participant_id: str | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class Imported:
    counts: dict[str, int]
    removed: Removed | None
    live: list[tuple[Scope, Any]]  # the live contacts after the import, whose timers are armed again


def _encoded(value: Any) -> Any:
    return {BYTES: base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value


def _decoded(table: str, value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {BYTES}:
        try:
            return base64.b64decode(value[BYTES], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise SnapshotError(f"table {table!r}: a base64 value is not valid base64") from None
    return value


def parse(raw: bytes | str) -> dict[str, Any]:
    """The document's JSON, checked for format and version; raises SnapshotError saying what is wrong."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise SnapshotError(f"the snapshot is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f'not a Parley state snapshot: expected a JSON object with "format": "{FORMAT}"')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in READABLE:
        readable = ", ".join(str(v) for v in sorted(READABLE))
        raise SnapshotError(
            f"snapshot version {version!r} is not supported: Parley {__version__} reads version {readable}"
        )
    return document


def rows_of(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The document's `tables`, shape-checked, BLOBs decoded."""
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise SnapshotError('the snapshot has no "tables" object')
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, listed in tables.items():
        if not isinstance(listed, list) or not all(isinstance(row, dict) for row in listed):
            raise SnapshotError(f"table {table!r} must be a list of row objects")
        rows[table] = [{column: _decoded(table, value) for column, value in row.items()} for row in listed]
    return rows


def _load(repo: UnitOfWork, rows: dict[str, list[dict[str, Any]]], replace: bool) -> Imported:
    removed = repo.remove(Selection()) if replace else None
    counts = repo.load_records(rows)
    try:  # every record must read back as the domain's: a broken one is refused now, not on first use
        state.snapshot(repo, Selection())
        live = repo.live_contacts()
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise Invalid(f"a record does not decode: {error}") from None
    return Imported(counts, removed, list(live))


class SnapshotService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        timers: Timers,
        sockets: Sockets,
        fire_due: Callable[[], Awaitable[int]],
        resume_flows: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._resume_flows = resume_flows
        self._store = store
        self._clock = clock
        self._timers = timers
        self._sockets = sockets
        self._fire_due = fire_due

    async def export(self) -> dict[str, Any]:
        """The whole state as a snapshot document (a JSON-ready dict)."""
        dumped = await self._store.read(lambda repo: repo.dump_records())
        tables = {table: [{k: _encoded(v) for k, v in row.items()} for row in rows] for table, rows in dumped.items()}
        return {
            "format": FORMAT,
            "version": VERSION,
            "parley": __version__,
            "exportedAt": iso_ms(self._clock.now()),
            "tables": tables,
        }

    async def import_document(self, raw: bytes | str, replace: bool = False) -> dict[str, Any]:
        """Loads a snapshot in one unit of work: its records are added (replacing those with the same key),
        or, with `replace`, they become the whole state. Raises SnapshotError; then nothing changed."""
        rows = rows_of(parse(raw))
        try:
            imported = await self._store.run(lambda repo: _load(repo, rows, replace))
        except Invalid as error:
            raise SnapshotError(error.message) from None
        if imported.removed is not None:
            for scope, contact_id in imported.removed.contacts:
                self._timers.arm(scope, contact_id, None)
                self._sockets.drop(contact_id, CLOSED_BY_REPLACE)
        for scope, contact in imported.live:  # due at once: the check computes the real next deadline
            self._timers.arm(scope, contact.id, contact.initiated_at)
        if self._resume_flows is not None:  # imported flow runs go on as after a restart
            await self._resume_flows()
        if self._clock.virtual:
            await self._fire_due()
        return {"imported": imported.counts, "replaced": replace}
