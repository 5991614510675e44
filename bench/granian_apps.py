"""ASGI targets for granian (`--working-dir bench`), so the throughput benchmark can serve the bare endpoint and
Parley on granian next to uvicorn: `bare_app:app` as it is, and `granian_apps:parley` as a factory.

The factory builds Parley from the PARLEY_* environment (settings.load), as `parley serve` would from its flags.
"""

from __future__ import annotations

from parley.app import Parley, build_app
from parley.settings import load


def parley() -> Parley:
    return build_app(load())
