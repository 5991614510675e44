"""Strings that satisfy a model `pattern`, drawn from a seeded `random.Random`.

A small stand-in for hypothesis' `from_regex`: the pattern is parsed with the standard library's
regex parser (after the ICU property classes it does not know, such as `\\p{L}`, are narrowed to a
sample alphabet), a string is generated from the parse tree, and it is kept only if Parley's own
regex engine (`regex`, full match, as `validate.py` uses it) and the shape's length bounds accept
it. Lookarounds are ignored while generating and enforced by that final check.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any

import regex

# The stdlib regex parser: private (no stubs), present since Python 3.11.
sre_constants: Any = importlib.import_module("re._constants")
sre_parser: Any = importlib.import_module("re._parser")

# The alphabet generated characters come from: printable ASCII, the whitespace a pattern may allow,
# and a few non-ASCII letters (one outside the BMP, which counts as two UTF-16 units).
UNIVERSE = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\n", "\r", "é", "Ж", "日", "\U0001f600"]

# ICU property classes as stdlib class members: (inside a class, standing alone).
_PROPERTIES = {
    "p{L}": "a-zA-ZéЖ日",
    "p{N}": "0-9",
    "p{Z}": " ",
    "P{C}": " -~éЖ日",
    "p{C}": "\\x00-\\x1f\\x7f",
}

_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    sre_constants.CATEGORY_DIGIT: str.isdigit,
    sre_constants.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    sre_constants.CATEGORY_SPACE: str.isspace,
    sre_constants.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre_constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre_constants.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}

ATTEMPTS = 60


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _translate(pattern: str) -> str:
    """`pattern` with single-escaped ICU property classes rewritten for the stdlib parser."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            token = pattern[i + 1 : i + 5]
            if token in _PROPERTIES:
                members = _PROPERTIES[token]
                out.append(members if in_class else f"[{members}]")
                i += 5
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def _in_class(ch: str, items: list[tuple[Any, Any]]) -> bool:
    negate = False
    found = False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            found = found or ord(ch) == arg
        elif op is sre_constants.RANGE:
            found = found or arg[0] <= ord(ch) <= arg[1]
        elif op is sre_constants.CATEGORY:
            found = found or _CATEGORIES[arg](ch)
        else:
            raise ValueError(f"unsupported class item {op}")
    return found != negate


def _class_candidates(items: list[tuple[Any, Any]]) -> list[str]:
    extra = [chr(arg) for op, arg in items if op is sre_constants.LITERAL]
    extra += [chr(arg[0]) for op, arg in items if op is sre_constants.RANGE]
    return [c for c in dict.fromkeys(UNIVERSE + extra) if _in_class(c, items)]


class _Emitter:
    """Walks one parse tree, appending characters; `spread` bounds how far an open repeat runs."""

    def __init__(self, rnd: random.Random, spread: int) -> None:
        self.rnd = rnd
        self.spread = spread
        self.out: list[str] = []

    def emit(self, items: Any) -> None:
        for op, arg in items:
            self._one(op, arg)

    def _one(self, op: Any, arg: Any) -> None:
        if op is sre_constants.LITERAL:
            self.out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            self.out.append(self.rnd.choice([c for c in UNIVERSE if ord(c) != arg]))
        elif op is sre_constants.ANY:
            self.out.append(self.rnd.choice([c for c in UNIVERSE if c != "\n"]))
        elif op is sre_constants.IN:
            self.out.append(self.rnd.choice(_class_candidates(arg)))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, high, sub = arg
            for _ in range(self.rnd.randint(low, min(high, low + self.spread))):
                self.emit(sub)
        elif op is sre_constants.SUBPATTERN:
            self.emit(arg[-1])
        elif op is sre_constants.ATOMIC_GROUP:
            self.emit(arg)
        elif op is sre_constants.BRANCH:
            self.emit(self.rnd.choice(arg[1]))
        elif op not in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            raise ValueError(f"unsupported regex construct {op}")


def draw(pattern: str, low: int, high: int, rnd: random.Random) -> str | None:
    """A string matching `pattern` whose UTF-16 length is within [low, high], or None if none was found."""
    try:
        tree = sre_parser.parse(_translate(pattern))
        compiled = regex.compile(pattern)
    except (sre_constants.error, regex.error, ValueError):
        return None
    for attempt in range(ATTEMPTS):
        emitter = _Emitter(rnd, spread=1 + attempt % 12 + (low if attempt % 3 == 0 else 0))
        try:
            emitter.emit(tree)
        except (ValueError, IndexError):
            return None
        text = "".join(emitter.out)
        if low <= utf16_length(text) <= high and compiled.fullmatch(text) is not None:
            return text
    return None
