"""Settings: the ONLY reader of os.environ. The option tables are in `option_tables.py`, their value parsers in
`option_values.py`.

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
from typing import Any

from parley.chat.policy import Policy
from parley.limits import Limits
from parley.option_tables import (
    FALLBACK_ENV,
    FLOW_OPTIONS,
    LIMIT_OPTIONS,
    OPTIONS,
    POLICY_OPTIONS,
    REPEATABLE,
    SWITCHES,
)
from parley.option_values import SettingsError as SettingsError  # re-exported: every caller names it here
from parley.option_values import SnsRoute as SnsRoute

DEFAULT_ENDPOINT_URL = "http://127.0.0.1:4599"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4599
    data_dir: str | None = None
    store: str | None = None  # PARLEY_STORE: postgresql://… (excludes data_dir)
    redis_url: str | None = None  # PARLEY_REDIS_URL: fan-out between nodes through Redis; None = one node's bus
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
    lease_ttl: float = 10.0  # several nodes: seconds a hold on a flow run or a stream lasts unrenewed
    sources: Mapping[str, str] = field(default_factory=dict)  # setting -> flag | env | keyword (absent: default)

    def origin(self, name: str) -> str:
        """How the user named a setting, for messages: its flag, its environment variable, or both."""
        for option, flag, env, *_ in (*OPTIONS, *FLOW_OPTIONS, *POLICY_OPTIONS, *LIMIT_OPTIONS):
            if option == name:
                return {"flag": flag, "env": env, "keyword": name}.get(self.sources.get(name, ""), f"{flag} / {env}")
        return name


LOOPBACK_HOSTS = frozenset({"localhost", "::1", "[::1]"})


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; a wildcard (0.0.0.0, ::) or any other address is not."""
    return host.lower() in LOOPBACK_HOSTS or host.startswith("127.")


def admin_token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The token the admin subcommands send to a Parley that requires one (PARLEY_ADMIN_TOKEN)."""
    environ = os.environ if environ is None else environ
    return environ.get("PARLEY_ADMIN_TOKEN") or None


class _Repeated(argparse.Action):
    """`--lambda a=x --lambda b=y` -> "a=x\nb=y": one text, parsed like the environment's list."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        earlier = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, f"{earlier}\n{values}" if earlier else str(values))


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
