"""An in-process Parley for tests: `parley serve`'s own stack (serving.py, app.build_app) on a background thread.

Owns that thread and the server's lifetime (socket, event loop, store), plus small conveniences for
tests: boto3 clients, SDK environment variables and an admin API client. Knows nothing about pytest
(pytest_plugin.py builds on this) and imports boto3 only when a client is asked for.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from parley.settings import Settings, SettingsError, configure

if TYPE_CHECKING:
    import socket

    from parley.app import Parley
    from parley.serving import UvicornServer

DUMMY_KEY = "test"
SERVICES = ("connect", "connectparticipant")


class ParleyServerError(RuntimeError):
    """The in-process server could not start, or was used while stopped."""


class ResetUnavailable(ParleyServerError):
    """This Parley has no `POST /_parley/reset`."""


class AdminClient:
    """The admin API (`/_parley/…`) over HTTP: JSON in, JSON out."""

    def __init__(self, base_url: str, admin_token: str | None = None) -> None:
        self.base_url = base_url
        self._token = admin_token  # sent to a server bound beyond loopback (--admin-token)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, decoded JSON body) for any status; raises only when the server cannot be reached."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if self._token:
            request.add_header("x-parley-admin-token", self._token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _json(error.read())

    def reset(self) -> None:
        """Wipes the server's state (`POST /_parley/reset`); settings are kept."""
        status, payload = self.request("POST", "/_parley/reset", {})
        if status == 404:
            raise ResetUnavailable(
                f"Parley at {self.base_url} has no POST /_parley/reset (answered 404: {payload}); "
                "this version cannot reset state between tests"
            )
        if status >= 300:
            raise ParleyServerError(f"POST /_parley/reset answered {status}: {payload}")

    def agent(self, contact_id: str, action: str, **fields: Any) -> Any:
        """An agent action on a contact (`join`, `leave`, …), e.g. `agent(cid, "join", displayName="Ann")`."""
        return self._action(contact_id, "agent", action, fields)

    def supervisor(self, contact_id: str, action: str, **fields: Any) -> Any:
        return self._action(contact_id, "supervisor", action, fields)

    def _action(self, contact_id: str, role: str, action: str, fields: dict[str, Any]) -> Any:
        status, payload = self.request("POST", f"/_parley/contacts/{contact_id}/{role}", {"action": action, **fields})
        if status >= 300:
            raise ParleyServerError(f"{role} {action} on {contact_id} answered {status}: {payload}")
        return payload


class ParleyClock:
    """The server's virtual clock (`--clock virtual`) over the admin API: read it, move it. Moving it runs
    every timer that comes due (chat expiry, connect windows) before the call returns."""

    def __init__(self, admin: AdminClient) -> None:
        self._admin = admin

    def _call(self, method: str, body: dict[str, Any] | None = None) -> datetime:
        status, payload = self._admin.request(method, "/_parley/clock", body)
        if status >= 300:
            raise ParleyServerError(f"{method} /_parley/clock answered {status}: {payload}")
        return datetime.fromisoformat(str(payload["now"]).replace("Z", "+00:00"))

    @property
    def virtual(self) -> bool:
        status, payload = self._admin.request("GET", "/_parley/clock")
        return status == 200 and bool(payload.get("virtual"))

    def now(self) -> datetime:
        return self._call("GET")

    def advance(self, by: float | timedelta | str) -> datetime:
        """By seconds, a timedelta, or an ISO-8601 duration such as `PT90S`."""
        amount: float | str = by.total_seconds() if isinstance(by, timedelta) else by
        return self._call("POST", {"advance": amount})

    def set(self, moment: datetime | str) -> datetime:
        text = moment.isoformat() if isinstance(moment, datetime) else moment
        return self._call("POST", {"set": text})


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


