"""`parley serve …`: parse flags, bind, serve with uvicorn (httptools + uvloop), say where.
The admin subcommands (`parley reset`, `parley faults add`, …) live in `commands`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Iterator, Sequence

import uvicorn
import uvloop

from parley import __version__, commands
from parley.app import Parley, build_app
from parley.settings import Settings, SettingsError, add_arguments, load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Amazon Connect chat and participants, self-hosted.")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    subcommands = parser.add_subparsers(dest="command")
    serve = subcommands.add_parser("serve", help="run the server (the default)")
    add_arguments(serve)
    commands.add_commands(subcommands)
    return parser


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises OSError at once when the address is taken or not ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    """uvicorn re-raises a captured SIGTERM after shutting down, which would skip closing the store;
    Parley handles the signals itself (see `serve`) and exits 0 after a graceful stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: Parley, sock: socket.socket) -> None:
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        access_log=False,
        http="httptools",
        ws="websockets-sansio",
        ws_ping_interval=None,
        server_header=False,
        date_header=True,
        backlog=2048,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        print(f"parley: listening on {url_of(sock)}", flush=True)
    await task


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


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0] not in ("serve", *commands.COMMANDS, "-h", "--help", "--version")):
        words.insert(0, "serve")  # `parley` alone serves
    args = _parser().parse_args(words)
    if args.command != "serve":
        return commands.run(args)
    flags = {k: v for k, v in vars(args).items() if k != "command"}
    try:
        settings = load(flags)
        _configure_logging(settings)
        app = build_app(settings)
    except SettingsError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        print(
            f"parley: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        app.close()
        return 1
    try:
        uvloop.run(serve(app, sock))
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0
