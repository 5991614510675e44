"""Random ids are RFC 4122 version-4 UUIDs in their canonical spelling, never repeated."""

from __future__ import annotations

import os
import uuid

from parley.ids import IdGenerator, random_uuid4


def test_a_random_id_is_a_canonical_version_4_uuid() -> None:
    for _ in range(2000):
        text = random_uuid4()
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


def test_random_ids_do_not_repeat() -> None:
    ids = IdGenerator()
    assert len({ids() for _ in range(10000)}) == 10000


def test_a_seeded_generator_repeats_its_sequence() -> None:
    assert [IdGenerator(7)() for _ in range(3)] == [IdGenerator(7)()] * 3
    first, again = IdGenerator(7), IdGenerator(7)
    assert [first() for _ in range(5)] == [again() for _ in range(5)]


def test_a_forked_child_does_not_hand_out_its_parent_s_next_ids() -> None:
    random_uuid4()  # the pool holds ids read ahead
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and leaves at once
        os.write(write, "".join(random_uuid4() for _ in range(4)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        theirs = pipe.read()
    ours = "".join(random_uuid4() for _ in range(4))
    assert len(theirs) == len(ours) == 4 * 36
    assert theirs != ours
