"""Keeping the garbage collector off the tables that grow with the chats a server holds.

A full collection walks every entry of every container it tracks, whatever the entries are: at 30,000 chats
the store's tables and indexes, the timers' heap and the flow runner's maps made each full collection a pause
of 150 ms and more (most of a request's CPU, and the in-memory p99). `parley serve` freezes what start-up
built (`gc.freeze()` in launch.py), which moves every object the collector tracks to its permanent generation,
never walked again. A dict made at start-up is still empty then, and an empty dict is not tracked, so it would
stay out of the freeze and be tracked, and walked, from its first entry on. `permanent` makes it tracked at
once, so the freeze takes it. Nothing else changes: the dict behaves as any dict, its entries are freed by
reference counting as ever, and a table never takes part in a reference cycle.

Owns nothing but that; must not hold or read any table itself.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

D = TypeVar("D", bound=dict[Any, Any])
_KEY: Final = object()  # never a key of any table
_TRACKED: Final[list[None]] = []  # any object the collector tracks: a dict holding one is tracked from then on


def permanent(table: D) -> D:
    """The same dict, tracked from now on (the collector untracks a dict only while collecting its generation,
    and never collects the permanent generation)."""
    table[_KEY] = _TRACKED
    del table[_KEY]
    return table
