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
    "parley.bus.memory",
    "parley.bus.redis",
    "parley.bus.local",
)
BUS_ADAPTERS = ("parley.bus.memory", "parley.bus.redis", "parley.bus.local")
PORTS = ("parley.bus.port", "parley.store.port")  # what may be named outside the adapters' own packages


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
    forbidden = ("parley.transport", "parley.store", "parley.app", "sqlite3", *BUS_ADAPTERS, "redis", "psycopg")
    assert offending("services", forbidden, allowed=(STORE_PORT,)) == []


def test_transport_goes_through_services_and_the_bus_port() -> None:
    """The edge runs no unit of work and names no concrete bus: app.py hands it services and the port. It
    holds services, never a store (port or adapter)."""
    assert offending("transport", ("parley.store", *BUS_ADAPTERS, "redis", "psycopg", "sqlite3")) == []
    holders = []
    for path in sorted((SRC / "transport").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and any(alias.name == "Store" for alias in node.names):
                holders.append(f"{path.relative_to(SRC)} imports Store from {node.module}")
    assert holders == []


def test_only_app_picks_the_adapters() -> None:
    """Outside their own packages, the store and the bus are named by their ports alone, except in app.py."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC)
        if where.parts[0] in ("store", "bus") or where == Path("app.py"):
            continue
        for name in imports_of(path):
            adapter = name.startswith(("parley.store", "parley.bus")) and not name.startswith(PORTS)
            if adapter or name in ("parley.store", "parley.bus"):
                found.append(f"{where} imports {name}")
    assert found == []


def test_the_bus_knows_nothing_above_it() -> None:
    forbidden = ("parley.transport", "parley.services", "parley.store", "parley.app", "parley.protocol")
    assert offending("bus", forbidden) == []


def test_stores_reach_no_service_edge_or_app() -> None:
    forbidden = ("parley.services", "parley.transport", "parley.app", "parley.protocol", "parley.bus")
    assert offending("store", forbidden) == []


def test_only_settings_reads_the_environment() -> None:
    readers = [p for p in SRC.rglob("*.py") if "os.environ" in p.read_text() and p.name != "settings.py"]
    assert readers == []


def test_only_the_model_modules_import_botocore_model() -> None:
    """spec.py (for types only) and botocore_models.py (tests, the generator): serving reads the generated models."""
    users = sorted(p.name for p in SRC.rglob("*.py") if "botocore.model" in p.read_text())
    assert users == ["botocore_models.py", "spec.py"]


def test_outbound_adapters_reach_no_service_edge_or_store() -> None:
    forbidden = ("parley.transport", "parley.services", "parley.store", "parley.app", "parley.protocol", "sqlite3")
    assert offending("outbound", forbidden) == []
