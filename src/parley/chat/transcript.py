"""GetTranscript's paging rules (participant-api.md §3.4), over a chain's persisted items in order.

Order is (AbsoluteTime, arrival). A walk starts at an anchor, takes MaxResults items in the scan
direction, and the page is then sorted by SortOrder. A continuation is the arrival number of the
next item to take, so it stays valid as the chat grows, and is only handed out when that item exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.chat.errors import ConstraintViolation
from parley.chat.model import Item


@dataclass(frozen=True, slots=True)
class TranscriptQuery:
    max_results: int = 10
    scan_direction: str | None = None
    sort_order: str = "DESCENDING"
    start_id: str | None = None
    start_time: datetime | None = None
    most_recent: int | None = None
    continue_at: int | None = None  # the arrival number a NextToken carries

    @property
    def direction(self) -> str:
        if self.scan_direction:
            return self.scan_direction
        has_start = self.start_id is not None or self.start_time is not None or self.most_recent is not None
        return "FORWARD" if has_start else "BACKWARD"


@dataclass(frozen=True, slots=True)
class TranscriptPage:
    items: list[Item]
    continue_at: int | None


def _anchor(items: list[Item], query: TranscriptQuery) -> int:
    forward = query.direction == "FORWARD"
    if query.continue_at is not None:
        for index, item in enumerate(items):
            if item.seq == query.continue_at:
                return index
        return len(items) if forward else -1
    if query.start_id is not None:
        for index, item in enumerate(items):
            if item.id == query.start_id:
                return index
        raise ConstraintViolation(f"StartPosition.Id {query.start_id} is not an item of this chat")
    if query.start_time is not None:
        if forward:
            return next((i for i, item in enumerate(items) if item.at >= query.start_time), len(items))
        return max((i for i, item in enumerate(items) if item.at <= query.start_time), default=-1)
    if query.most_recent is not None:
        return len(items) - query.most_recent if query.most_recent else len(items)
    return 0 if forward else len(items) - 1


def page(items: list[Item], query: TranscriptQuery) -> TranscriptPage:
    """One page of `items` (already in transcript order) for `query`."""
    ordered = sorted(items, key=lambda item: (item.at, item.seq))
    anchor = _anchor(ordered, query)
    size = query.max_results
    if query.direction == "FORWARD":
        start = max(anchor, 0)
        taken = ordered[start : start + size] if size else []
        following = start + size
        nxt = ordered[following].seq if size and following < len(ordered) else None
    else:
        end = min(anchor, len(ordered) - 1)
        taken = ordered[max(end - size + 1, 0) : end + 1] if size and end >= 0 else []
        following = end - size
        nxt = ordered[following].seq if size and following >= 0 else None
    taken.sort(key=lambda item: (item.at, item.seq), reverse=query.sort_order == "DESCENDING")
    return TranscriptPage(taken, nxt)
