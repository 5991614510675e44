"""What a full collection walks once `parley serve` froze its start-up: nothing a chat adds to the store."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from parley.chat.model import Participant, Scope
from parley.collector import permanent
from parley.store.memory.store import MemoryRepo

SCOPE = Scope("111122223333", "us-west-2")


@pytest.fixture
def frozen_start() -> Iterator[None]:
    """As launch.py: the collector off while start-up builds, then everything frozen and the collector on."""
    gc.disable()
    yield
    gc.unfreeze()
    gc.enable()


def test_a_permanent_dict_is_tracked_from_the_start_so_a_freeze_takes_it() -> None:
    table: dict[str, str] = permanent({})
    assert gc.is_tracked(table)
    assert table == {}


def test_the_store_tables_are_frozen_and_a_kept_row_is_not_tracked(frozen_start: None) -> None:
    repo = MemoryRepo()
    gc.freeze()
    gc.enable()
    participant = Participant("p1", "c1", "i1", "CUSTOM_BOT", "bot", datetime.now(UTC))
    repo.put_participant(SCOPE, participant)
    repo.commit()
    gc.collect()
    walked = {id(o) for o in gc.get_objects()}
    row = repo.participant_rows[(SCOPE.account, SCOPE.region, "p1")]
    assert not gc.is_tracked(row)
    assert id(repo.participant_rows) not in walked
    assert id(repo.contact_participants) not in walked
    assert repo.participants(SCOPE, "c1") == [participant]
