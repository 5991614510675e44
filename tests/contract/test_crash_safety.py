"""Crash safety: a durable Parley SIGKILLed ten times under concurrent writes of contacts, participants,
messages, attachments, flow runs and streamed messages (their outbox) keeps every acknowledged write, and
its database passes `PRAGMA integrity_check` after every kill (crash_writers.py; `bench/crash.py` kills it
many more times).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import start_parley
from tests.contract.crash_writers import SERVER_ARGS, WRITERS, World, crash_rounds

KILLS = 10


@pytest.mark.slow
def test_every_acknowledged_write_survives_ten_sigkills(tmp_path: Path) -> None:
    report = crash_rounds(tmp_path, KILLS, seed=12)
    assert report.kills == KILLS
    assert report.errors == []
    assert report.integrity == []
    assert report.lost == []
    assert all(report.acknowledged[make().name] > KILLS for make in WRITERS), report.acknowledged


def test_the_check_sees_writes_that_are_gone(tmp_path: Path) -> None:
    """The control: the same writes checked against a server without them are all reported lost."""
    durable = start_parley("--data-dir", str(tmp_path), *SERVER_ARGS)
    writers = [make() for make in WRITERS]
    try:
        from tests.conftest import account_key, client, make_instance

        key = account_key()
        world = World(key, make_instance(client("connect", durable.url, key)), durable.url)
        for writer in writers:
            writer.begin(world)
            writer.write(world)
            assert writer.missing(world) == []
    finally:
        durable.stop()
    empty = start_parley(*SERVER_ARGS)  # in memory: nothing written above is there
    try:
        world.url = empty.url
        lost = [line for writer in writers for line in writer.missing(world)]
        assert [line.split()[0] for line in lost] == [
            "contact",
            "participant",
            "message",
            "attachment",
            "flow",
            "stream",
        ]
    finally:
        empty.stop()
