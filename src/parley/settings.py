"""Settings: the ONLY reader of os.environ.

Every flag has a `PARLEY_*` environment twin; precedence is flag > environment > default.
The result is one frozen `Settings` object handed to `app.build_app`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from parley.chat.policy import Policy
from parley.clock import parse_instant

DEFAULT_ENDPOINT_URL = "http://127.0.0.1:4599"
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A flag or environment value that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4599
    data_dir: str | None = None
    log_level: str = "info"
    strict: bool = False
    strict_auth: bool = False  # PARLEY_STRICT_AUTH: verify SigV4 on Connect calls against `credentials`
    credentials: Mapping[str, str] = field(default_factory=lambda: {"test": "test"})  # access key id -> secret
    account_id: str = "123456789012"
    region: str = "us-east-1"
    secret: str | None = None  # hex; default: generated and kept with the data
    public_url: str | None = None  # base of returned WebSocket URLs; default: from the Host header
    seed: int | None = None
    validation_error: str = "auto"  # PARLEY_VALIDATION_ERROR: auto | InvalidRequestException | ...
    idempotency_ttl_seconds: int = 7 * 24 * 3600
    idempotency_mismatch: str = "error"  # PARLEY_IDEMPOTENCY_MISMATCH: error | new
    create_participant_errors: Mapping[str, str] = field(default_factory=dict)
    sqlite_synchronous: str = "FULL"
    ws_outbox: int = 1000  # frames queued for one socket before it is dropped as too slow
    clock: str = "real"  # PARLEY_CLOCK: real | virtual (moves only through /_parley/clock)
    clock_start: datetime | None = None  # the instant a virtual clock starts at (default: now)
    request_log_size: int = 1000  # recent requests kept for /_parley/requests; 0 = none
    cors_origins: tuple[str, ...] = ("loopback",)  # browser origins CORS allows: loopback, *, null or exact origins
    policy: Policy = field(default_factory=Policy)


# name -> (env var, parser, help)
def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise SettingsError(f"expected a boolean (1/0, true/false, yes/no), got {text!r}")


def _choice(*allowed: str) -> type[str] | object:
    def parse(text: str) -> str:
        if text not in allowed:
            raise SettingsError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse


def _mapping(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise SettingsError(f"expected situation=ErrorCode pairs, got {part!r}")
        out[key.strip()] = value.strip()
    return out


def _nonnegative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise SettingsError(f"expected a whole number >= 0, got {text!r}")
    return value


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise SettingsError(f"expected an ISO-8601 instant like 2026-01-01T00:00:00Z, got {text!r}") from None


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise SettingsError(f"expected a port from 0 to 65535, got {text!r}")
    return value


ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[^/\s:\[\]]+)(:\d{1,5})?$", re.IGNORECASE)
ORIGIN_KEYWORDS = frozenset({"*", "loopback", "null"})


def _origins(text: str) -> tuple[str, ...]:
    """`loopback`, `*`, `null` or exact origins (`scheme://host[:port]`, no path), comma-separated."""
    origins = tuple(part.strip() for part in text.split(",") if part.strip())
    for origin in origins:
        if origin.lower() not in ORIGIN_KEYWORDS and not ORIGIN.match(origin):
            raise SettingsError(f"expected loopback, *, null or origins like http://localhost:3000, got {origin!r}")
    return origins


def _credentials(text: str) -> dict[str, str]:
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


# (field, flag, env, parser, help)
OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    ("host", "--host", "PARLEY_HOST", str, "bind address"),
    ("port", "--port", "PARLEY_PORT", _port, "port; 0 picks a free one"),
    (
        "data_dir",
        "--data-dir",
        "PARLEY_DATA_DIR",
        str,
        "directory for a durable SQLite store (default: in memory)",
    ),
    (
        "log_level",
        "--log-level",
        "PARLEY_LOG_LEVEL",
        _choice("debug", "info", "warning", "error"),
        "log level",
    ),
    ("strict", "--strict", "PARLEY_STRICT", _bool, "refuse unknown request members"),
    ("strict_auth", "--strict-auth", "PARLEY_STRICT_AUTH", _bool, "verify SigV4 on Connect calls (--credentials)"),
    (
        "credentials",
        "--credentials",
        "PARLEY_CREDENTIALS",
        _credentials,
        "AKID:SECRET[,...] that --strict-auth accepts (default test:test)",
    ),
    (
        "account_id",
        "--account-id",
        "PARLEY_ACCOUNT_ID",
        str,
        "account when the access key id is not 12 digits",
    ),
    ("region", "--region", "PARLEY_REGION", str, "region when the request names none"),
    (
        "secret",
        "--secret",
        "PARLEY_SECRET",
        str,
        "hex key signing tokens (default: generated, kept with the data)",
    ),
    (
        "public_url",
        "--public-url",
        "PARLEY_PUBLIC_URL",
        str,
        "base URL clients reach Parley at, for the URLs it hands out (default: from the Host header)",
    ),
    ("seed", "--seed", "PARLEY_SEED", int, "seed for reproducible ids and tokens"),
    ("clock", "--clock", "PARLEY_CLOCK", _choice("real", "virtual"), "virtual: moves only through /_parley/clock"),
    ("clock_start", "--clock-start", "PARLEY_CLOCK_START", _instant, "ISO-8601 instant a virtual clock starts at"),
    ("validation_error", "--validation-error", "PARLEY_VALIDATION_ERROR", str, "auto or a fixed error code"),
    (
        "idempotency_ttl_seconds",
        "--idempotency-ttl",
        "PARLEY_IDEMPOTENCY_TTL",
        _nonnegative,
        "ClientToken lifetime",
    ),
    (
        "idempotency_mismatch",
        "--idempotency-mismatch",
        "PARLEY_IDEMPOTENCY_MISMATCH",
        _choice("error", "new"),
        "same ClientToken, other parameters",
    ),
    (
        "create_participant_errors",
        "--create-participant-errors",
        "PARLEY_CREATE_PARTICIPANT_ERRORS",
        _mapping,
        "override CreateParticipant errors: ended=,blocked=,quota=,invalid=",
    ),
    ("ws_outbox", "--ws-outbox", "PARLEY_WS_OUTBOX", _nonnegative, "frames queued per socket before dropping it"),
    (
        "request_log_size",
        "--request-log-size",
        "PARLEY_REQUEST_LOG_SIZE",
        _nonnegative,
        "recent requests kept for /_parley/requests; 0=none",
    ),
    (
        "sqlite_synchronous",
        "--sqlite-synchronous",
        "PARLEY_SQLITE_SYNCHRONOUS",
        _choice("FULL", "NORMAL"),
        "durable store fsync",
    ),
    (
        "cors_origins",
        "--cors-origins",
        "PARLEY_CORS_ORIGINS",
        _origins,
        "browser origins allowed by CORS: loopback (default), *, or a,b of scheme://host[:port]",
    ),
)

POLICY_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    (
        "quota_instances",
        "--quota-instances",
        "PARLEY_QUOTA_INSTANCES",
        _nonnegative,
        "instances per account; 0=no cap",
    ),
    (
        "quota_active_chats",
        "--quota-active-chats",
        "PARLEY_QUOTA_ACTIVE_CHATS",
        _nonnegative,
        "active chats per instance; 0=no cap",
    ),
    (
        "chat_capabilities",
        "--chat-capabilities",
        "PARLEY_CHAT_CAPABILITIES",
        _choice("ignore", "reject"),
        "ParticipantCapabilities on a chat",
    ),
    (
        "stop_ended",
        "--stop-ended",
        "PARLEY_STOP_ENDED",
        _choice("error", "ok"),
        "StopContact on an ended chat",
    ),
    ("bot_connect_timeout", "--bot-connect-timeout", "PARLEY_BOT_CONNECT_TIMEOUT", _nonnegative, "seconds; 0=off"),
    (
        "customer_connect_timeout",
        "--customer-connect-timeout",
        "PARLEY_CUSTOMER_CONNECT_TIMEOUT",
        _nonnegative,
        "seconds the customer has to connect before the chat ends; 0=off",
    ),
    ("message_limits", "--message-limits", "PARLEY_MESSAGE_LIMITS", _choice("current", "legacy"), "SendMessage"),
    (
        "receipts_multiparty",
        "--receipts-multiparty",
        "PARLEY_RECEIPTS_MULTIPARTY",
        _choice("conflict", "drop"),
        "receipts with more than two participants",
    ),
    (
        "connection_token_seconds",
        "--connection-token-seconds",
        "PARLEY_CONNECTION_TOKEN_SECONDS",
        _nonnegative,
        "ConnectionCredentials lifetime; at least 120 s is served",
    ),
    (
        "persist_extra_events",
        "--persist-extra-events",
        "PARLEY_PERSIST_EXTRA_EVENTS",
        _bool,
        "keep admin-injected rare events (participant.active, chat.rehydrated, ...) in transcripts",
    ),
    (
        "attachment_scan",
        "--attachment-scan",
        "PARLEY_ATTACHMENT_SCAN",
        _choice("approve", "reject", "pending"),
        "the scan outcome of a completed attachment upload",
    ),
    (
        "attachments_per_chat",
        "--attachments-per-chat",
        "PARLEY_ATTACHMENTS_PER_CHAT",
        _nonnegative,
        "attachment uploads per chat; 0=no cap",
    ),
)


SWITCHES = frozenset({"strict", "strict_auth"})  # flags that take no value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name, flag, env, _, text in (*OPTIONS, *POLICY_OPTIONS):
        if name in SWITCHES:
            parser.add_argument(flag, dest=name, action="store_const", const="true", help=f"{text} [{env}]")
        else:
            parser.add_argument(flag, dest=name, help=f"{text} [{env}]")


def _resolve(
    options: Sequence[tuple[str, str, str, object, str]],
    args: Mapping[str, str | None],
    environ: Mapping[str, str],
) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, flag, env, parse, _ in options:
        raw = args.get(name)
        source = flag
        if raw is None:
            raw = environ.get(env)
            source = env
        if raw is None:
            continue
        try:
            values[name] = parse(raw)  # type: ignore[operator]
        except (ValueError, SettingsError) as exc:
            raise SettingsError(f"{source}: {exc}") from None
    return values


def load(args: Mapping[str, str | None] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from parsed flags (a name -> text mapping) and the environment."""
    args = args or {}
    environ = os.environ if environ is None else environ
    values = _resolve(OPTIONS, args, environ)
    policy = dataclasses.replace(Policy(), **_resolve(POLICY_OPTIONS, args, environ))  # type: ignore[arg-type]
    return Settings(policy=policy, **values)  # type: ignore[arg-type]


