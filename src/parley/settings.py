"""Settings: the ONLY reader of os.environ.

Every flag has a `PARLEY_*` environment twin; precedence is flag > environment > default.
The result is one frozen `Settings` object handed to `app.build_app`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

from parley.chat.policy import Policy
from parley.clock import parse_instant
from parley.limits import Limits

DEFAULT_ENDPOINT_URL = "http://127.0.0.1:4599"
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
    idempotency_mismatch_errors: Mapping[str, str] = field(default_factory=dict)  # Operation=DeclaredError
    create_participant_errors: Mapping[str, str] = field(default_factory=dict)
    sqlite_synchronous: str = "FULL"
    ws_outbox: int = 1000  # frames queued for one socket before it is dropped as too slow
    clock: str = "real"  # PARLEY_CLOCK: real | virtual (moves only through /_parley/clock)
    clock_start: datetime | None = None  # the instant a virtual clock starts at (default: now)
    request_log_size: int = 1000  # recent requests kept for /_parley/requests; 0 = none
    cors_origins: tuple[str, ...] = ("loopback",)  # browser origins CORS allows: loopback, *, null or exact origins
    log_format: str = "text"  # PARLEY_LOG_FORMAT: text | json (one JSON object per line)
    port_file: str | None = None  # PARLEY_PORT_FILE: the URL is written there once listening
    import_file: str | None = None  # PARLEY_IMPORT: a state snapshot imported at start
    init_dir: str | None = None  # PARLEY_INIT: snapshots and scripts applied in name order once ready
    ui: bool = True  # --no-ui / PARLEY_UI=false: no web console at /_parley/ui/
    admin_token: str | None = None  # required for /_parley/ when the bind address is not loopback
    policy: Policy = field(default_factory=Policy)
    # flows.md §1: running flows
    flows: str = "run"  # run | off (v1: stored, never run)
    flow_start: str = "connect"  # connect | start
    unsupported_action: str = "error"  # error | skip | end
    chat_text_input: str = "error"  # error | accept
    hours: str = "open"  # open | closed
    flow_max_steps: int = 1000
    flow_disconnect_reason: str = "none"  # none | CONTACT_FLOW_DISCONNECT
    lambda_string_map: str = "coerce"  # coerce | strict
    external_on_error: str = "clear"  # clear | keep
    language_code: str = "en-US"
    lambda_require_association: bool = False
    limits: Limits = field(default_factory=Limits)  # edge sizes, rates and timeouts (LIMIT_OPTIONS)
    # Lambda functions (flows.md §6): name or ARN -> `http(s)://…` or `module:function`
    lambdas: Mapping[str, str] = field(default_factory=dict)
    lambda_endpoint: str | None = None  # the Lambda Invoke API (sam local start-lambda, LocalStack)
    lambda_timeout: float | None = None  # seconds overriding InvocationTimeLimitSeconds; None = the flow's
    lambda_workers: int = 8  # threads running `module:function` targets
    lambda_function_name: str = "name"  # what an Invoke API call names: the ARN's function `name`, or the `arn`
    # chat message streaming (streaming.md §4-§7)
    sns_endpoint: str | None = None  # PARLEY_SNS_ENDPOINT, then AWS_ENDPOINT_URL_SNS; `aws` = real SNS
    sns_targets: tuple[SnsRoute, ...] = ()  # --sns TOPIC=TARGET[;filter=JSON]
    sns_unrouted: str = "capture"  # PARLEY_SNS_UNROUTED: capture | reject
    sns_sign: str = "rsa"  # PARLEY_SNS_SIGN: rsa | none
    sns_capture: int = 1000  # captured notifications kept per topic
    stream_max_attempts: int = 10
    stream_max_age: int = 3600  # seconds
    stream_on_dead: str = "skip"  # skip | pause
    stream_max_pending: int = 10000
    stream_history: int = 100
    stream_drain_seconds: float = 5.0
    sources: Mapping[str, str] = field(default_factory=dict)  # setting -> flag | env | keyword (absent: default)

    def origin(self, name: str) -> str:
        """How the user named a setting, for messages: its flag, its environment variable, or both."""
        for option, flag, env, *_ in (*OPTIONS, *FLOW_OPTIONS, *POLICY_OPTIONS, *LIMIT_OPTIONS):
            if option == name:
                return {"flag": flag, "env": env, "keyword": name}.get(self.sources.get(name, ""), f"{flag} / {env}")
        return name


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
    """`key=value` pairs, comma-separated."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise SettingsError(f"expected key=value pairs, got {part!r}")
        out[key.strip()] = value.strip()
    return out


