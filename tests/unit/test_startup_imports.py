"""What `parley serve` leaves for first use: start-up imports none of the modules below and reads no
operation of the models (BENCHMARKS.md, "Startup"), and a lazily imported module is the real one once read."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from parley.lazy import LazyModule

SRC = Path(__file__).resolve().parents[2] / "src" / "parley"

# Loaded by the first request that needs them, never by building and serving the app.
NOT_AT_STARTUP = (
    "parley.commands",  # the admin subcommands
    "parley.store.sqlite",  # --data-dir
    "sqlite3",
    "parley.chat.flow_runs",  # the flow language: the first flow run or flow validated
    "parley.chat.flowlang.interpreter",
    "parley.chat.flowlang.validation",
    "parley.chat.contacts",  # the domain rules behind the operations
    "parley.chat.conversation",
    "parley.chat.participants",
    "parley.chat.transcript",
    "parley.chat.authentication",
    "parley.chat.attachments",
    "uvicorn.protocols.websockets.websockets_sansio_impl",  # the first WebSocket upgrade
    "websockets",
    "regex",  # the first pattern validated
    "msgspec",  # the first JSON body
    "html.entities",  # the first page that escapes text
    "parley.protocol.sigv4",  # --strict-auth
    "parley.outbound.sender",  # the first Lambda function invoked
    "parley.outbound.python_target",
    "parley.outbound.functions",
    "botocore",
)

PROBE = """
import json, sys
from parley.cli import _parser
from parley.launch import build_app
from parley.settings import load
_parser("serve").parse_known_args(["serve", "--port", "0"])
build_app(load({}, defaults={})).close()
from parley.protocol import spec
print(json.dumps({"modules": sorted(sys.modules), "services": spec.load_operations.cache_info().currsize}))
"""


def test_building_the_app_leaves_the_features_modules_for_their_first_use() -> None:
    found = json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True).stdout)
    assert sorted(set(NOT_AT_STARTUP) & set(found["modules"])) == []
    assert found["services"] == 0  # the operations (and the router) are built by the first AWS request


def test_a_lazy_module_puts_the_module_in_its_place_on_first_read() -> None:
    namespace: dict[str, object] = {}
    namespace["textwrap"] = stand_in = LazyModule("textwrap", namespace)
    assert "lazy module 'textwrap'" in repr(stand_in)
    assert stand_in.dedent("  x") == "x"
    import textwrap

    assert namespace["textwrap"] is textwrap
    assert stand_in.indent("x", " ") == " x"  # a stand-in someone kept still answers


def _type_checking_modules(tree: ast.Module) -> dict[str, str]:
    """The modules a file imports under `if TYPE_CHECKING:`, by the name they are bound to."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        bound[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
                elif isinstance(statement, ast.Import):
                    for alias in statement.names:
                        bound[alias.asname or alias.name] = alias.name
    return bound


def test_each_lazy_module_stands_for_the_module_its_type_checking_import_names() -> None:
    """So mypy and the layering test see what runs: `x = LazyModule("a.b.x", globals())` beside
    `if TYPE_CHECKING: from a.b import x`, under the same name (or `alias`)."""
    mismatched, found = [], 0
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        declared = _type_checking_modules(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
                continue
            call = node.value
            if ast.unparse(call.func) != "LazyModule":
                continue
            found += 1
            target = ast.unparse(node.targets[0])
            module = ast.literal_eval(call.args[0])
            alias = ast.literal_eval(call.args[2]) if len(call.args) > 2 else module.rsplit(".", 1)[-1]
            if alias != target or declared.get(target) != module:
                where = path.relative_to(SRC)
                mismatched.append(f"{where}: {target} = LazyModule({module!r}), declared {declared.get(target)}")
    assert found > 10
    assert mismatched == []
