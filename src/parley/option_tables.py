"""Every setting as a flag and its `PARLEY_*` environment twin: (field, flag, env, parser, help), one table
per group, in the order `parley serve --help` shows them. `settings.py` reads them; nothing here reads
the environment."""

from __future__ import annotations

from parley.option_values import (
    boolean,
    choice,
    credentials,
    http_url,
    instant,
    lambda_targets,
    lambda_timeout,
    lease_seconds,
    mapping,
    nonnegative,
    origins,
    port,
    positive,
    postgres_url,
    redis_url,
    seconds,
    situations,
    sns_endpoint,
    sns_routes,
    token,
)

# (field, flag, env, parser, help)
OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    ("host", "--host", "PARLEY_HOST", str, "bind address"),
    ("port", "--port", "PARLEY_PORT", port, "port; 0 picks a free one"),
    (
        "data_dir",
        "--data-dir",
        "PARLEY_DATA_DIR",
        str,
        "directory for a durable SQLite store (default: in memory)",
    ),
    (
        "store",
        "--store",
        "PARLEY_STORE",
        postgres_url,
        "postgresql://… URL: state in PostgreSQL, shared by every node on it (excludes --data-dir)",
    ),
    (
        "redis_url",
        "--redis-url",
        "PARLEY_REDIS_URL",
        redis_url,
        "Redis carrying WebSocket fan-out between the nodes of a cluster (default: this process only)",
    ),
    (
        "log_level",
        "--log-level",
        "PARLEY_LOG_LEVEL",
        choice("debug", "info", "warning", "error"),
        "log level",
    ),
    ("strict", "--strict", "PARLEY_STRICT", boolean, "refuse unknown request members"),
    ("strict_auth", "--strict-auth", "PARLEY_STRICT_AUTH", boolean, "verify SigV4 on Connect calls (--credentials)"),
    (
        "credentials",
        "--credentials",
        "PARLEY_CREDENTIALS",
        credentials,
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
    ("clock", "--clock", "PARLEY_CLOCK", choice("real", "virtual"), "virtual: moves only through /_parley/clock"),
    ("clock_start", "--clock-start", "PARLEY_CLOCK_START", instant, "ISO-8601 instant a virtual clock starts at"),
    ("validation_error", "--validation-error", "PARLEY_VALIDATION_ERROR", str, "auto or a fixed error code"),
    (
        "idempotency_ttl_seconds",
        "--idempotency-ttl",
        "PARLEY_IDEMPOTENCY_TTL",
        nonnegative,
        "ClientToken lifetime",
    ),
    (
        "idempotency_mismatch",
        "--idempotency-mismatch",
        "PARLEY_IDEMPOTENCY_MISMATCH",
        choice("error", "new"),
        "same ClientToken, other parameters",
    ),
    (
        "idempotency_mismatch_errors",
        "--idempotency-mismatch-errors",
        "PARLEY_IDEMPOTENCY_MISMATCH_ERRORS",
        mapping,
        "Operation=ErrorCode pairs: the declared error a reused ClientToken with other parameters answers",
    ),
    (
        "create_participant_errors",
        "--create-participant-errors",
        "PARLEY_CREATE_PARTICIPANT_ERRORS",
        situations,
        "override CreateParticipant errors: situation=ErrorCode pairs, situations not_found, invalid, conflict, quota",
    ),
    ("ws_outbox", "--ws-outbox", "PARLEY_WS_OUTBOX", nonnegative, "frames queued per socket before dropping it"),
    (
        "request_log_size",
        "--request-log-size",
        "PARLEY_REQUEST_LOG_SIZE",
        nonnegative,
        "recent requests kept for /_parley/requests; 0=none",
    ),
    (
        "sqlite_synchronous",
        "--sqlite-synchronous",
        "PARLEY_SQLITE_SYNCHRONOUS",
        choice("FULL", "NORMAL"),
        "durable store fsync",
    ),
    (
        "cors_origins",
        "--cors-origins",
        "PARLEY_CORS_ORIGINS",
        origins,
        "browser origins allowed by CORS: loopback (default), *, or a,b of scheme://host[:port]",
    ),
    ("log_format", "--log-format", "PARLEY_LOG_FORMAT", choice("text", "json"), "json: one JSON object per line"),
    ("port_file", "--port-file", "PARLEY_PORT_FILE", str, "write the URL to this file once listening"),
    ("import_file", "--import", "PARLEY_IMPORT", str, "import this state snapshot (parley export's JSON) at start"),
    (
        "init_dir",
        "--init",
        "PARLEY_INIT",
        str,
        "once ready, apply this directory's *.json snapshots and run its *.sh/*.py scripts, in name order",
    ),
    ("ui", "--no-ui", "PARLEY_UI", boolean, "serve no web console at /_parley/ui/"),
    (
        "admin_token",
        "--admin-token",
        "PARLEY_ADMIN_TOKEN",
        token,
        "token the admin API and console require when the bind address is not loopback",
    ),
    ("sns_endpoint", "--sns-endpoint", "PARLEY_SNS_ENDPOINT", sns_endpoint, "SNS Publish API URL, or aws"),
    ("sns_targets", "--sns", "PARLEY_SNS_TARGETS", sns_routes, "TOPIC=TARGET[;filter=JSON], repeatable"),
    ("sns_unrouted", "--sns-unrouted", "PARLEY_SNS_UNROUTED", choice("capture", "reject"), "unrouted topics"),
    ("sns_sign", "--sns-sign", "PARLEY_SNS_SIGN", choice("rsa", "none"), "webhook notification Signature"),
    ("sns_capture", "--sns-capture", "PARLEY_SNS_CAPTURE", nonnegative, "captured messages per topic; 0=none"),
    ("stream_max_attempts", "--stream-max-attempts", "PARLEY_STREAM_MAX_ATTEMPTS", positive, "delivery attempts"),
    ("stream_max_age", "--stream-max-age", "PARLEY_STREAM_MAX_AGE", positive, "seconds a message is retried"),
    ("stream_on_dead", "--stream-on-dead", "PARLEY_STREAM_ON_DEAD", choice("skip", "pause"), "after a dead message"),
    ("stream_max_pending", "--stream-max-pending", "PARLEY_STREAM_MAX_PENDING", positive, "pending per stream"),
    ("stream_history", "--stream-history", "PARLEY_STREAM_HISTORY", nonnegative, "delivered kept per stream"),
    ("stream_drain_seconds", "--stream-drain-seconds", "PARLEY_STREAM_DRAIN_SECONDS", seconds, "shutdown drain"),
    (
        "lease_ttl",
        "--lease-ttl",
        "PARLEY_LEASE_TTL",
        lease_seconds,
        "several nodes: seconds a node's hold on a flow run or a stream lasts unrenewed; a dead node's work "
        "moves on within 1.5x this (sweep every half)",
    ),
)