PARTICIPANT_SITUATIONS = ("not_found", "invalid", "conflict", "quota")  # services.connect maps them to errors


def _situations(text: str) -> dict[str, str]:
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


def _nonnegative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise SettingsError(f"expected a whole number >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 86400:
        raise SettingsError(f"expected seconds from 0 to 86400, got {text!r}")
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


SNS_TARGET = re.compile(r"^(https?://\S+|lambda:\S+|python:\S+|capture|drop)$")


def _sns_route(text: str) -> SnsRoute:
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


def _sns_routes(text: str) -> tuple[SnsRoute, ...]:
    """Newline-separated routes (filters contain commas)."""
    return tuple(_sns_route(line.strip()) for line in text.splitlines() if line.strip())


def _sns_endpoint(text: str) -> str:
    if text != "aws" and not text.startswith(("http://", "https://")):
        raise SettingsError(f"expected an http(s):// URL or aws, got {text!r}")
    return text.rstrip("/")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise SettingsError(f"expected a whole number >= 1, got {text!r}")
    return value


def _token(text: str) -> str:
    if len(text) < 8 or any(c.isspace() or not c.isprintable() for c in text) or ";" in text or "," in text:
        raise SettingsError("expected at least 8 printable characters without spaces, ',' or ';'")
    return text


LOOPBACK_HOSTS = frozenset({"localhost", "::1", "[::1]"})


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; a wildcard (0.0.0.0, ::) or any other address is not."""
    return host.lower() in LOOPBACK_HOSTS or host.startswith("127.")


def admin_token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The token the admin subcommands send to a Parley that requires one (PARLEY_ADMIN_TOKEN)."""
    environ = os.environ if environ is None else environ
    return environ.get("PARLEY_ADMIN_TOKEN") or None


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
        "idempotency_mismatch_errors",
        "--idempotency-mismatch-errors",
        "PARLEY_IDEMPOTENCY_MISMATCH_ERRORS",
        _mapping,
        "Operation=ErrorCode pairs: the declared error a reused ClientToken with other parameters answers",
    ),
    (
        "create_participant_errors",
        "--create-participant-errors",
        "PARLEY_CREATE_PARTICIPANT_ERRORS",
        _situations,
        "override CreateParticipant errors: situation=ErrorCode pairs, situations not_found, invalid, conflict, quota",
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
    ("log_format", "--log-format", "PARLEY_LOG_FORMAT", _choice("text", "json"), "json: one JSON object per line"),
    ("port_file", "--port-file", "PARLEY_PORT_FILE", str, "write the URL to this file once listening"),
    ("import_file", "--import", "PARLEY_IMPORT", str, "import this state snapshot (parley export's JSON) at start"),
    (
        "init_dir",
        "--init",
        "PARLEY_INIT",
        str,
        "once ready, apply this directory's *.json snapshots and run its *.sh/*.py scripts, in name order",
    ),
    ("ui", "--no-ui", "PARLEY_UI", _bool, "serve no web console at /_parley/ui/"),
    (
        "admin_token",
        "--admin-token",
        "PARLEY_ADMIN_TOKEN",
        _token,
        "token the admin API and console require when the bind address is not loopback",
    ),
    ("sns_endpoint", "--sns-endpoint", "PARLEY_SNS_ENDPOINT", _sns_endpoint, "SNS Publish API URL, or aws"),
    ("sns_targets", "--sns", "PARLEY_SNS_TARGETS", _sns_routes, "TOPIC=TARGET[;filter=JSON], repeatable"),
    ("sns_unrouted", "--sns-unrouted", "PARLEY_SNS_UNROUTED", _choice("capture", "reject"), "unrouted topics"),
    ("sns_sign", "--sns-sign", "PARLEY_SNS_SIGN", _choice("rsa", "none"), "webhook notification Signature"),
    ("sns_capture", "--sns-capture", "PARLEY_SNS_CAPTURE", _nonnegative, "captured messages per topic; 0=none"),
    ("stream_max_attempts", "--stream-max-attempts", "PARLEY_STREAM_MAX_ATTEMPTS", _positive, "delivery attempts"),
    ("stream_max_age", "--stream-max-age", "PARLEY_STREAM_MAX_AGE", _positive, "seconds a message is retried"),
    ("stream_on_dead", "--stream-on-dead", "PARLEY_STREAM_ON_DEAD", _choice("skip", "pause"), "after a dead message"),
    ("stream_max_pending", "--stream-max-pending", "PARLEY_STREAM_MAX_PENDING", _positive, "pending per stream"),
    ("stream_history", "--stream-history", "PARLEY_STREAM_HISTORY", _nonnegative, "delivered kept per stream"),
    ("stream_drain_seconds", "--stream-drain-seconds", "PARLEY_STREAM_DRAIN_SECONDS", _seconds, "shutdown drain"),
)

