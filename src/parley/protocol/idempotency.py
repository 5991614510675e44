"""Generic ClientToken replay, driven by the model's `idempotencyToken` trait.

The key is (operation, instance, token) inside the caller's account and region; the fingerprint is
a hash of the canonical request without the token. A stored response is the output dict with
datetimes tagged, so a replay serializes exactly like the original.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parley.lazy import LazyModule
from parley.protocol.spec import OperationSpec, Shape

if TYPE_CHECKING:
    from parley.protocol import fastjson
else:
    fastjson = LazyModule("parley.protocol.fastjson", globals())  # msgspec, loaded by the first body


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$t" in value:
            return datetime.fromtimestamp(value["$t"], UTC)
        if len(value) == 1 and "$b" in value:
            return bytes.fromhex(value["$b"])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def _tagged(value: Any) -> Any:
    """The encoders' `default`: a datetime or bytes value becomes its tag (`_restore` reads it back) as the
    encoder meets it, so a request or output is encoded in one pass, never first copied."""
    if isinstance(value, datetime):
        return {"$t": value.timestamp()}
    if isinstance(value, bytes):
        return {"$b": value.hex()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def key(operation: str, instance_id: str, token: str) -> str:
    return f"{operation}\x1f{instance_id}\x1f{token}"


def fingerprint(params: dict[str, Any], token_member: str, plain: bool = False) -> str:
    """`plain` (see plain_input): the request can hold only strings, integers, booleans, lists and objects,
    so msgspec writes the same bytes as the json module whenever what it wrote is ASCII without DEL (which
    the json module escapes); anything else goes the json module's way, as fingerprints always have."""
    rest = {k: v for k, v in params.items() if k != token_member}
    if plain:
        data = fastjson.encode_sorted(rest)
        if data.isascii() and b"\x7f" not in data:
            return hashlib.sha256(data).hexdigest()
    text = _FINGERPRINT.encode(rest)
    return hashlib.sha256(text.encode()).hexdigest()


_PLAIN_TYPES = frozenset({"string", "integer", "long", "boolean", "structure", "list", "map"})
_plain_inputs: dict[tuple[str, str], bool] = {}


def plain_input(op: OperationSpec) -> bool:
    """Whether no value of `op`'s input can be a timestamp, blob, float or document (worked out once)."""
    key = (op.service, op.name)
    found = _plain_inputs.get(key)
    if found is None:
        seen: set[str] = set()
        found = _plain_inputs[key] = all(_plain(member.shape, seen) for member in op.input_members)
    return found


def _plain(shape: Shape, seen: set[str]) -> bool:
    if shape.name in seen:  # a recursive shape: judged where it was first met
        return True
    seen.add(shape.name)
    kind = shape.type_name
    if kind not in _PLAIN_TYPES or getattr(shape, "is_document_type", False):
        return False
    if kind == "structure":
        return all(_plain(member, seen) for member in shape.members.values())
    if kind == "list":
        return _plain(shape.member, seen)
    if kind == "map":
        return _plain(shape.key, seen) and _plain(shape.value, seen)
    return True


_FINGERPRINT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_tagged)
_OUTPUT = json.JSONEncoder(separators=(",", ":"), default=_tagged)


def encode_output(output: dict[str, Any]) -> str:
    """The stored answer, read back only by `decode_output`. msgspec writes it (a tenth of the json module's
    cost on these small answers: the module builds an encoder per call) once datetimes and bytes carry their
    tags; what it cannot write as the json module reads it back (a float that is not finite, a key or value
    of another type) goes the json module's way."""
    try:
        return fastjson.encode(_tags(output)).decode()
    except (TypeError, ValueError, fastjson.EncodeError):
        return _OUTPUT.encode(output)


def _tags(value: Any) -> Any:
    """`value` with every datetime and bytes value tagged (`_tagged`), and anything msgspec would write in a
    form of its own refused (TypeError), so the answer reads back exactly as the json module's would."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {_key(k): _tags(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_tags(v) for v in value]
    if kind is float and math.isfinite(value):
        return value
    if isinstance(value, datetime | bytes):
        return _tagged(value)
    raise TypeError(f"{kind.__name__} goes the json module's way")


def _key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError("a key that is not a string goes the json module's way")
    return key


def decode_output(text: str) -> dict[str, Any]:
    restored = _restore(json.loads(text))
    assert isinstance(restored, dict)
    return restored
