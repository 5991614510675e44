"""Parley: a self-hosted, wire-compatible Amazon Connect chat and participant service.

`parley.Server` (the same class as `parley.testing.ParleyServer`) runs one in-process. It is imported
on first use, so `import parley` (the CLI, the pytest plugin) does not pay for the server stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ParleyServer", "Server", "__version__"]

if TYPE_CHECKING:
    from parley.testing import ParleyServer
    from parley.testing import ParleyServer as Server


def __getattr__(name: str) -> Any:
    if name in ("Server", "ParleyServer"):
        from parley.testing import ParleyServer

        return ParleyServer
    raise AttributeError(f"module 'parley' has no attribute {name!r}")
