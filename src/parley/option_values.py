"""What a setting's text may be: one parser per kind of value (a flag's or an environment variable's text ->
the value), raising `SettingsError` with what was expected. Reads nothing; `settings.py` applies them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.clock import parse_instant

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A flag or environment value that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class SnsRoute:
    """One `--sns TOPIC=TARGET[;filter=JSON]`: a topic ARN or name, where it goes, its filter policy."""

    topic: str
    target: str  # http(s)://…, lambda:NAME, python:KEY, capture or drop
    filter: Mapping[str, Any] | None = None


# name -> (env var, parser, help)
def boolean(text: str) -> bool:
    low = text.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise SettingsError(f"expected a boolean (1/0, true/false, yes/no), got {text!r}")


def choice(*allowed: str) -> type[str] | object:
    def parse(text: str) -> str:
        if text not in allowed:
            raise SettingsError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse


def mapping(text: str) -> dict[str, str]:
    """`key=value` pairs, comma-separated."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise SettingsError(f"expected key=value pairs, got {part!r}")
        out[key.strip()] = value.strip()
    return out


PARTICIPANT_SITUATIONS = ("not_found", "invalid", "conflict", "quota")  # services.connect maps them to errors


def situations(text: str) -> dict[str, str]:
    """`situation=ErrorCode` pairs; the situations are CreateParticipant's (the codes are checked by the app)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep:
            raise SettingsError(f"expected situation=ErrorCode pairs, got {part!r}")
        if key not in PARTICIPANT_SITUATIONS:
            raise SettingsError(f"unknown situation {key!r}; the situations are {', '.join(PARTICIPANT_SITUATIONS)}")
        if not value:
            raise SettingsError(f"{key}= needs an error code, e.g. {key}=InvalidRequestException")
        out[key] = value
    return out


def nonnegative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise SettingsError(f"expected a whole number >= 0, got {text!r}")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 86400:
        raise SettingsError(f"expected seconds from 0 to 86400, got {text!r}")
    return value


def lease_seconds(text: str) -> float:
    value = float(text)
    if not 0.2 <= value <= 3600:
        raise SettingsError(f"expected seconds from 0.2 to 3600, got {text!r}")
    return value


def instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise SettingsError(f"expected an ISO-8601 instant like 2026-01-01T00:00:00Z, got {text!r}") from None


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise SettingsError(f"expected a port from 0 to 65535, got {text!r}")
    return value


ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[^/\s:\[\]]+)(:\d{1,5})?$", re.IGNORECASE)
ORIGIN_KEYWORDS = frozenset({"*", "loopback", "null"})


def origins(text: str) -> tuple[str, ...]:
    """`loopback`, `*`, `null` or exact origins (`scheme://host[:port]`, no path), comma-separated."""
    origins = tuple(part.strip() for part in text.split(",") if part.strip())
    for origin in origins:
        if origin.lower() not in ORIGIN_KEYWORDS and not ORIGIN.match(origin):
            raise SettingsError(f"expected loopback, *, null or origins like http://localhost:3000, got {origin!r}")
    return origins


def credentials(text: str) -> dict[str, str]:
    """`AKID:SECRET[,AKID:SECRET…]`; a secret may contain `:`, neither part may be empty."""
    keys: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, secret = pair.partition(":")
        if not sep or not key or not secret:
            raise SettingsError("expected ACCESS_KEY_ID:SECRET_ACCESS_KEY[,...]")
        keys[key] = secret
    if not keys:
        raise SettingsError("expected at least one ACCESS_KEY_ID:SECRET_ACCESS_KEY")
    return keys


SNS_TARGET = re.compile(r"^(https?://\S+|lambda:\S+|python:\S+|capture|drop)$")


def sns_route(text: str) -> SnsRoute:
    head, _, rest = text.partition(";filter=")
    topic, sep, target = head.partition("=")
    if not sep or not topic.strip() or not SNS_TARGET.match(target.strip()):
        raise SettingsError(
            f"expected TOPIC=TARGET[;filter=JSON] (TARGET http(s)://…, lambda:NAME, capture, drop), got {text!r}"
        )
    policy: Any = None
    if rest:
        try:
            policy = json.loads(rest)
        except ValueError:
            raise SettingsError(f"the filter of {topic.strip()!r} is not JSON: {rest!r}") from None
        if not isinstance(policy, dict):
            raise SettingsError(f"the filter of {topic.strip()!r} must be a JSON object")
    return SnsRoute(topic.strip(), target.strip(), policy)


def sns_routes(text: str) -> tuple[SnsRoute, ...]:
    """Newline-separated routes (filters contain commas)."""
    return tuple(sns_route(line.strip()) for line in text.splitlines() if line.strip())


def sns_endpoint(text: str) -> str:
    if text != "aws" and not text.startswith(("http://", "https://")):
        raise SettingsError(f"expected an http(s):// URL or aws, got {text!r}")
    return text.rstrip("/")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise SettingsError(f"expected a whole number >= 1, got {text!r}")
    return value


def token(text: str) -> str:
    if len(text) < 8 or any(c.isspace() or not c.isprintable() for c in text) or ";" in text or "," in text:
        raise SettingsError("expected at least 8 printable characters without spaces, ',' or ';'")
    return text


# -- Lambda functions (flows.md §1, §6) -------------------------------------------------------------------
MODULE_FUNCTION = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
LAMBDA_NAME = re.compile(r"^[^\s=,]{1,256}$")
MAX_LAMBDA_TIMEOUT = 900.0  # Lambda's own ceiling, in seconds


def lambda_pair(part: str) -> tuple[str, str]:
    name, sep, target = (piece.strip() for piece in part.partition("="))
    if not sep or not LAMBDA_NAME.match(name):
        raise SettingsError(
            f"expected NAME=TARGET (a function name or ARN, then a URL or module:function), got {part!r}"
        )
    url = target.startswith(("http://", "https://")) and len(target.split("://", 1)[1]) > 0
    if not url and not MODULE_FUNCTION.match(target):
        raise SettingsError(
            f"{name}: expected an http:// or https:// URL or package.module:function as the target, got {target!r}"
        )
    return name, target


def lambda_targets(text: str) -> dict[str, str]:
    """`NAME=TARGET` pairs, separated by commas or newlines; a name mapped twice is refused."""
    targets: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", text))):
        name, target = lambda_pair(part)
        if name in targets and targets[name] != target:
            raise SettingsError(f"{name} is mapped twice, to {targets[name]!r} and to {target!r}")
        targets[name] = target
    return targets


def http_url(text: str) -> str:
    url = text.strip()
    if not url.startswith(("http://", "https://")) or not url.split("://", 1)[1].strip("/"):
        raise SettingsError(f"expected an http:// or https:// URL such as http://127.0.0.1:3001, got {text!r}")
    return url.rstrip("/")


def redis_url(text: str) -> str:
    """A Redis server's URL, as redis-py reads it: redis://, rediss:// (TLS) or unix://."""
    url = text.strip()
    if not url.startswith(("redis://", "rediss://", "unix://")) or not url.split("://", 1)[1]:
        raise SettingsError(f"expected a redis://, rediss:// or unix:// URL (redis://127.0.0.1:6379), got {text!r}")
    return url


def lambda_timeout(text: str) -> float | None:
    """`flow` (the action's InvocationTimeLimitSeconds) or seconds, 0 < s <= 900."""
    if text.strip() == "flow":
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise SettingsError(f"expected flow or a number of seconds, got {text!r}") from None
    if not 0 < seconds <= MAX_LAMBDA_TIMEOUT:
        raise SettingsError(f"expected flow or seconds above 0 and at most {MAX_LAMBDA_TIMEOUT:g}, got {text!r}")
    return seconds


def postgres_url(text: str) -> str:
    """A libpq connection URL: postgresql://[user[:password]@]host[:port]/database[?options]."""
    url = text.strip()
    if not url.startswith(("postgresql://", "postgres://")) or not url.split("://", 1)[1]:
        raise SettingsError(f"expected a postgresql:// URL such as postgresql://parley@db:5432/parley, got {text!r}")
    return url