REPEATABLE = frozenset({"lambdas", "sns_targets"})  # flags given once per value; their texts are joined by newlines
FALLBACK_ENV = {
    "lambda_endpoint": "AWS_ENDPOINT_URL_LAMBDA",
    "sns_endpoint": "AWS_ENDPOINT_URL_SNS",
}  # read when the PARLEY_* twin is unset


LAMBDA_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    (
        "lambdas",
        "--lambda",
        "PARLEY_LAMBDAS",
        lambda_targets,
        "run a Lambda function locally: NAME=http(s)://HOST/PATH or NAME=package.module:function; repeatable "
        "(PARLEY_LAMBDAS: comma- or newline-separated)",
    ),
    (
        "lambda_endpoint",
        "--lambda-endpoint",
        "PARLEY_LAMBDA_ENDPOINT",
        http_url,
        "Lambda Invoke API for functions not mapped with --lambda, e.g. sam local start-lambda's "
        "http://127.0.0.1:3001 (else AWS_ENDPOINT_URL_LAMBDA)",
    ),
    (
        "lambda_timeout",
        "--lambda-timeout",
        "PARLEY_LAMBDA_TIMEOUT",
        lambda_timeout,
        "flow (the action's InvocationTimeLimitSeconds) or seconds overriding it, for slow local runtimes",
    ),
    ("lambda_workers", "--lambda-workers", "PARLEY_LAMBDA_WORKERS", positive, "threads for module:function targets"),
    (
        "lambda_function_name",
        "--lambda-function-name",
        "PARLEY_LAMBDA_FUNCTION_NAME",
        choice("name", "arn"),
        "what an Invoke API call names: the ARN's function name, or the ARN",
    ),
)
OPTIONS = (*OPTIONS, *LAMBDA_OPTIONS)