# -- Lambda functions (flows.md §1, §6) -------------------------------------------------------------------
MODULE_FUNCTION = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
LAMBDA_NAME = re.compile(r"^[^\s=,]{1,256}$")
MAX_LAMBDA_TIMEOUT = 900.0  # Lambda's own ceiling, in seconds
REPEATABLE = frozenset({"lambdas", "sns_targets"})  # flags given once per value; their texts are joined by newlines
FALLBACK_ENV = {
    "lambda_endpoint": "AWS_ENDPOINT_URL_LAMBDA",
    "sns_endpoint": "AWS_ENDPOINT_URL_SNS",
}  # read when the PARLEY_* twin is unset


class _Repeated(argparse.Action):
    """`--lambda a=x --lambda b=y` -> "a=x\nb=y": one text, parsed like the environment's list."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        earlier = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, f"{earlier}\n{values}" if earlier else str(values))


def _lambda_pair(part: str) -> tuple[str, str]:
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


def _lambda_targets(text: str) -> dict[str, str]:
    """`NAME=TARGET` pairs, separated by commas or newlines; a name mapped twice is refused."""
    targets: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", text))):
        name, target = _lambda_pair(part)
        if name in targets and targets[name] != target:
            raise SettingsError(f"{name} is mapped twice, to {targets[name]!r} and to {target!r}")
        targets[name] = target
    return targets


def _http_url(text: str) -> str:
    url = text.strip()
    if not url.startswith(("http://", "https://")) or not url.split("://", 1)[1].strip("/"):
        raise SettingsError(f"expected an http:// or https:// URL such as http://127.0.0.1:3001, got {text!r}")
    return url.rstrip("/")


def _lambda_timeout(text: str) -> float | None:
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


LAMBDA_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    (
        "lambdas",
        "--lambda",
        "PARLEY_LAMBDAS",
        _lambda_targets,
        "run a Lambda function locally: NAME=http(s)://HOST/PATH or NAME=package.module:function; repeatable "
        "(PARLEY_LAMBDAS: comma- or newline-separated)",
    ),
    (
        "lambda_endpoint",
        "--lambda-endpoint",
        "PARLEY_LAMBDA_ENDPOINT",
        _http_url,
        "Lambda Invoke API for functions not mapped with --lambda, e.g. sam local start-lambda's "
        "http://127.0.0.1:3001 (else AWS_ENDPOINT_URL_LAMBDA)",
    ),
    (
        "lambda_timeout",
        "--lambda-timeout",
        "PARLEY_LAMBDA_TIMEOUT",
        _lambda_timeout,
        "flow (the action's InvocationTimeLimitSeconds) or seconds overriding it, for slow local runtimes",
    ),
    ("lambda_workers", "--lambda-workers", "PARLEY_LAMBDA_WORKERS", _positive, "threads for module:function targets"),
    (
        "lambda_function_name",
        "--lambda-function-name",
        "PARLEY_LAMBDA_FUNCTION_NAME",
        _choice("name", "arn"),
        "what an Invoke API call names: the ARN's function name, or the ARN",
    ),
)
OPTIONS = (*OPTIONS, *LAMBDA_OPTIONS)

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
        "flow_validation",
        "--flow-validation",
        "PARLEY_FLOW_VALIDATION",
        _choice("aws", "structure", "json"),
        "published flow content: aws = the flow language (flows.md §2), structure = rows 1-6, json = a JSON object",
    ),
    (
        "attachments_per_chat",
        "--attachments-per-chat",
        "PARLEY_ATTACHMENTS_PER_CHAT",
        _nonnegative,
        "attachment uploads per chat; 0=no cap",
    ),
    ("stream_duplicate", "--stream-duplicate", "PARLEY_STREAM_DUPLICATE", _choice("same", "new"), "same topic again"),
    ("stream_attachments", "--stream-attachments", "PARLEY_STREAM_ATTACHMENTS", _bool, "stream ATTACHMENT items"),
    ("stream_receipts", "--stream-receipts", "PARLEY_STREAM_RECEIPTS", _bool, "stream MESSAGEMETADATA receipts"),
    (
        "connect_participant_strict",
        "--connect-participant-strict",
        "PARLEY_CONNECT_PARTICIPANT_STRICT",
        _bool,
        "refuse a customer's ConnectParticipant without streaming",
    ),
)


# flows.md §1
FLOW_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    ("flows", "--flows", "PARLEY_FLOWS", _choice("run", "off"), "run contact flows; off = stored, never run"),
    (
        "flow_start",
        "--flow-start",
        "PARLEY_FLOW_START",
        _choice("connect", "start"),
        "when a chat's flow starts: the customer's first connection, or StartChatContact",
    ),
    (
        "unsupported_action",
        "--unsupported-action",
        "PARLEY_UNSUPPORTED_ACTION",
        _choice("error", "skip", "end"),
        "a flow action Parley does not run: take its Error branch, skip it, or end the flow",
    ),
    (
        "chat_text_input",
        "--chat-text-input",
        "PARLEY_CHAT_TEXT_INPUT",
        _choice("error", "accept"),
        "GetParticipantInput on chat: Error branch (AWS without Lex), or read the customer's next message",
    ),
    ("hours", "--hours", "PARLEY_HOURS", _choice("open", "closed"), "what CheckHoursOfOperation answers"),
    (
        "flow_max_steps",
        "--flow-max-steps",
        "PARLEY_FLOW_MAX_STEPS",
        _positive,
        "actions a run may take without waiting before it is ended as a loop",
    ),
    (
        "flow_disconnect_reason",
        "--flow-disconnect-reason",
        "PARLEY_FLOW_DISCONNECT_REASON",
        _choice("none", "CONTACT_FLOW_DISCONNECT"),
        "DisconnectReason of a chat a flow ended",
    ),
    (
        "lambda_string_map",
        "--lambda-string-map",
        "PARLEY_LAMBDA_STRING_MAP",
        _choice("coerce", "strict"),
        "STRING_MAP responses: coerce numbers and booleans to strings, or refuse any non-string",
    ),
    (
        "external_on_error",
        "--external-on-error",
        "PARLEY_EXTERNAL_ON_ERROR",
        _choice("clear", "keep"),
        "$.External after a failed Lambda invocation",
    ),
    ("language_code", "--language-code", "PARLEY_LANGUAGE_CODE", str, "$.LanguageCode of a chat"),
    (
        "lambda_require_association",
        "--lambda-require-association",
        "PARLEY_LAMBDA_REQUIRE_ASSOCIATION",
        _bool,
        "a function not added with AssociateLambdaFunction takes the Error branch",
    ),
)


# -- limits (parley.limits.Limits; SECURITY.md "Limits") -------------------------------------------
LIMIT_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    ("max_body_bytes", "--max-body-bytes", "PARLEY_MAX_BODY_BYTES", _positive, "largest AWS API request body"),
    ("max_header_bytes", "--max-header-bytes", "PARLEY_MAX_HEADER_BYTES", _positive, "largest request head"),
    ("max_target_bytes", "--max-target-bytes", "PARLEY_MAX_TARGET_BYTES", _positive, "longest path and query"),
    ("header_timeout", "--header-timeout", "PARLEY_HEADER_TIMEOUT", _seconds, "seconds to send a request head"),
    ("body_timeout", "--body-timeout", "PARLEY_BODY_TIMEOUT", _seconds, "seconds to send a request body"),
    ("idle_timeout", "--idle-timeout", "PARLEY_IDLE_TIMEOUT", _seconds, "seconds a kept-alive connection may idle"),
    ("ws_max_frame_bytes", "--ws-max-frame-bytes", "PARLEY_WS_MAX_FRAME_BYTES", _positive, "largest client frame"),
    ("ws_max_depth", "--ws-max-depth", "PARLEY_WS_MAX_DEPTH", _positive, "deepest JSON nesting of a client frame"),
    ("ws_messages_per_second", "--ws-rate", "PARLEY_WS_RATE", _seconds, "client frames per second per socket"),
    ("ws_idle_timeout", "--ws-idle-timeout", "PARLEY_WS_IDLE_TIMEOUT", _seconds, "seconds a silent socket lives"),
    (
        "max_sockets_per_participant",
        "--max-sockets-per-participant",
        "PARLEY_MAX_SOCKETS_PER_PARTICIPANT",
        _nonnegative,
        "open sockets per participant before the oldest is closed; 0=no cap",
    ),
)


SWITCHES = frozenset({"strict", "strict_auth"})  # flags that take no value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name, flag, env, _, text in (*OPTIONS, *POLICY_OPTIONS, *FLOW_OPTIONS, *LIMIT_OPTIONS):
        if name in SWITCHES:
            parser.add_argument(flag, dest=name, action="store_const", const="true", help=f"{text} [{env}]")
        elif name == "ui":
            parser.add_argument(flag, dest=name, action="store_const", const="false", help=f"{text} [{env}=false]")
        elif name in REPEATABLE:
            parser.add_argument(flag, dest=name, action=_Repeated, metavar="NAME=TARGET", help=f"{text} [{env}]")
        else:
            parser.add_argument(flag, dest=name, help=f"{text} [{env}]")


def _resolve(
    options: Sequence[tuple[str, str, str, object, str]],
    args: Mapping[str, str | None],
    environ: Mapping[str, str],
    sources: dict[str, str],
    given_as: str = "flag",
) -> dict[str, object]:
    """Parsed values of the options given by flag or environment; `sources` learns which one gave each."""
    values: dict[str, object] = {}
    for name, flag, env, parse, _ in options:
        raw, source, kind = args.get(name), flag, given_as
        if isinstance(raw, list):  # a repeatable flag (--sns)
            raw = "\n".join(raw)
        if raw is None:
            raw, source, kind = environ.get(env), env, "env"
        if raw is None and name in FALLBACK_ENV:
            raw, source, kind = environ.get(FALLBACK_ENV[name]), FALLBACK_ENV[name], "env"
        if raw is None:
            continue
        try:
            values[name] = parse(raw)  # type: ignore[operator]
        except (ValueError, SettingsError) as exc:
            raise SettingsError(f"{source}: {exc}") from None
        sources[name] = kind
    return values


def load(
    args: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, object] | None = None,
    given_as: str = "flag",
) -> Settings:
    """Settings from parsed flags (a name -> text mapping) and the environment; `defaults` replaces
    built-in defaults (`parley exec` listens on a free port unless told otherwise)."""
    args = args or {}
    environ = os.environ if environ is None else environ
    sources: dict[str, str] = {}
    values = {**(defaults or {}), **_resolve(OPTIONS, args, environ, sources, given_as)}
    values.update(_resolve(FLOW_OPTIONS, args, environ, sources, given_as))
    given_policy = _resolve(POLICY_OPTIONS, args, environ, sources, given_as)
    policy = dataclasses.replace(Policy(), **given_policy)  # type: ignore[arg-type]
    given_limits = _resolve(LIMIT_OPTIONS, args, environ, sources, given_as)
    limits = dataclasses.replace(Limits(), **given_limits)  # type: ignore[arg-type]
    return Settings(policy=policy, limits=limits, sources=sources, **values)  # type: ignore[arg-type]


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
    if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return ",".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value)
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


def handler_environment(settings: Settings, url: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What `parley serve` adds to its own environment before importing `module:function` handlers (flows.md
    §6.4), so unchanged handlers that build boto3 clients at import time reach this Parley: each variable
    that is unset, and only those."""
    environ = os.environ if environ is None else environ
    wanted = {
        "AWS_ENDPOINT_URL_CONNECT": url,
        "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
    }
    return {name: value for name, value in wanted.items() if environ.get(name) is None}


