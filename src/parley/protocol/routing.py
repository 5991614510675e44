"""Maps (HTTP method, RAW path) to an operation and its URI labels.

Built from each operation's `http.requestUri`. Matching happens on the raw, still
percent-encoded path, segment by segment, so a label holding `%2F` (an ARN) stays one
segment; labels are decoded only after the match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import unquote

from parley.protocol.spec import OperationSpec


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    label: _Node | None = None
    label_name: str = ""
    operations: dict[str, OperationSpec] = field(default_factory=dict)  # by HTTP method


@dataclass(frozen=True, slots=True)
class Match:
    operation: OperationSpec
    labels: Mapping[str, str]  # read-only: one Match answers every request on the same path


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


class Router:
    """A segment trie: literal segments are tried before labels, so `/contact/stop` wins over `/contact/{Id}`."""

    MAX_REMEMBERED = 4096  # (method, path) answers kept; the paths are the clients' to choose, so bounded

    def __init__(self, operations: Iterable[OperationSpec] | Callable[[], Iterable[OperationSpec]]) -> None:
        """`operations`, or a function giving them: the trie is then built by the first path not yet remembered
        (reading the models costs ~10 ms, which start-up need not pay)."""
        self._root: _Node | None = None
        self._source = operations if callable(operations) else None
        if not callable(operations):
            self._root = self._built(operations)
        # A pure function of the model: never stale, on any number of nodes. Literal paths (every
        # CreateParticipant's) and repeated reads of one resource skip the walk and the label decoding.
        self._remembered: dict[tuple[str, str], Match | None] = {}

    def _built(self, operations: Iterable[OperationSpec]) -> _Node:
        root = _Node()
        for op in operations:
            self._add(root, op)
        return root

    def _add(self, root: _Node, op: OperationSpec) -> None:
        node = root
        for segment in _segments(op.uri.split("?", 1)[0]):
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1].rstrip("+")
                if node.label is None:
                    node.label = _Node()
                    node.label_name = name
                elif node.label_name != name:
                    raise ValueError(f"conflicting labels {node.label_name!r} and {name!r} in {op.uri}")
                node = node.label
            else:
                node = node.literals.setdefault(segment, _Node())
        if op.method in node.operations:
            raise ValueError(f"two operations on {op.method} {op.uri}")
        node.operations[op.method] = op

    def match(self, method: str, raw_path: str) -> Match | None:
        key = (method, raw_path)
        try:
            return self._remembered[key]
        except KeyError:
            pass
        found = self._match(method, raw_path)
        if len(self._remembered) >= self.MAX_REMEMBERED:
            self._remembered.clear()
        self._remembered[key] = found
        return found

    def _match(self, method: str, raw_path: str) -> Match | None:
        if self._root is None:
            assert self._source is not None
            self._root = self._built(self._source())
        segments = _segments(raw_path)
        labels: dict[str, str] = {}
        op = self._walk(self._root, segments, 0, method, labels)
        if op is None:
            return None
        return Match(op, MappingProxyType({name: unquote(value) for name, value in labels.items()}))

    def _walk(
        self, node: _Node, segments: list[str], i: int, method: str, labels: dict[str, str]
    ) -> OperationSpec | None:
        if i == len(segments):
            return node.operations.get(method)
        segment = segments[i]
        child = node.literals.get(segment)
        if child is not None:
            found = self._walk(child, segments, i + 1, method, labels)
            if found is not None:
                return found
        if node.label is not None and segment:
            labels[node.label_name] = segment
            found = self._walk(node.label, segments, i + 1, method, labels)
            if found is not None:
                return found
            del labels[node.label_name]
        return None
