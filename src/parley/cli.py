"""`parley serve …`: parse flags, bind, serve with uvicorn (httptools + uvloop), say where.
The admin subcommands (`parley reset`, `parley faults add`, …) live in `commands`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence

import uvloop

from parley import __version__, commands
from parley.app import Parley, build_app
from parley.serving import BindError, bind, run, url_of, uvicorn_server
from parley.settings import Settings, SettingsError, add_arguments, export_handler_environment, load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Amazon Connect chat and participants, self-hosted.")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    subcommands = parser.add_subparsers(dest="command")
    serve = subcommands.add_parser("serve", help="run the server (the default)")
    add_arguments(serve)
    commands.add_commands(subcommands)
    return parser


def _announce(app: Parley, sock: socket.socket) -> None:
    """The first line is the address (scripts wait for it); the console's follows unless --no-ui."""
    print(f"parley: listening on {url_of(sock)}", flush=True)
    if app.settings.ui:
        print(f"parley: console at {url_of(sock)}/_parley/ui/", flush=True)


async def _serve(app: Parley, sock: socket.socket) -> None:
    server = uvicorn_server(app, app.settings.limits)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    await run(server, sock, lambda: _announce(app, sock))


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if settings.log_level != "debug":
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)


def _prepare_handlers(settings: Settings, url: str) -> None:
    """Before `module:function` handlers are imported (flows.md §6.4): the AWS variables that point their boto3
    clients at this Parley, set in this process when unset, and the working directory importable, as
    `sam local` and uvicorn make it. Only `parley serve` does this; an in-process parley.Server never does."""
    if all(target.startswith(("http://", "https://")) for target in settings.lambdas.values()):
        return
    added = export_handler_environment(settings, url)
    if added:
        logging.getLogger("parley.lambda").info("lambda.environment set %s for handlers", ", ".join(sorted(added)))
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())


def _start(flags: dict[str, str | None]) -> tuple[Parley, socket.socket] | int:
    """Settings, then the socket (a taken port fails before any model is loaded), then the app."""
    try:
        settings = load(flags)
        _configure_logging(settings)
        sock = bind(settings.host, settings.port)
    except SettingsError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    except BindError as exc:
        print(f"parley: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        _prepare_handlers(settings, url_of(sock))
        return build_app(settings), sock
    except SettingsError as exc:
        sock.close()
        print(f"parley: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0] not in ("serve", *commands.COMMANDS, "-h", "--help", "--version")):
        words.insert(0, "serve")  # `parley` alone serves
    args = _parser().parse_args(words)
    if args.command != "serve":
        return commands.run(args)
    started = _start({k: v for k, v in vars(args).items() if k != "command"})
    if isinstance(started, int):
        return started
    app, sock = started
    try:
        uvloop.run(_serve(app, sock))
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        sock.close()
    return 0
