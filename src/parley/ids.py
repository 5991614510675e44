"""Identifier generation: random UUID4s, or a seeded, reproducible stream with the same shape."""

from __future__ import annotations

import random
import uuid


class IdGenerator:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def reseed(self, seed: int | None) -> None:
        """Restarts the sequence (a reset with a seed), or makes it random again."""
        self._random = random.Random(seed) if seed is not None else None

    def __call__(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