def export_handler_environment(settings: Settings, url: str) -> dict[str, str]:
    """Writes `handler_environment` into os.environ. Only the CLI's `parley serve` calls this: an in-process
    `parley.Server` never touches the environment (tests use the `parley_env` fixture or `server.env`)."""
    added = handler_environment(settings, url)
    os.environ.update(added)
    return added


def option_names() -> tuple[str, ...]:
    return tuple(name for name, *_ in (*OPTIONS, *POLICY_OPTIONS, *FLOW_OPTIONS, *LIMIT_OPTIONS))


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
    return load(texts, environ={}, given_as="keyword")


SECRET_SETTINGS = frozenset({"secret", "admin_token", "credentials"})  # shown as "***" by /_parley/config
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]*@", re.IGNORECASE)


def _shown(name: str, value: object) -> object:
    """A value as JSON shows it; secrets masked, and so is the password of any URL (a store's DSN)."""
    if value is None:
        return None
    if name in SECRET_SETTINGS:
        return "***"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(key): _shown(name, item) for key, item in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [_shown(name, item) for item in value]
    if isinstance(value, str):
        return URL_PASSWORD.sub(r"\g<head>***@", value)
    return value


def effective(settings: Settings) -> dict[str, dict[str, object]]:
    """`{name: {"value", "source", "flag", "env"}}` for every option: what this server runs with and where
    each value came from (`flag`, `env` or `default`; `keyword` for an in-process server); secrets masked."""
    described: dict[str, dict[str, object]] = {}
    for name, flag, env, _, _ in (*OPTIONS, *FLOW_OPTIONS):
        value = getattr(settings, name)
        source = settings.sources.get(name, "default")
        described[name] = {"value": _shown(name, value), "source": source, "flag": flag, "env": env}
    for group, options in ((settings.policy, POLICY_OPTIONS), (settings.limits, LIMIT_OPTIONS)):
        for name, flag, env, _, _ in options:
            value = getattr(group, name)
            source = settings.sources.get(name, "default")
            described[name] = {"value": _shown(name, value), "source": source, "flag": flag, "env": env}
    return described


def inherited_environment() -> dict[str, str]:
    """This process's environment, for the commands Parley starts (`parley exec`, `--init` scripts)."""
    return dict(os.environ)
