"""The contract suite's fixture: every test runs once per backend of backends.BACKENDS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from parley.chat.ports import UnitOfWork
from parley.store.port import Store
from tests.store.backends import BACKENDS

T = TypeVar("T")


class Node:
    """A store driven from synchronous test code: each call runs one unit on a fresh event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, unit: Callable[[UnitOfWork], T]) -> T:
        return asyncio.run(self.store.run(unit))

    def read(self, unit: Callable[[UnitOfWork], T]) -> T:
        return asyncio.run(self.store.read(unit))


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def node(backend: str, tmp_path: Path) -> Iterator[Node]:
    with BACKENDS[backend](tmp_path) as store:
        yield Node(store)
