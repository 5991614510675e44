"""`parley serve …` and `parley exec [serve flags] -- CMD …`: parse flags, bind, serve with uvicorn
(httptools + uvloop), say where, and run start-up work (`--import`, `--init`) before reporting ready.
The admin subcommands (`parley reset`, `parley faults add`, `parley wait`, `parley export`, …) live in
`commands`; start-up work and the SDK environment in `startup`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

import uvloop

from parley import __version__, commands, startup
from parley.app import Parley, build_app
from parley.serving import BindError, bind, run, url_of, uvicorn_server
from parley.settings import Settings, SettingsError, add_arguments, load, option_names
from parley.transport.access_log import AccessLog, JsonFormatter

EXEC_USAGE = "parley exec [serve flags] -- CMD [ARG ...]"
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Amazon Connect chat and participants, self-hosted.")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    subcommands = parser.add_subparsers(dest="command")
    serve = subcommands.add_parser("serve", help="run the server (the default)", description="Run the server.")
    add_arguments(serve)
    serve.set_defaults(parser=serve)
    text = "start Parley on a free port, run CMD with the SDK environment pointing at it, stop, exit with CMD's code"
    run_command = subcommands.add_parser("exec", help=text, description=text[0].upper() + text[1:], usage=EXEC_USAGE)
    add_arguments(run_command)
    run_command.set_defaults(parser=run_command)
    commands.add_commands(subcommands)
    return parser


def _configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler])
    if settings.log_level != "debug":
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)


def _start(flags: dict[str, Any], defaults: dict[str, object], lines: Any) -> tuple[Parley, socket.socket] | int:
    """Settings, then the socket (a taken port fails before any model is loaded), then the app."""
    try:
        settings = load(flags, defaults=defaults)
        _configure_logging(settings)
        sock = bind(settings.host, settings.port)
    except SettingsError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    except BindError as exc:
        print(f"parley: {exc.strerror}", file=sys.stderr)
        return 1
    access_log = AccessLog(
        enabled=settings.log_level in ("debug", "info"),
        stream=lines,
        debug=settings.log_level == "debug",
        json=settings.log_format == "json",
    )
    try:
        return build_app(settings, access_log), sock
    except SettingsError as exc:
        sock.close()
        print(f"parley: {exc}", file=sys.stderr)
        return 2


def _announce(app: Parley, url: str, stream: Any) -> None:
    """The port file first: whoever reads the listening line may look for the file at once."""
    if app.settings.port_file:
        startup.write_port_file(app.settings.port_file, url)
    print(f"parley: listening on {url}", file=stream, flush=True)


async def _serve(app: Parley, sock: socket.socket) -> int:
    server = uvicorn_server(app)
    loop = asyncio.get_running_loop()
    for signum in SIGNALS:
        loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    url = url_of(sock)

    async def started() -> None:
        _announce(app, url, sys.stdout)
        await startup.prepare(app, url)

    try:
        await run(server, sock, started)
    except startup.StartupError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 1
    return 0


def _exit_status(returncode: int) -> int:
    """A command killed by signal N exits as a shell reports it: 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


async def _run_command(app: Parley, url: str, command_line: list[str]) -> int:
    env = startup.sdk_environment(url, app.settings.region)
    try:
        process = await asyncio.create_subprocess_exec(*command_line, env=env)
    except OSError as exc:
        print(f"parley: cannot run {command_line[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    loop = asyncio.get_running_loop()
    for signum in SIGNALS:  # stopping `parley exec` stops the command first; Parley stops once it has exited
        loop.add_signal_handler(signum, process.send_signal, signum)
    return _exit_status(await process.wait())


async def _exec(app: Parley, sock: socket.socket, command_line: list[str]) -> int:
    server = uvicorn_server(app)
    url = url_of(sock)
    status = 1

    async def started() -> None:
        nonlocal status
        _announce(app, url, sys.stderr)
        await startup.prepare(app, url)
        status = await _run_command(app, url, command_line)
        server.should_exit = True

    try:
        await run(server, sock, started)
    except startup.StartupError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 1
    return status


def _split_command(words: list[str]) -> tuple[list[str], list[str]]:
    """`exec FLAGS -- CMD …` -> (`exec FLAGS`, CMD …); no `--` or no CMD is a usage error."""
    if "--" not in words or words.index("--") == len(words) - 1:
        print(f"usage: {EXEC_USAGE}\nparley exec: error: give the command after --", file=sys.stderr)
        raise SystemExit(2)
    cut = words.index("--")
    return words[:cut], words[cut + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0] not in ("serve", "exec", *commands.COMMANDS, "-h", "--help", "--version")):
        words.insert(0, "serve")  # `parley` alone serves
    command_line: list[str] = []
    if words[0] == "exec" and not {"-h", "--help"} & set(words[: words.index("--") if "--" in words else None]):
        words, command_line = _split_command(words)
    args, extra = _parser().parse_known_args(words)
    if extra:  # the subcommand's own usage, not the top-level one
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command not in ("serve", "exec"):
        return commands.run(args)
    flags = {name: value for name, value in vars(args).items() if name in option_names()}
    executing = args.command == "exec"
    started = _start(flags, {"port": 0} if executing else {}, sys.stderr if executing else None)
    if isinstance(started, int):
        return started
    app, sock = started
    try:
        return uvloop.run(_exec(app, sock, command_line) if executing else _serve(app, sock))
    except KeyboardInterrupt:
        return 130 if executing else 0
    finally:
        app.close()
        sock.close()
        if app.settings.port_file:
            startup.remove_port_file(app.settings.port_file)
