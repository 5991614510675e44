"""protocol/models/*.json (written by `make`, or by the first start that finds none; not kept in git) are
botocore's models less their documentation, and the shapes Parley builds from
them answer as botocore's do. A botocore upgrade that changes a model fails here: regenerate the files with
`python -m parley.protocol.generate_models` and review the difference."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from parley.protocol.generate_models import generated, path_of
from parley.protocol.spec import API_VERSIONS, Shape, error_shape, load_operations, service_model

SERVICES = sorted(API_VERSIONS)


@pytest.mark.parametrize("service", SERVICES)
def test_the_generated_file_is_what_botocore_gives(service: str) -> None:
    load_operations(service)  # reads the file, writing it first if it is missing
    assert path_of(service).read_text(encoding="utf-8") == generated(service), (
        f"{path_of(service).name} differs from botocore's model: run python -m parley.protocol.generate_models"
    )


def assert_same_shape(ours: Shape, theirs: Any, path: str, seen: set[str]) -> None:
    assert (ours.name, ours.type_name) == (theirs.name, theirs.type_name), path
    assert ours.serialization == theirs.serialization, path
    assert ours.metadata == theirs.metadata, path
    signature = json.dumps([theirs.name, theirs.serialization, theirs.metadata], sort_keys=True, default=str)
    if signature in seen:  # recursive shapes, and the many references to the same shape
        return
    seen.add(signature)
    if theirs.type_name == "structure":
        assert list(ours.members) == list(theirs.members), path
        assert ours.required_members == theirs.required_members, path
        assert (ours.is_document_type, ours.is_tagged_union) == (theirs.is_document_type, theirs.is_tagged_union)
        for name, member in theirs.members.items():
            assert_same_shape(ours.members[name], member, f"{path}.{name}", seen)
    elif theirs.type_name == "list":
        assert_same_shape(ours.member, theirs.member, f"{path}[]", seen)
    elif theirs.type_name == "map":
        assert_same_shape(ours.key, theirs.key, f"{path}{{key}}", seen)
        assert_same_shape(ours.value, theirs.value, f"{path}{{value}}", seen)
    elif theirs.type_name == "string":
        assert ours.enum == theirs.enum, path


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_resolves_as_botocore_resolves_it(service: str) -> None:
    model, seen = service_model(service), set[str]()
    operations = load_operations(service)
    assert list(operations) == list(model.operation_names)
    for name, op in operations.items():
        theirs = model.operation_model(name)
        assert (op.method, op.uri) == (theirs.http["method"], theirs.http["requestUri"])
        assert op.error_codes == frozenset(shape.name for shape in theirs.error_shapes)
        for ours_shape, their_shape, side in (
            (op.input_shape, theirs.input_shape, "in"),
            (op.output_shape, theirs.output_shape, "out"),
        ):
            assert (ours_shape is None) == (their_shape is None), f"{name} {side}"
            if ours_shape is not None:
                assert_same_shape(ours_shape, their_shape, f"{name}:{side}", seen)


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_shape_is_botocores(service: str) -> None:
    for theirs in service_model(service).error_shapes:
        ours = error_shape(service, theirs.name)
        assert ours is not None, theirs.name
        assert_same_shape(ours, theirs, theirs.name, set())
    assert error_shape(service, "NoSuchShapeAnywhere") is None


def test_serving_imports_no_botocore() -> None:
    """`parley serve` builds its app without botocore (~100 ms of imports, ~50 ms of model parsing)."""
    code = (
        "import sys\n"
        "from parley.launch import build_app\n"
        "from parley.settings import load\n"
        "build_app(load({}, defaults={})).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'urllib3', 'boto3')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
