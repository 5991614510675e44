"""The dependency rule: transport -> services -> chat -> ports. The domain imports no edge."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "parley"
FORBIDDEN_IN_CHAT = (
    "parley.protocol",
    "parley.services",
    "parley.transport",
    "parley.store",
    "parley.app",
    "botocore",
    "uvicorn",
    "sqlite3",
    "starlette",
    "psycopg",
    "redis",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


STORE_PORT = "parley.store.port"  # the store port: the one store module the rest of Parley may import


def offending(package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in imports_of(path):
            if name in allowed:
                continue
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_the_domain_imports_no_edge_no_wire_and_no_sql() -> None:
    assert offending("chat", FORBIDDEN_IN_CHAT) == []


def test_the_wire_layer_knows_nothing_about_chat() -> None:
    assert offending("protocol", ("parley.chat", "parley.services", "parley.transport", "parley.store")) == []


def test_services_do_not_reach_the_edge_or_the_store() -> None:
    forbidden = ("parley.transport", "parley.store", "parley.app", "sqlite3", "psycopg", "psycopg_pool")
    assert offending("services", forbidden, allowed=(STORE_PORT,)) == []


def test_transport_holds_the_store_port_never_an_adapter() -> None:
    forbidden = ("parley.store", "sqlite3", "psycopg", "psycopg_pool")
    assert offending("transport", forbidden, allowed=(STORE_PORT,)) == []


def test_stores_reach_no_service_edge_or_app() -> None:
    forbidden = ("parley.services", "parley.transport", "parley.app", "parley.protocol", "parley.bus")
    assert offending("store", forbidden) == []


def test_only_app_picks_a_store_adapter() -> None:
    users = []
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name == "store" or path.name == "app.py":
            continue
        adapters = [n for n in imports_of(path) if n.startswith("parley.store.") and n != STORE_PORT]
        users += [f"{path.relative_to(SRC)} imports {name}" for name in adapters]
    assert users == []


def test_only_settings_reads_the_environment() -> None:
    readers = [p for p in SRC.rglob("*.py") if "os.environ" in p.read_text() and p.name != "settings.py"]
    assert readers == []


def test_only_spec_imports_botocore_model() -> None:
    users = [p.name for p in SRC.rglob("*.py") if "botocore.model" in p.read_text()]
    assert users == ["spec.py"]


def test_outbound_adapters_reach_no_service_edge_or_store() -> None:
    forbidden = ("parley.transport", "parley.services", "parley.store", "parley.app", "parley.protocol", "sqlite3")
    assert offending("outbound", forbidden) == []
