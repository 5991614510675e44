"""Finding Node.js and an interop package's installed modules, for the Node-driven interop tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def node_or_skip(needed: Path, users: str, not_installed: str) -> str:
    """The `node` binary, once `needed` (a directory under node_modules) exists; otherwise skip, unless
    PARLEY_REQUIRE_SERVICES=1 makes it a failure."""
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = f"Node.js is not installed: the {users} interop tests need `node` (20) on PATH"
    elif not needed.is_dir():
        problem = not_installed
    if problem is not None:
        if os.environ.get("PARLEY_REQUIRE_SERVICES") == "1":
            pytest.fail(problem + " (PARLEY_REQUIRE_SERVICES=1)")
        pytest.skip(problem)
    assert node is not None
    return node
