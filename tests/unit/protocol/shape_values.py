"""Pseudo-random values for botocore shapes, deterministic for a given seed.

`ShapeValues(seed, mode, variant).structure(shape)` builds a dict that respects every constraint the
model declares (types, `required`, `min`/`max`, `enum`, `pattern`, unions with exactly one member),
so a validating parser must accept it. Variants differ in how much they include:

- ``FULL``: every member present and every list and map non-empty; each union takes a member that
  no earlier FULL variant sharing the same `unions_set` took, so a run of FULL variants that stops
  when one takes nothing new has set every union member;
- ``REQUIRED``: only required members, collections as short as allowed;
- ``MIXED``: each optional member with probability one half, collections of 0-3 entries.

Recursion is bounded: a structure already twice on the path is filled with its required members only.
A pattern the generator cannot satisfy is recorded in `unsatisfied` as (path, value, pattern), with
the path spelled as Parley's validator spells it (`participantDetails.displayName`,
`items.1.member`); with `avoid_unsatisfiable` such a member is left out wherever it is optional.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import Shape

from parley.protocol.validate import member_path
from tests.unit.protocol.regex_strings import UNIVERSE, draw, utf16_length

FULL, REQUIRED, MIXED = "full", "required", "mixed"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Header values must survive HTTP: visible ASCII, no leading or trailing space.
HEADER_ALPHABET = [chr(c) for c in range(0x21, 0x7F)]
PLAIN_STRING_MAX = 24  # unconstrained strings stay short; bounds near the limits are still hit
PATTERN_STRING_MAX = 256  # the longest string tried for a pattern on a shape without `max`
RECURSION = 2  # a structure may nest inside itself once in full; deeper, only its required members
MAX_DEPTH = 40  # a guard against a required-member cycle, which the models do not have


@functools.cache
def satisfiable(pattern: str, low: int, high: int) -> bool:
    return draw(pattern, low, high, random.Random(pattern)) is not None


def _string_bounds(shape: Shape) -> tuple[int, int]:
    low = shape.metadata.get("min", 0)
    if shape.serialization.get("location") == "uri":
        low = max(low, 1)  # an empty label cannot be routed
    default_high = PATTERN_STRING_MAX if shape.metadata.get("pattern") else PLAIN_STRING_MAX
    return low, shape.metadata.get("max", max(low, default_high))


@dataclass
class ShapeValues:
    seed: str
    mode: str = FULL
    variant: int = 0
    avoid_unsatisfiable: bool = False
    unions_set: set[tuple[str, str]] = field(default_factory=set)  # (union shape, member) already chosen
    unsatisfied: list[tuple[str, str, str]] = field(default_factory=list)
    avoided: list[str] = field(default_factory=list)  # members left out by `avoid_unsatisfiable`

    def __post_init__(self) -> None:
        self.rnd = random.Random(f"{self.seed}/{self.mode}/{self.variant}")
        self._stack: list[str] = []

    # ------------------------------------------------------------------------------------ dispatch

    def value(self, shape: Shape, path: str = "") -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape, path)
        if kind == "list":
            return [self.value(shape.member, f"{path}.{i + 1}.member") for i in range(self._count(shape))]
        if kind == "map":
            return self._map(shape, path)
        return getattr(self, f"_{kind}")(shape, path)

    def structure(self, shape: Shape, path: str = "") -> dict[str, Any]:
        if len(self._stack) > MAX_DEPTH:
            raise RecursionError(f"required members recurse without end at {path}")
        recursive = self._stack.count(shape.name) >= RECURSION
        self._stack.append(shape.name)
        try:
            names = self._chosen_members(shape, recursive)
            return {name: self._member(shape, name, member_path(path, name)) for name in names}
        finally:
            self._stack.pop()

    def _member(self, parent: Shape, name: str, path: str) -> Any:
        shape = parent.members[name]
        on_query = shape.serialization.get("location") == "querystring" and shape.type_name == "list"
        if on_query and name in parent.required_members:
            # An empty list puts nothing on the query string, so a required one needs an entry.
            count = max(1, self._count(shape))
            return [self.value(shape.member, f"{path}.{i + 1}.member") for i in range(count)]
        return self.value(shape, path)

    def _chosen_members(self, shape: Shape, recursive: bool) -> list[str]:
        names = list(shape.members)
        if shape.metadata.get("union"):
            return [names[self._union_index(shape, recursive)]]
        required = set(shape.required_members)
        if self.avoid_unsatisfiable:
            left_out = [n for n in names if n not in required and _unsatisfiable(shape.members[n])]
            self.avoided.extend(f"{shape.name}.{n}" for n in left_out)
            names = [n for n in names if n not in left_out]
        if recursive or self.mode == REQUIRED:
            return [n for n in names if n in required]
        if self.mode == MIXED:
            return [n for n in names if n in required or self.rnd.random() < 0.5]
        return names

    def _union_index(self, shape: Shape, recursive: bool) -> int:
        """In FULL, a member no earlier variant (sharing `unions_set`) has set, while there is one."""
        names = list(shape.members)
        if self.mode != FULL or recursive:
            return self.rnd.randrange(len(names))
        fresh = [i for i, name in enumerate(names) if (shape.name, name) not in self.unions_set]
        index = fresh[0] if fresh else self.rnd.randrange(len(names))
        self.unions_set.add((shape.name, names[index]))
        return index

    # --------------------------------------------------------------------------------- collections

    def _count(self, shape: Shape) -> int:
        low = int(shape.metadata.get("min", 0))
        high = min(int(shape.metadata.get("max", 3)), max(low, 3))
        recursive = shape.type_name == "list" and self._stack.count(shape.member.name) >= RECURSION
        if self.mode == REQUIRED or recursive:
            return low
        if self.mode == FULL:
            return self.rnd.randint(max(low, 1), max(high, 1))
        return self.rnd.randint(low, high)

    def _map(self, shape: Shape, path: str) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        wanted = self._count(shape)
        for _ in range(wanted * 4):
            if len(out) >= wanted:
                break
            key = self.value(shape.key, f"{path}.key")
            if key not in out:
                out[key] = self.value(shape.value, f"{path}.{key}")
        return out

    # ------------------------------------------------------------------------------------- scalars

    def _string(self, shape: Shape, path: str) -> str:
        enum = shape.metadata.get("enum")
        if enum:
            return str(self.rnd.choice(enum))
        low, high = _string_bounds(shape)
        alphabet = HEADER_ALPHABET if shape.serialization.get("location") == "header" else UNIVERSE
        pattern = shape.metadata.get("pattern")
        if pattern:
            drawn = draw(pattern, low, high, self.rnd) if satisfiable(pattern, low, high) else None
            if drawn is not None:
                return drawn
            text = self._plain_string(low, max(low, min(high, PLAIN_STRING_MAX)), alphabet)
            self.unsatisfied.append((path, text, pattern))
            return text
        return self._plain_string(low, high, alphabet)

    def _plain_string(self, low: int, high: int, alphabet: list[str]) -> str:
        """UTF-16 length `low`, `high` or between (capped), as Parley and AWS count string length."""
        target = self.rnd.choice([low, high, self.rnd.randint(low, min(high, low + PLAIN_STRING_MAX))])
        target = min(target, max(low, PLAIN_STRING_MAX * 4))
        chars: list[str] = []
        length = 0
        while length < target:
            ch = self.rnd.choice(alphabet)
            if utf16_length(ch) > target - length:
                ch = "a"
            chars.append(ch)
            length += utf16_length(ch)
        return "".join(chars)

    def _bounds(self, shape: Shape, default_low: float, default_span: float) -> tuple[float, float]:
        high = shape.metadata.get("max")
        low = shape.metadata.get("min", default_low if high is None else min(default_low, high))
        return low, low + default_span if high is None else high

    def _integer(self, shape: Shape, path: str) -> int:
        low, high = self._bounds(shape, -1000, 100_000)
        return self.rnd.choice([int(low), int(high), self.rnd.randint(int(low), int(high))])

    def _long(self, shape: Shape, path: str) -> int:
        low, high = self._bounds(shape, 0, 2**53)
        return self.rnd.choice([int(low), int(high), self.rnd.randint(int(low), int(high))])

    def _double(self, shape: Shape, path: str) -> float:
        low, high = self._bounds(shape, -1e6, 2e6)
        drawn = round(self.rnd.uniform(low, high), 3)
        return float(min(max(drawn, low), high))

    _float = _double

    def _boolean(self, shape: Shape, path: str) -> bool:
        return self.rnd.random() < 0.5

    def _timestamp(self, shape: Shape, path: str) -> datetime:
        # 2000-01-01 .. 2035-01-01, millisecond precision, timezone-aware.
        return EPOCH + timedelta(milliseconds=self.rnd.randint(946_684_800_000, 2_051_222_400_000))

    def _blob(self, shape: Shape, path: str) -> bytes:
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", 16), low + 16)
        return self.rnd.randbytes(self.rnd.randint(low, high))


def _unsatisfiable(shape: Shape) -> bool:
    pattern = shape.metadata.get("pattern")
    if shape.type_name != "string" or not pattern or shape.metadata.get("enum"):
        return False
    return not satisfiable(pattern, *_string_bounds(shape))


def _children(shape: Shape) -> list[Shape]:
    if shape.type_name == "structure":
        return list(shape.members.values())
    if shape.type_name == "list":
        return [shape.member]
    if shape.type_name == "map":
        return [shape.key, shape.value]
    return []


def reachable_members(shape: Shape | None) -> set[tuple[str, str]]:
    """Every (structure shape, member name) pair reachable from `shape`."""
    found: set[tuple[str, str]] = set()
    seen: set[str] = set()
    pending = [shape] if shape is not None else []
    while pending:
        current = pending.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if current.type_name == "structure":
            found.update((current.name, name) for name in current.members)
        pending.extend(_children(current))
    return found


def members_set(shape: Shape, value: Any, found: set[tuple[str, str]]) -> None:
    """Adds to `found` every (structure shape, member name) pair `value` sets."""
    if shape.type_name == "structure":
        for name, item in value.items():
            found.add((shape.name, name))
            members_set(shape.members[name], item, found)
    elif shape.type_name == "list":
        for item in value:
            members_set(shape.member, item, found)
    elif shape.type_name == "map":
        for item in value.values():
            members_set(shape.value, item, found)