def endpoint_url(flag: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Where the admin subcommands find a running Parley: --endpoint-url > PARLEY_ENDPOINT_URL > default."""
    environ = os.environ if environ is None else environ
    url = flag or environ.get("PARLEY_ENDPOINT_URL") or DEFAULT_ENDPOINT_URL
    if not url.startswith(("http://", "https://")):
        source = "--endpoint-url" if flag else "PARLEY_ENDPOINT_URL"
        raise SettingsError(f"{source}: expected an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")


def _as_text(value: object) -> str:
    """A keyword value as the text its flag would carry, so both go through the same parser."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ",".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value)
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


def option_names() -> tuple[str, ...]:
    return tuple(name for name, *_ in (*OPTIONS, *POLICY_OPTIONS))


def configure(**keywords: object) -> Settings:
    """Settings from Python keywords named like the Settings fields (`data_dir=…`, `quota_instances=0`).

    Values are checked by the same parsers as the flags; None means the default. The environment is not
    read: an in-process server is configured by its caller alone."""
    known = option_names()
    unknown = sorted(set(keywords) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting {', '.join(unknown)}; known settings: {', '.join(known)}")
    texts = {name: _as_text(value) for name, value in keywords.items() if value is not None}
    credentials = keywords.get("credentials")
    if isinstance(credentials, Mapping):  # {"AKID": "SECRET"} as the flag's AKID:SECRET pairs
        texts["credentials"] = ",".join(f"{key}:{secret}" for key, secret in credentials.items())
    return load(texts, environ={})
