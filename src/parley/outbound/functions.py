"""Which function a flow names and where it runs (flows.md §6.1): parsing a `LambdaFunctionARN`, and resolving it
against the `--lambda` / `lambdas=` mappings and the Invoke API endpoint, in the spec's order.

Pure: no I/O, no imports of handlers (targets.py loads them), no logging.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from parley.chat.model import Scope

T = TypeVar("T")
ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,140})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function as a flow named it: `value` verbatim, its parts, and the Region its calls are signed for."""

    value: str
    name: str
    qualifier: str | None
    region: str
    account: str
    partition: str = "aws"
    is_arn: bool = True

    @property
    def unqualified_arn(self) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def arn(self) -> str:
        """The ARN the function was invoked as (`invoked_function_arn`), built from the scope for a bare name."""
        suffix = f":{self.qualifier}" if self.qualifier else ""
        return self.unqualified_arn + suffix


def parse_function(value: str, scope: Scope) -> FunctionRef:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`; any other value is used as the name."""
    match = ARN.match(value)
    if match is None:
        return FunctionRef(value, value, None, scope.region, scope.account, is_arn=False)
    return FunctionRef(value, match["name"], match["qualifier"], match["region"], match["account"], match["partition"])


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    """Where an invocation goes: `kind` is `mapped` (then `target` and the matching `key`), `endpoint` or `none`."""

    kind: str
    target: T | None = None
    key: str | None = None


def candidate_keys(ref: FunctionRef) -> tuple[str, ...]:
    """The mapping keys tried, in order: the full ARN (or value), `<name>:<qualifier>`, `<name>`."""
    keys = [ref.value]
    if ref.qualifier:
        keys.append(f"{ref.name}:{ref.qualifier}")
    keys.append(ref.name)
    return tuple(dict.fromkeys(keys))


def resolve(ref: FunctionRef, mapped: Mapping[str, T], endpoint: str | None) -> Route[T]:
    """flows.md §6.1: a mapping by full ARN, then by `name:qualifier`, then by `name`; then the Invoke API; else
    nothing (the caller answers Error and warns)."""
    for key in candidate_keys(ref):
        if key in mapped:
            return Route("mapped", mapped[key], key)
    if endpoint:
        return Route("endpoint")
    return Route("none")


def missing_message(ref: FunctionRef, contact_id: str) -> str:
    """The one warning a missing function gets per contact, saying how to map it."""
    name = ref.name
    return (
        f"lambda.missing function={ref.value} contact={contact_id} — map it with --lambda {name}=http://HOST/PATH "
        f"or --lambda {name}=package.module:handler, or point --lambda-endpoint at sam local start-lambda"
    )