class ParleyServer:
    """`with ParleyServer(port=0) as server:` serves until the block ends; `start()`/`stop()` work too.

    Keywords are the settings of `parley serve` by their Python names (`data_dir`, `account_id`,
    `region`, `quota_instances`, `cors_origins`, …). Unlike the CLI it listens on a free port by default
    and does not read PARLEY_* variables. A taken port raises `BindError` at once.

    `lambdas={"startBot": handler}` runs the Lambda functions flows invoke in this process: a key is a function
    name, `name:qualifier` or a full ARN; a value is a Python callable `handler(event, context)` (or a coroutine
    function), or a target text as `--lambda` takes (`http://HOST/PATH`, `package.module:function`). Unlike
    `parley serve`, it never sets AWS_* variables for handlers: use the `parley_env` fixture or `server.env`.

    `sns={"chatStreaming": target}` routes a streamed topic (by name or ARN): a target text as `--sns` takes
    (`http://HOST/PATH`, `lambda:NAME` — run like `lambdas=` — `capture`, `drop`, with `;filter=JSON`) or a
    Python callable receiving each notification."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        lambdas: Mapping[str, Callable[..., Any] | str] | None = None,
        sns: Mapping[str, str | Callable[[dict[str, Any]], Any]] | None = None,
        **settings: Any,
    ):
        wrong = sorted(
            name for name, target in (lambdas or {}).items() if not (isinstance(target, str) or callable(target))
        )
        if wrong:
            raise SettingsError(f"lambdas: {wrong[0]} must map to a callable or a target text, not a value")
        texts = {name: target for name, target in (lambdas or {}).items() if isinstance(target, str)}
        self.lambdas: dict[str, Callable[..., Any]] = {
            name: target for name, target in (lambdas or {}).items() if not isinstance(target, str)
        }
        if texts:
            settings["lambdas"] = texts
        routes = [f"{key}={value}" for key, value in (sns or {}).items() if isinstance(value, str)]
        if routes:
            settings["sns_targets"] = "\n".join(routes)
        self._sns_callables = {key: value for key, value in (sns or {}).items() if not isinstance(value, str)}
        self.settings: Settings = configure(host=host, port=port, **settings)
        self.startup_timeout = startup_timeout
        self._url: str | None = None
        self._thread: threading.Thread | None = None
        self._server: UvicornServer | None = None
        self._failure: BaseException | None = None
        self._boto_session: Any = None

    def __enter__(self) -> ParleyServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ParleyServer({self._url or 'stopped'})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def endpoint_url(self) -> str:
        """`http://127.0.0.1:<port>`: the endpoint for both services, the WebSocket and the admin API."""
        if self._url is None:
            raise ParleyServerError("the Parley server is not running; call start() or use `with`")
        return self._url

    @property
    def host(self) -> str:
        return self.endpoint_url.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[1])

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.endpoint_url, self.settings.admin_token)

    @property
    def env(self) -> dict[str, str]:
        """What an SDK in a subprocess needs, to merge into its environment (e.g. `{**parent_env, **server.env}`)."""
        url = self.endpoint_url
        return {
            "AWS_ENDPOINT_URL_CONNECT": url,
            "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": url,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def start(self) -> ParleyServer:
        """Binds, builds the app, serves on a daemon thread and returns once requests are accepted."""
        if self._thread is not None:
            raise ParleyServerError(f"{self!r} is already started")
        from parley.app import build_app  # deferred: `import parley.testing` stays cheap
        from parley.serving import bind, url_of, uvicorn_server

        sock = bind(self.settings.host, self.settings.port)
        try:
            app = build_app(
                self.settings,
                lambdas=self.lambdas,
                sns_callables=self._sns_callables,
            )
            if not self.settings.public_url:
                app.streamer.base_url = url_of(sock)
        except BaseException:
            sock.close()
            raise
        self._server = uvicorn_server(app, app.settings.limits)
        self._failure = None
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(app, sock, ready), name=f"parley-server-{sock.getsockname()[1]}", daemon=True
        )
        self._thread.start()
        self._await_start(ready)
        self._url = url_of(sock)
        return self

    def _await_start(self, ready: threading.Event) -> None:
        assert self._server is not None
        if ready.wait(self.startup_timeout) and self._server.started and self._failure is None:
            return
        failure = self._failure
        self.stop()
        if failure is not None:
            raise ParleyServerError(f"the Parley server failed to start: {failure!r}") from failure
        raise ParleyServerError(f"the Parley server did not start within {self.startup_timeout} s")

    def _serve(self, app: Parley, sock: socket.socket, ready: threading.Event) -> None:
        import uvloop

        from parley.serving import run, url_of
        from parley.startup import prepare

        assert self._server is not None

        async def started() -> None:  # --import and --init (`import_file`, `init_dir`) before start() returns
            await prepare(app, url_of(sock))
            ready.set()

        try:
            uvloop.run(run(self._server, sock, started))
        except BaseException as exc:  # reported by start(); a thread has nobody else to tell
            self._failure = exc
        finally:
            app.close()
            sock.close()
            ready.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful shutdown: stop accepting, finish requests, close the store, free the port. Idempotent."""
        thread, server = self._thread, self._server
        if thread is None or server is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._thread = self._server = self._url = None
        if thread.is_alive():
            raise ParleyServerError(f"the Parley server thread did not stop within {2 * timeout} s")

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client for `connect` or `connectparticipant` (unsigned), with dummy credentials.

        `options` go to `boto3.Session.client` and win, e.g. `aws_access_key_id="111122223333"` for a
        separate account (Parley scopes state by a 12-digit access key id)."""
        if service not in SERVICES:
            raise ValueError(f"Parley serves {' and '.join(SERVICES)}, not {service!r}")
        defaults: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "aws_access_key_id": DUMMY_KEY,
            "aws_secret_access_key": DUMMY_KEY,
        }
        if service == "connectparticipant" and "config" not in options:
            defaults["config"] = _unsigned()
        return self._session().client(service, **{**defaults, **options})

    def _session(self) -> Any:
        if self._boto_session is None:
            try:
                import boto3
            except ImportError as exc:
                raise ImportError(f"{exc}; install it with: pip install 'parley[pytest]'") from exc
            self._boto_session = boto3.session.Session()
        return self._boto_session


def _unsigned() -> Any:
    from botocore import UNSIGNED
    from botocore.config import Config

    return Config(signature_version=UNSIGNED)
