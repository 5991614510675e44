"""Running the server for `parley serve` and `parley exec`: bind, serve with uvicorn (httptools + uvloop),
say where, run start-up work (`--import`, `--init`) before reporting ready, and for `exec` run the command.
Imported only by those two subcommands: the admin subcommands stay quick to start."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
from typing import Any

import uvloop

from parley import startup
from parley.app import Parley, build_app
from parley.serving import BindError, bind, run, url_of, uvicorn_server
from parley.settings import Settings, SettingsError, export_handler_environment, load
from parley.transport.access_log import AccessLog, JsonFormatter

SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
        _prepare_handlers(settings, url_of(sock))
        app = build_app(settings, access_log)
        if not settings.public_url:
            app.streamer.base_url = url_of(sock)  # the webhook signing certificate's URL (streaming.md §4)
        return app, sock
    except SettingsError as exc:
        sock.close()
        print(f"parley: {exc}", file=sys.stderr)
        return 2


def _announce(app: Parley, url: str, stream: Any) -> None:
    """The port file first: whoever reads the listening line may look for the file at once."""
    if app.settings.port_file:
        startup.write_port_file(app.settings.port_file, url)
    print(f"parley: listening on {url}", file=stream, flush=True)
    if app.settings.ui:  # the console's address follows (scripts wait for the first line)
        print(f"parley: console at {url}/_parley/ui/", file=stream, flush=True)


async def _serve(app: Parley, sock: socket.socket) -> int:
    server = uvicorn_server(app, app.settings.limits)
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


class _Stopper:
    """SIGINT/SIGTERM while `parley exec` runs: before the command starts, it is not started; while it runs,
    the signal is passed to it, and Parley stops once it has exited."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.process: asyncio.subprocess.Process | None = None

    def __call__(self, signum: int) -> None:
        self.signal = signum
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signum)


async def _run_command(app: Parley, url: str, command_line: list[str], stopper: _Stopper) -> int:
    env = startup.sdk_environment(url, app.settings.region)
    try:
        stopper.process = await asyncio.create_subprocess_exec(*command_line, env=env)
    except OSError as exc:
        print(f"parley: cannot run {command_line[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    if stopper.signal is not None:  # arrived while the command was being started
        stopper.process.send_signal(stopper.signal)
    return _exit_status(await stopper.process.wait())


async def _exec(app: Parley, sock: socket.socket, command_line: list[str]) -> int:
    server = uvicorn_server(app, app.settings.limits)
    url = url_of(sock)
    stopper = _Stopper()
    loop = asyncio.get_running_loop()
    for signum in SIGNALS:
        loop.add_signal_handler(signum, stopper, signum)
    status = 1

    async def started() -> None:
        nonlocal status
        _announce(app, url, sys.stderr)
        await startup.prepare(app, url)
        if stopper.signal is None:
            status = await _run_command(app, url, command_line, stopper)
        else:
            status = 128 + stopper.signal
        server.should_exit = True

    try:
        await run(server, sock, started)
    except startup.StartupError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 1
    return status


def main(flags: dict[str, Any], command_line: list[str] | None) -> int:
    """`parley serve` (`command_line` None) or `parley exec … -- command_line`; the exit status."""
    executing = command_line is not None
    started = _start(flags, {"port": 0} if executing else {}, sys.stderr if executing else None)
    gc.freeze()  # what start-up made lives as long as the server: later collections need not scan it
    gc.enable()  # the CLI disabled it for start-up
    if isinstance(started, int):
        return started
    app, sock = started
    try:
        return uvloop.run(_exec(app, sock, command_line) if command_line is not None else _serve(app, sock))
    except KeyboardInterrupt:
        return 130 if executing else 0
    finally:
        app.close()
        sock.close()
        if app.settings.port_file:
            startup.remove_port_file(app.settings.port_file)
