"""What happens around serving: the SDK environment `parley exec` and init scripts get, the port file,
and the start-up work of `--import FILE` and `--init DIR` once the server listens.

`prepare()` runs on the server's own event loop after it accepts requests (scripts call it over HTTP)
and before `/_parley/ready` answers 200, so `parley wait` waits for it. A snapshot that is refused or a
script that fails raises `StartupError` naming the file and the problem; the caller stops the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from parley.services.snapshots import SnapshotError
from parley.settings import inherited_environment

if TYPE_CHECKING:
    from parley.app import Parley

log = logging.getLogger("parley.init")
DUMMY_KEY = "test"
DROPPED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")  # would send calls elsewhere or sign oddly
SNAPSHOT_SUFFIXES = (".json",)
SCRIPT_SUFFIXES = (".sh", ".py")


class StartupError(Exception):
    """Start-up cannot complete; the message names the file and the problem."""


def sdk_environment(url: str, region: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with every SDK and the AWS CLI pointed at `url`:
    both services' endpoints, dummy credentials, the region, and PARLEY_ENDPOINT_URL for `parley …`."""
    env = {k: v for k, v in (inherited_environment() if base is None else base).items() if k not in DROPPED}
    env.update(
        {
            "AWS_ENDPOINT_URL_CONNECT": url,
            "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": url,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "PARLEY_ENDPOINT_URL": url,
        }
    )
    return env


def write_port_file(path: str, url: str) -> None:
    """The URL, written whole (a reader polling for the file never sees half of it)."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(url)
    os.replace(partial, target)


def remove_port_file(path: str) -> None:
    Path(path).unlink(missing_ok=True)


async def prepare(app: Parley, url: str) -> None:
    """`--import FILE`, then `--init DIR`'s files in name order; then the server is ready."""
    settings = app.settings
    if settings.import_file:
        await _import(app, Path(settings.import_file), "--import")
    if settings.init_dir:
        for path in _init_files(Path(settings.init_dir)):
            if path.suffix in SNAPSHOT_SUFFIXES:
                await _import(app, path, "--init")
            else:
                await _script(path, sdk_environment(url, settings.region))
    app.admin.ready = True


def _init_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise StartupError(f"--init {directory}: no such directory")
    wanted = (*SNAPSHOT_SUFFIXES, *SCRIPT_SUFFIXES)
    return sorted((p for p in directory.iterdir() if p.is_file() and p.suffix in wanted), key=lambda p: p.name)


async def _import(app: Parley, path: Path, how: str) -> None:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise StartupError(f"{how} {path}: cannot read it: {error.strerror or error}") from None
    try:
        answer = await app.snapshots.import_document(raw)
    except SnapshotError as error:
        raise StartupError(f"{how} {path}: {error}; nothing was imported") from None
    counts = ", ".join(f"{n} {table}" for table, n in answer["imported"].items() if n)
    log.info("imported %s (%s)", path, counts or "nothing")


def _interpreter(path: Path) -> list[str]:
    if path.suffix == ".py":
        return [sys.executable]
    return [shutil.which("bash") or "sh"]


def _stdout_for_scripts() -> int | None:
    """Scripts print to our stderr: stdout carries the request lines (JSON ones with --log-format json)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a test runner's captured stream: inherit instead
        return None


async def _script(path: Path, env: dict[str, str]) -> None:
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *_interpreter(path), str(path.resolve()), cwd=path.parent, env=env, stdout=_stdout_for_scripts()
        )
    except OSError as error:
        raise StartupError(f"--init {path}: cannot run it: {error.strerror or error}") from None
    code = await process.wait()
    if code != 0:
        raise StartupError(f"--init {path}: the script failed (exit status {code})")
    log.info("ran %s (%.1f s)", path, time.monotonic() - started)
