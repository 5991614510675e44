"""A module imported when first used, not when its importer is: what keeps `parley serve`'s start-up short
(BENCHMARKS.md, "Startup") while a feature's code (the domain rules behind an operation, the admin actions)
waits for its first request.

    if TYPE_CHECKING:
        from parley.chat import conversation
    else:
        conversation = LazyModule("parley.chat.conversation", globals())

The TYPE_CHECKING import keeps mypy's view and the layering test's (tests/unit/test_architecture.py) of the
dependency; at run time the first attribute read imports the module and puts it in the importer's globals
in place of the stand-in, so later reads cost what any module attribute costs.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module `name` in the namespace `where` (an importer's globals()), under the module's
    last dotted part (or `alias`), until something is read from it."""

    # Mangled names (`_LazyModule__name`): no module attribute read through the stand-in can hit them.
    __slots__ = ("__alias", "__name", "__where")

    def __init__(self, name: str, where: dict[str, Any], alias: str | None = None) -> None:
        self.__name = name
        self.__where = where
        self.__alias = alias or name.rsplit(".", 1)[-1]

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self.__name)  # the import lock makes a concurrent first read wait
        if self.__where.get(self.__alias) is self:
            self.__where[self.__alias] = module
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}>"
