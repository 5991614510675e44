"""A project without boto3: the plugin is loaded (entry points load before conftest) and must not need it."""

from __future__ import annotations

import sys

LOADED_BY_PLUGIN = sorted(name for name in ("boto3", "botocore", "uvicorn", "parley.app") if name in sys.modules)
sys.modules["boto3"] = None  # type: ignore[assignment]  # `import boto3` now raises ImportError