POLICY_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    (
        "quota_instances",
        "--quota-instances",
        "PARLEY_QUOTA_INSTANCES",
        nonnegative,
        "instances per account; 0=no cap",
    ),
    (
        "quota_active_chats",
        "--quota-active-chats",
        "PARLEY_QUOTA_ACTIVE_CHATS",
        nonnegative,
        "active chats per instance; 0=no cap",
    ),
    (
        "chat_capabilities",
        "--chat-capabilities",
        "PARLEY_CHAT_CAPABILITIES",
        choice("ignore", "reject"),
        "ParticipantCapabilities on a chat",
    ),
    (
        "stop_ended",
        "--stop-ended",
        "PARLEY_STOP_ENDED",
        choice("error", "ok"),
        "StopContact on an ended chat",
    ),
    ("bot_connect_timeout", "--bot-connect-timeout", "PARLEY_BOT_CONNECT_TIMEOUT", nonnegative, "seconds; 0=off"),
    (
        "customer_connect_timeout",
        "--customer-connect-timeout",
        "PARLEY_CUSTOMER_CONNECT_TIMEOUT",
        nonnegative,
        "seconds the customer has to connect before the chat ends; 0=off",
    ),
    ("message_limits", "--message-limits", "PARLEY_MESSAGE_LIMITS", choice("current", "legacy"), "SendMessage"),
    (
        "receipts_multiparty",
        "--receipts-multiparty",
        "PARLEY_RECEIPTS_MULTIPARTY",
        choice("conflict", "drop"),
        "receipts with more than two participants",
    ),
    (
        "connection_token_seconds",
        "--connection-token-seconds",
        "PARLEY_CONNECTION_TOKEN_SECONDS",
        nonnegative,
        "ConnectionCredentials lifetime; at least 120 s is served",
    ),
    (
        "persist_extra_events",
        "--persist-extra-events",
        "PARLEY_PERSIST_EXTRA_EVENTS",
        boolean,
        "keep admin-injected rare events (participant.active, chat.rehydrated, ...) in transcripts",
    ),
    (
        "attachment_scan",
        "--attachment-scan",
        "PARLEY_ATTACHMENT_SCAN",
        choice("approve", "reject", "pending"),
        "the scan outcome of a completed attachment upload",
    ),
    (
        "flow_validation",
        "--flow-validation",
        "PARLEY_FLOW_VALIDATION",
        choice("aws", "structure", "json"),
        "published flow content: aws = the flow language (flows.md §2), structure = rows 1-6, json = a JSON object",
    ),
    (
        "attachments_per_chat",
        "--attachments-per-chat",
        "PARLEY_ATTACHMENTS_PER_CHAT",
        nonnegative,
        "attachment uploads per chat; 0=no cap",
    ),
    ("stream_duplicate", "--stream-duplicate", "PARLEY_STREAM_DUPLICATE", choice("same", "new"), "same topic again"),
    ("stream_attachments", "--stream-attachments", "PARLEY_STREAM_ATTACHMENTS", boolean, "stream ATTACHMENT items"),
    ("stream_receipts", "--stream-receipts", "PARLEY_STREAM_RECEIPTS", boolean, "stream MESSAGEMETADATA receipts"),
    (
        "connect_participant_strict",
        "--connect-participant-strict",
        "PARLEY_CONNECT_PARTICIPANT_STRICT",
        boolean,
        "refuse a customer's ConnectParticipant without streaming",
    ),
)


