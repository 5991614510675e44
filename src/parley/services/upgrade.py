"""At startup: instances stored by an older Parley get what a new instance starts with (flows.md §7.2).

A v1 instance has no Basic Hours or BasicQueue, and its default flows hold a placeholder (one
DisconnectParticipant) that would end every chat at once. In one unit of work, the missing records are
added and every default flow whose content is still byte-identical to that placeholder is replaced; each
change is logged. Flows a user edited are left as they are.
"""

from __future__ import annotations

import logging
from datetime import datetime

from parley.chat import defaults
from parley.chat.model import ContactFlow, Scope, Selection
from parley.chat.policy import IdSource
from parley.chat.ports import UnitOfWork
from parley.services.base import Store

log = logging.getLogger("parley.upgrade")


def _upgrade_all(repo: UnitOfWork, now: datetime, ids: IdSource) -> list[str]:
    flows: dict[tuple[Scope, str], list[ContactFlow]] = {}
    for scope, flow in repo.select_flows(Selection()):
        flows.setdefault((scope, flow.instance_id), []).append(flow)
    changes = []
    for scope, instance in repo.select_instances(Selection()):
        found = flows.get((scope, instance.id), [])
        for change in defaults.upgrade_instance(repo, scope, instance, found, now, ids):
            changes.append(f"{change} account={scope.account} region={scope.region}")
    return changes


async def upgrade_stored_instances(store: Store, now: datetime, ids: IdSource) -> list[str]:
    """Brings every stored instance up to date; returns (and logs) one line per change."""
    changes = await store.run(lambda repo: _upgrade_all(repo, now, ids))
    for change in changes:
        log.info("%s (stored by an older Parley)", change)
    return changes
