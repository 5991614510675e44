"""`parley reset|state|queues|requests|faults|agent|supervisor|sockets|clock|events|flow|health|lambda|config|
wait|export|import|streams|sns`: the admin API from a shell.

Each subcommand is one admin request to a running Parley (`--endpoint-url`, else `PARLEY_ENDPOINT_URL`,
else http://127.0.0.1:4599); it prints the JSON answer, or says on stderr why there is none and exits 1.
A subcommand only builds the request: the server checks it, so the messages are the same as over HTTP.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from parley.settings import SettingsError, admin_token_from_env, endpoint_url

COMMANDS = (
    "reset",
    "state",
    "queues",
    "requests",
    "faults",
    "agent",
    "supervisor",
    "sockets",
    "clock",
    "events",
    "health",
    "flow",
    "lambda",
    "wait",
    "export",
    "import",
    "config",
    "streams",
    "sns",
)


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    query: dict[str, object] = field(default_factory=dict)
    body: dict[str, Any] | None = None


Build = Callable[[argparse.Namespace], Call]


def _given(args: argparse.Namespace, **names: str) -> dict[str, Any]:
    """`{wire name: value}` for the options that were given (`names` maps wire name -> option dest)."""
    values = {wire: getattr(args, dest, None) for wire, dest in names.items()}
    return {wire: value for wire, value in values.items() if value is not None}


def _segment(value: str) -> str:
    return quote(value, safe="")


# -- what each subcommand asks ------------------------------------------------------------------------
def _reset(args: argparse.Namespace) -> Call:
    return Call(
        "POST", "reset", body=_given(args, account="account", region="region", instance="instance", seed="seed")
    )


def _state(args: argparse.Namespace) -> Call:
    return Call(
        "GET", "state", _given(args, account="account", region="region", instance="instance", contact="contact")
    )


def _queues(args: argparse.Namespace) -> Call:
    return Call("GET", "queues", _given(args, account="account", region="region", instance="instance"))


def _requests(args: argparse.Namespace) -> Call:
    if args.clear:
        return Call("DELETE", "requests")
    return Call(
        "GET", "requests", _given(args, operation="operation", status="status", contact="contact", limit="limit")
    )


def _faults_list(args: argparse.Namespace) -> Call:
    return Call("GET", "faults")


def _faults_add(args: argparse.Namespace) -> Call:
    if args.ws_drop:
        match = _given(args, contactId="contact", participantId="participant")
        return Call("POST", "faults", body={"ws": "drop", "match": match, **_given(args, afterFrames="after_frames")})
    rule: dict[str, Any] = {"match": _given(args, service="service", operation="operation")}
    rule.update(_given(args, times="times", probability="probability", latencyMs="latency_ms"))
    error = _given(args, code="error", status="status", message="message")
    if error:
        rule["error"] = error
    return Call("POST", "faults", body=rule)


def _faults_clear(args: argparse.Namespace) -> Call:
    return Call("DELETE", f"faults/{_segment(args.id)}" if args.id else "faults")


def _participant(args: argparse.Namespace) -> Call:
    given = _given(args, displayName="display_name", participantId="participant", agentId="agent_id")
    return Call("POST", f"contacts/{_segment(args.contact)}/{args.command}", body={"action": args.action, **given})


def _sockets(args: argparse.Namespace) -> Call:
    body = {"action": args.action, **_given(args, participantId="participant")}
    return Call("POST", f"contacts/{_segment(args.contact)}/sockets", body=body)


def _clock(args: argparse.Namespace) -> Call:
    body = _given(args, advance="advance", set="set")
    return Call("POST", "clock", body=body) if body else Call("GET", "clock")


def _events(args: argparse.Namespace) -> Call:
    body = {"event": args.event, **_given(args, participantId="participant", content="content")}
    return Call("POST", f"contacts/{_segment(args.contact)}/events", body=body)


def _flow(args: argparse.Namespace) -> Call:
    query: dict[str, object] = {"wait": "idle", "timeout": args.timeout} if args.wait else {}
    return Call("GET", f"contacts/{_segment(args.contact)}/flow", query)


def _health(args: argparse.Namespace) -> Call:
    return Call("GET", "health")


def _config(args: argparse.Namespace) -> Call:
    return Call("GET", "config")


def _export(args: argparse.Namespace) -> Call:
    return Call("GET", "state/export")


def _import(args: argparse.Namespace) -> Call:
    return Call("POST", "state/import", {"replace": "true"} if args.replace else {})


def _streams(args: argparse.Namespace) -> Call:
    """`parley streams [--contact C] [--topic T] [--state S]`, `parley streams show|redrive|clear-dead ID`."""
    if args.action is None:
        return Call("GET", "streams", _given(args, contact="contact", topic="topic", state="state"))
    if args.id is None:
        raise SettingsError(f"parley streams {args.action} needs a StreamingId")
    path = f"streams/{_segment(args.id)}"
    if args.action == "redrive":
        return Call("POST", f"{path}/redrive", body={})
    if args.action == "clear-dead":
        return Call("DELETE", f"{path}/dead")
    return Call("GET", path)


def _sns_messages(args: argparse.Namespace) -> Call:
    return Call("GET", "sns/messages", _given(args, topic="topic", contact="contact", limit="limit"))


def _lambda_invocations(args: argparse.Namespace) -> Call:
    if args.clear:
        return Call("DELETE", "lambda/invocations")
    return Call("GET", "lambda/invocations", _given(args, contact="contact", function="function", limit="limit"))


def _lambda_invoke(args: argparse.Namespace) -> Call:
    body: dict[str, Any] = {"function": args.function}
    if args.event is not None:
        try:
            body["event"] = json.loads(args.event)
        except ValueError:
            raise SettingsError(f"--event: expected a JSON object, got {args.event!r}") from None
    if args.asynchronous:
        body["asynchronous"] = True
    body.update(_given(args, contact="contact", timeoutSeconds="timeout"))
    return Call("POST", "lambda/invoke", body=body)


# -- their options ------------------------------------------------------------------------------------
def _scope_options(parser: argparse.ArgumentParser, contact: bool) -> None:
    parser.add_argument("--account", help="one account (its 12-digit id)")
    parser.add_argument("--region", help="one region")
    parser.add_argument("--instance", help="one instance (its id)")
    if contact:
        parser.add_argument("--contact", help="one contact (its id)")


def _fault_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", help="connect, connectparticipant or * (default)")
    parser.add_argument("--operation", help="an operation of the model, e.g. CreateParticipant, or * (default)")
    parser.add_argument("--error", help="error code, e.g. ThrottlingException")
    parser.add_argument("--status", type=int, help="HTTP status (checked against AWS's)")
    parser.add_argument("--message", help="error message")
    parser.add_argument("--times", type=int, help="fire for the next N matching requests only")
    parser.add_argument("--probability", type=float, help="chance of firing, 0 < P <= 1 (default 1)")
    parser.add_argument("--latency-ms", type=int, help="delay the matching requests")
    parser.add_argument("--ws-drop", action="store_true", help="a WebSocket drop rule instead (needs --contact)")
    parser.add_argument("--contact", help="WebSocket drop: the contact whose sockets drop")
    parser.add_argument("--participant", help="WebSocket drop: only this participant's sockets")
    parser.add_argument("--after-frames", type=int, help="WebSocket drop: after N more pushed frames (default now)")


def _add(commands: Any, common: argparse.ArgumentParser, name: str, build: Build, text: str) -> Any:
    parser = commands.add_parser(name, parents=[common], help=text, description=text)
    parser.set_defaults(build=build, parser=parser)
    return parser


def _add_faults(commands: Any, common: argparse.ArgumentParser) -> None:
    faults = commands.add_parser("faults", help="fault rules: add, list, clear").add_subparsers(
        dest="faults_command", required=True
    )
    _add(faults, common, "list", _faults_list, "list the fault rules with their remaining counts")
    _fault_options(_add(faults, common, "add", _faults_add, "add a fault rule"))
    clear = _add(faults, common, "clear", _faults_clear, "remove one fault rule, or all")
    clear.add_argument("id", nargs="?", help="the rule's id (default: every rule)")


def _add_lambda(commands: Any, common: argparse.ArgumentParser) -> None:
    lambdas = commands.add_parser("lambda", help="Lambda functions flows invoke: invocations, invoke").add_subparsers(
        dest="lambda_command", required=True
    )
    invocations = _add(lambdas, common, "invocations", _lambda_invocations, "print the recent Lambda invocations")
    invocations.add_argument("--contact", help="one contact's invocations")
    invocations.add_argument("--function", help="one function (its name or ARN)")
    invocations.add_argument("--limit", type=int, help="the most recent N")
    invocations.add_argument("--clear", action="store_true", help="empty the record instead")
    invoke = _add(lambdas, common, "invoke", _lambda_invoke, "invoke a function as a flow would, and print the result")
    invoke.add_argument("function", help="a function name or ARN")
    invoke.add_argument("--event", help="the event, a JSON object (default {})")
    invoke.add_argument("--contact", help="the contact id to name in the headers, context and record")
    invoke.add_argument("--timeout", type=float, help="the time limit in seconds (default 8)")
    invoke.add_argument("--async", dest="asynchronous", action="store_true", help="an Event (ASYNCHRONOUS) call")


def _add_participant_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    agent = _add(commands, common, "agent", _participant, "make an agent accept a queued chat, join or leave a chat")
    agent.add_argument("action", choices=("accept", "join", "leave"))
    agent.add_argument("--agent-id", help="accept: the agent's id, AgentInfo.Id (default: a new id)")
    supervisor = _add(commands, common, "supervisor", _participant, "make a supervisor join or leave a chat")
    supervisor.add_argument("action", choices=("join", "leave"))
    for role, parser in (("agent", agent), ("supervisor", supervisor)):
        parser.add_argument("contact", help="the contact id")
        parser.add_argument("participant", nargs="?", help=f"leave: the {role}'s participant id")
        parser.add_argument("--display-name", help=f"the {role}'s display name (join, accept)")
    sockets = _add(commands, common, "sockets", _sockets, "drop a chat's WebSockets now")
    sockets.add_argument("action", choices=("drop",))
    sockets.add_argument("contact", help="the contact id")
    sockets.add_argument("--participant", help="only this participant's sockets")


def add_commands(commands: Any) -> None:
    """The admin subcommands, on the `parley` parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint-url", help="the running Parley [PARLEY_ENDPOINT_URL] (http://127.0.0.1:4599)")
    reset = _add(commands, common, "reset", _reset, "remove state: everything, an account/region, or an instance")
    _scope_options(reset, False)
    reset.add_argument("--seed", type=int, help="restart the id sequence from this seed")
    _scope_options(
        _add(commands, common, "state", _state, "print instances, contacts, participants, transcripts"), True
    )
    _scope_options(_add(commands, common, "queues", _queues, "print the queues and the chats waiting in them"), False)
    requests = _add(commands, common, "requests", _requests, "print the recent requests")
    requests.add_argument("--operation", help="e.g. CreateParticipant")
    requests.add_argument("--status", help="e.g. 429 or 4xx")
    requests.add_argument("--contact", help="one contact's requests")
    requests.add_argument("--limit", type=int, help="the most recent N")
    requests.add_argument("--clear", action="store_true", help="empty the log instead")
    _add_faults(commands, common)
    _add_participant_commands(commands, common)
    clock = _add(commands, common, "clock", _clock, "read the clock, or move a virtual one (timers due fire first)")
    clock.add_argument("--advance", help="an ISO-8601 duration such as PT90S, or seconds")
    clock.add_argument("--set", help="an ISO-8601 instant such as 2030-01-01T00:00:00Z")
    events = _add(commands, common, "events", _events, "inject an event Connect's timers or flows emit")
    events.add_argument("contact", help="the contact id")
    events.add_argument("event", help="e.g. participant.idle, transfer.succeeded, chat.rehydrated")
    events.add_argument("--participant", help="the participant the event is about")
    events.add_argument("--content", help="the event's Content")
    flow = _add(commands, common, "flow", _flow, "print a chat's flow run: its action, what it waits for, its trail")
    flow.add_argument("contact", help="the contact id")
    flow.add_argument("--wait", action="store_true", help="answer once the run waits, queues or ends")
    flow.add_argument("--timeout", type=float, default=5.0, help="--wait: give up after this many seconds (5)")
    _add(commands, common, "health", _health, "print the server's health")
    _add(commands, common, "config", _config, "print the effective settings and where each came from")
    wait = _add(commands, common, "wait", _health, "wait until the server is ready (GET /_parley/ready answers 200)")
    wait.add_argument("--timeout", type=float, default=30.0, help="give up after S seconds, exit 1 (default 30)")
    wait.set_defaults(special="wait")
    export = _add(commands, common, "export", _export, "write the whole state to FILE as a snapshot (JSON)")
    export.add_argument("file", help="where to write it; - for stdout")
    export.set_defaults(special="export")
    load = _add(commands, common, "import", _import, "add a snapshot's records (parley export's FILE) to the state")
    load.add_argument("file", help="the snapshot; - for stdin")
    load.add_argument("--replace", action="store_true", help="make it the whole state instead (one transaction)")
    load.set_defaults(special="import")
    _add_lambda(commands, common)
    _add_stream_commands(commands, common)


def _add_stream_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    streams = _add(commands, common, "streams", _streams, "chat message streams: list, show, redrive, clear-dead")
    streams.add_argument("action", nargs="?", choices=("show", "redrive", "clear-dead"))
    streams.add_argument("id", nargs="?", help="the StreamingId")
    streams.add_argument("--contact", help="one contact's streams")
    streams.add_argument("--topic", help="one topic (ARN or name)")
    streams.add_argument("--state", choices=("active", "stopped", "ended"))
    sns = commands.add_parser("sns", help="captured SNS messages").add_subparsers(dest="sns_command", required=True)
    messages = _add(sns, common, "messages", _sns_messages, "print the captured notifications")
    messages.add_argument("--topic", help="one topic (ARN or name)")
    messages.add_argument("--contact", help="one contact's messages")
    messages.add_argument("--limit", type=int, help="the most recent N")


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        with open(name, "rb") as file:
            return file.read()
    except OSError as error:
        raise CommandError(f"cannot read {name}: {error.strerror or error}") from None


def _write(name: str, document: Any) -> None:
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if name == "-":
        sys.stdout.write(text)
        return
    try:
        with open(name, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise CommandError(f"cannot write {name}: {error.strerror or error}") from None


class CommandError(Exception):
    pass


def _wait(endpoint: str, timeout: float) -> None:
    """Polls `/_parley/ready` until it answers 200; CommandError with the last reason on timeout."""
    from parley import remote

    deadline = time.monotonic() + timeout
    while True:
        try:
            remote.call(endpoint, "GET", "ready", timeout=max(0.2, min(2.0, deadline - time.monotonic())))
            return
        except remote.RemoteError as error:
            reason = str(error)
        if time.monotonic() >= deadline:
            raise CommandError(f"Parley at {endpoint} is not ready after {timeout:g} s: {reason}")
        time.sleep(0.05)


def run(args: argparse.Namespace) -> int:
    """One admin request; prints its JSON answer. 1 when there is none."""
    from parley import remote  # urllib.request costs ~18 ms to import: not on `parley serve`'s path

    special = getattr(args, "special", None)
    try:
        endpoint = endpoint_url(args.endpoint_url)
        if special == "wait":
            _wait(endpoint, args.timeout)
            return 0
        call = args.build(args)
        raw = _read(args.file) if special == "import" else None
        token = admin_token_from_env()
        answer = remote.call(endpoint, call.method, call.path, call.query, call.body, token, raw=raw)
    except (SettingsError, remote.RemoteError, CommandError) as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 1
    if special == "export":
        try:
            _write(args.file, answer)
        except CommandError as exc:
            print(f"parley: {exc}", file=sys.stderr)
            return 1
        return 0
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0