# flows.md §1
FLOW_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    ("flows", "--flows", "PARLEY_FLOWS", choice("run", "off"), "run contact flows; off = stored, never run"),
    (
        "flow_start",
        "--flow-start",
        "PARLEY_FLOW_START",
        choice("connect", "start"),
        "when a chat's flow starts: the customer's first connection, or StartChatContact",
    ),
    (
        "unsupported_action",
        "--unsupported-action",
        "PARLEY_UNSUPPORTED_ACTION",
        choice("error", "skip", "end"),
        "a flow action Parley does not run: take its Error branch, skip it, or end the flow",
    ),
    (
        "chat_text_input",
        "--chat-text-input",
        "PARLEY_CHAT_TEXT_INPUT",
        choice("error", "accept"),
        "GetParticipantInput on chat: Error branch (AWS without Lex), or read the customer's next message",
    ),
    ("hours", "--hours", "PARLEY_HOURS", choice("open", "closed"), "what CheckHoursOfOperation answers"),
    (
        "flow_max_steps",
        "--flow-max-steps",
        "PARLEY_FLOW_MAX_STEPS",
        positive,
        "actions a run may take without waiting before it is ended as a loop",
    ),
    (
        "flow_disconnect_reason",
        "--flow-disconnect-reason",
        "PARLEY_FLOW_DISCONNECT_REASON",
        choice("none", "CONTACT_FLOW_DISCONNECT"),
        "DisconnectReason of a chat a flow ended",
    ),
    (
        "lambda_string_map",
        "--lambda-string-map",
        "PARLEY_LAMBDA_STRING_MAP",
        choice("coerce", "strict"),
        "STRING_MAP responses: coerce numbers and booleans to strings, or refuse any non-string",
    ),
    (
        "external_on_error",
        "--external-on-error",
        "PARLEY_EXTERNAL_ON_ERROR",
        choice("clear", "keep"),
        "$.External after a failed Lambda invocation",
    ),
    ("language_code", "--language-code", "PARLEY_LANGUAGE_CODE", str, "$.LanguageCode of a chat"),
    (
        "lambda_require_association",
        "--lambda-require-association",
        "PARLEY_LAMBDA_REQUIRE_ASSOCIATION",
        boolean,
        "a function not added with AssociateLambdaFunction takes the Error branch",
    ),
)


# -- limits (parley.limits.Limits; SECURITY.md "Limits") -------------------------------------------
LIMIT_OPTIONS: tuple[tuple[str, str, str, object, str], ...] = (
    ("max_body_bytes", "--max-body-bytes", "PARLEY_MAX_BODY_BYTES", positive, "largest AWS API request body"),
    ("max_header_bytes", "--max-header-bytes", "PARLEY_MAX_HEADER_BYTES", positive, "largest request head"),
    ("max_target_bytes", "--max-target-bytes", "PARLEY_MAX_TARGET_BYTES", positive, "longest path and query"),
    ("header_timeout", "--header-timeout", "PARLEY_HEADER_TIMEOUT", seconds, "seconds to send a request head"),
    ("body_timeout", "--body-timeout", "PARLEY_BODY_TIMEOUT", seconds, "seconds to send a request body"),
    ("idle_timeout", "--idle-timeout", "PARLEY_IDLE_TIMEOUT", seconds, "seconds a kept-alive connection may idle"),
    ("ws_max_frame_bytes", "--ws-max-frame-bytes", "PARLEY_WS_MAX_FRAME_BYTES", positive, "largest client frame"),
    ("ws_max_depth", "--ws-max-depth", "PARLEY_WS_MAX_DEPTH", positive, "deepest JSON nesting of a client frame"),
    ("ws_messages_per_second", "--ws-rate", "PARLEY_WS_RATE", seconds, "client frames per second per socket"),
    ("ws_idle_timeout", "--ws-idle-timeout", "PARLEY_WS_IDLE_TIMEOUT", seconds, "seconds a silent socket lives"),
    (
        "ws_compression",
        "--ws-compression",
        "PARLEY_WS_COMPRESSION",
        choice("on", "off"),
        "accept permessage-deflate (per-message contexts, no context takeover): on | off",
    ),
    (
        "max_sockets_per_participant",
        "--max-sockets-per-participant",
        "PARLEY_MAX_SOCKETS_PER_PARTICIPANT",
        nonnegative,
        "open sockets per participant before the oldest is closed; 0=no cap",
    ),
)


SWITCHES = frozenset({"strict", "strict_auth"})  # flags that take no value
